// Runs against a live `humortune serve` (e.g. `--offline`): HUMORTUNE_URL, HUMORTUNE_API_TOKEN, and optionally
// HUMORTUNE_VIDEO (a stored clip's sha256 or gs:// URI; default: a gs:// URI the offline fake answers).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  analyze,
  createHumortuneClient,
  HumortuneApiError,
  type Analysis,
  type ErrorBody,
  type HumorRecord,
} from "../src/index.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (the URL and token of a running humortune serve)`);
  return value;
}

const url = required("HUMORTUNE_URL");
const humortune = createHumortuneClient(url, required("HUMORTUNE_API_TOKEN"));
const video = process.env.HUMORTUNE_VIDEO ?? "gs://my-bucket/training/videos/7301234567890123456.mp4";
const categories: readonly HumorRecord["category"][] = ["comedy", "wholesome", "relatable", "clever", "chaotic"];

test("healthz names the model it serves", async () => {
  const { data, error } = await humortune.GET("/healthz");
  assert.equal(error, undefined);
  assert.ok(data);
  assert.equal(data.status, "ok");
  assert.ok(data.model.length > 0 && ["tuned", "base"].includes(data.model_kind));
});

test("analyse a stored clip, then fetch it by id with the record's typed fields", async () => {
  const first: Analysis = await analyze(humortune, { video }); // the minimal documented body
  assert.match(first.id, /^an-[0-9a-f]{16}$/);
  assert.ok(first.narrative.length > 0);
  assert.ok(first.usage.total_tokens >= 0 && Array.isArray(first.warnings));
  assert.ok(!Number.isNaN(Date.parse(first.created_at)));
  const record: HumorRecord | null = first.record;
  assert.ok(record, "two-stage mode always has a record");
  assert.ok(categories.includes(record.category));
  assert.equal(typeof record.replicable, "boolean");
  assert.ok(record.mechanism.length > 0);

  const { data, error } = await humortune.GET("/v1/analyses/{analysis_id}", {
    params: { path: { analysis_id: first.id } },
  });
  assert.equal(error, undefined);
  assert.ok(data);
  assert.equal(data.id, first.id);
  assert.equal(data.narrative, first.narrative);
  assert.deepEqual(data.record, first.record);
});

test("a bad request is a typed ErrorBody naming the fields", async () => {
  const { data, error, response } = await humortune.POST("/v1/analyze", {
    body: { video: "/etc/passwd", mode: "narrative" },
  });
  assert.equal(data, undefined);
  assert.equal(response.status, 422);
  const body: ErrorBody | undefined = error;
  assert.ok(body);
  assert.equal(body.error, "ValidationError");
  assert.deepEqual(body.fields, ["video"]);

  await assert.rejects(analyze(humortune, { video: "f".repeat(64) }), (thrown: unknown) => {
    assert.ok(thrown instanceof HumortuneApiError);
    assert.equal(thrown.status, 404);
    assert.equal(thrown.body.error, "NotFound");
    assert.equal(thrown.body.item, "f".repeat(64));
    return true;
  });
});

test("a wrong token is a typed 401", async () => {
  const stranger = createHumortuneClient(url, "not-the-token");
  const { error, response } = await stranger.GET("/v1/analyses/{analysis_id}", {
    params: { path: { analysis_id: "an-0123456789abcdef" } },
  });
  assert.equal(response.status, 401);
  assert.equal(error?.error, "Unauthorized");
});
