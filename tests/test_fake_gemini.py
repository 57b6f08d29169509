"""FakeGemini on its own: job state machines, Vertex-shaped bodies (proto-valid), memory, batch, persistence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humortune.analyzer.output import record_response_schema
from humortune.schema import HumorRecord
from humortune.testing import DATASET_ERROR_MESSAGE, FakeGemini
from humortune.testing._fake_content import fill_schema, mp4_duration, parse_narrative
from humortune.testing.fake_gemini import Reply
from humortune.testing.vertex_schema import VertexSchemaError, message_for, validate
from humortune.testing.videos import make_test_video
from tests._tuner_support import owner_row, write_jsonl

P = "/v1beta1/projects/demo-proj/locations/us-central1"


def call(fake: FakeGemini, method: str, path: str, body: dict[str, Any] | None = None, **query: str) -> Reply:
    raw = json.dumps(body).encode() if body is not None else b""
    reply = fake.handle(method, path, query, raw)
    if reply.status == 200:  # everything the fake answers must parse strictly as the real message
        name = message_for(method, path, response=True)
        assert name, path
        validate(name, reply.body)
    return reply


def create(fake: FakeGemini, **spec: Any) -> dict[str, Any]:
    body = {
        "baseModel": spec.pop("base", "gemini-2.5-flash"),
        "supervisedTuningSpec": {"trainingDatasetUri": spec.pop("train", "gs://b/train.jsonl"), **spec},
    }
    reply = call(fake, "POST", f"{P}/tuningJobs", body)
    assert reply.status == 200, reply.body
    return reply.body


def job_id(job: dict[str, Any]) -> str:
    return str(job["name"]).rsplit("/", 1)[-1]


def test_state_sequence_by_polls() -> None:
    fake = FakeGemini(pending=2, running=2, strict=True)
    job = create(fake, hyperParameters={"epochCount": 3, "adapterSize": "ADAPTER_SIZE_EIGHT"})
    states = [job["state"]]
    bodies = []
    for _ in range(5):
        body = call(fake, "GET", f"{P}/tuningJobs/{job_id(job)}").body
        states.append(body["state"])
        bodies.append(body)
    assert (
        states == ["JOB_STATE_PENDING", "JOB_STATE_PENDING"] + ["JOB_STATE_RUNNING"] * 2 + ["JOB_STATE_SUCCEEDED"] * 2
    )
    assert "tuningDataStats" not in bodies[0] and "tuningDataStats" in bodies[1]
    stats = bodies[-1]["tuningDataStats"]["supervisedTuningDataStats"]
    assert isinstance(stats["totalBillableTokenCount"], str)  # int64 travels as a JSON string
    tuned = bodies[-1]["tunedModel"]
    assert tuned["model"].endswith("@1") and "/endpoints/" in tuned["endpoint"]
    assert [c["epoch"] for c in tuned["checkpoints"]] == ["1", "2", "3"]
    assert tuned["checkpoints"][-1]["endpoint"] == tuned["endpoint"]


def test_state_sequence_by_clock() -> None:
    now = [0.0]
    fake = FakeGemini(pending=10, running=30, clock=lambda: now[0])
    job = create(fake)
    path = f"{P}/tuningJobs/{job_id(job)}"
    assert call(fake, "GET", path).body["state"] == "JOB_STATE_PENDING"
    assert call(fake, "GET", path).body["state"] == "JOB_STATE_PENDING"  # polls do not move a clocked job
    now[0] = 11
    assert call(fake, "GET", path).body["state"] == "JOB_STATE_RUNNING"
    now[0] = 41
    assert call(fake, "GET", path).body["state"] == "JOB_STATE_SUCCEEDED"


def test_failure_on_demand_carries_the_dataset_message() -> None:
    fake = FakeGemini(pending=1)
    fake.fail_next_job()
    job = create(fake)
    body = call(fake, "GET", f"{P}/tuningJobs/{job_id(job)}").body
    assert body["state"] == "JOB_STATE_FAILED"
    assert body["error"] == {"code": 3, "message": DATASET_ERROR_MESSAGE}
    assert "tunedModel" not in body
    assert create(fake)["state"] == "JOB_STATE_PENDING"  # only the next job fails
    assert call(fake, "GET", f"{P}/tuningJobs/{job_id(create(fake))}").body["state"] == "JOB_STATE_RUNNING"


def test_a_broken_local_dataset_fails_like_vertex(tmp_path: Path) -> None:
    rows: list[Any] = [owner_row(i) for i in range(6)] + ["{not json", '{"contents": []}']
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    fake = FakeGemini(pending=1)
    job = create(fake, train=train)
    body = call(fake, "GET", f"{P}/tuningJobs/{job_id(job)}").body
    assert body["state"] == "JOB_STATE_FAILED"
    assert "2 of 8 examples (25.0%)" in body["error"]["message"] and "10%" in body["error"]["message"]


def test_uris_outside_cloud_storage_are_rejected() -> None:
    fake = FakeGemini(allow_file_uris=False)
    reply = fake.handle(
        "POST",
        f"{P}/tuningJobs",
        {},
        json.dumps(
            {"baseModel": "gemini-2.5-flash", "supervisedTuningSpec": {"trainingDatasetUri": "file:///x/train.jsonl"}}
        ).encode(),
    )
    assert reply.status == 400
    assert "training_dataset_uri should be a GCS object of type JSONL" in reply.body["error"]["message"]


def test_strict_mode_rejects_unknown_fields_like_the_service() -> None:
    spec: dict[str, Any] = {"trainingDatasetUri": "gs://b/t.jsonl", "hyperParameters": {"epochCounts": 3}}  # typo
    body = {"baseModel": "gemini-2.5-flash", "supervisedTuningSpec": spec}
    assert FakeGemini(strict=True).handle("POST", f"{P}/tuningJobs", {}, json.dumps(body).encode()).status == 400
    assert FakeGemini(strict=False).handle("POST", f"{P}/tuningJobs", {}, json.dumps(body).encode()).status == 200
    with pytest.raises(VertexSchemaError, match="epochCounts"):
        validate("TuningJob", body)


def test_list_pages_newest_first() -> None:
    fake = FakeGemini()
    names = [create(fake)["name"] for _ in range(3)]
    first = call(fake, "GET", f"{P}/tuningJobs", pageSize="2").body
    assert len(first["tuningJobs"]) == 2 and first["nextPageToken"]
    rest = call(fake, "GET", f"{P}/tuningJobs", pageSize="2", pageToken=first["nextPageToken"]).body
    assert "nextPageToken" not in rest
    listed = [j["name"] for j in first["tuningJobs"] + rest["tuningJobs"]]
    assert sorted(listed) == sorted(names) and len(set(listed)) == 3


def test_cancel_running_then_ended() -> None:
    fake = FakeGemini(pending=1, running=5)
    job = create(fake)
    path = f"{P}/tuningJobs/{job_id(job)}"
    call(fake, "GET", path)
    assert call(fake, "POST", f"{path}:cancel").body == {}
    body = call(fake, "GET", path).body
    assert body["state"] == "JOB_STATE_CANCELLED" and body["error"]["code"] == 1
    again = fake.handle("POST", f"{path}:cancel", {}, b"")
    assert again.status == 400 and again.body["error"]["status"] == "FAILED_PRECONDITION"


def _words(text: str) -> set[str]:
    return {w.strip(".,").lower() for w in text.split() if len(w) > 3}


def test_tuned_endpoint_remembers_training_rows(tmp_path: Path) -> None:
    rows = [owner_row(i) for i in range(8)]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    fake = FakeGemini(pending=1, running=1)
    job = create(fake, train=train)
    done = [call(fake, "GET", f"{P}/tuningJobs/{job_id(job)}").body for _ in range(2)][-1]
    endpoint = done["tunedModel"]["endpoint"].split("/locations/us-central1/")[1]

    def ask(target: str, video: str) -> str:
        body = {"contents": [{"role": "user", "parts": [{"fileData": {"file_uri": video, "mime_type": "video/mp4"}}]}]}
        reply = call(fake, "POST", f"{P}/{target}:generateContent", body).body
        return str(reply["candidates"][0]["content"]["parts"][0]["text"])

    seen = rows[3]["contents"][0]["parts"][0]["fileData"]["fileUri"]
    owner = rows[3]["contents"][1]["parts"][0]["text"]
    assert ask(endpoint, seen) == owner
    owner_words = set().union(*(_words(r["contents"][1]["parts"][0]["text"]) for r in rows))
    unseen = [f"gs://b/new{i}.mp4" for i in range(10)]
    tuned = sum(len(_words(ask(endpoint, v)) & owner_words) for v in unseen)
    base = sum(len(_words(ask("publishers/google/models/gemini-2.5-flash", v)) & owner_words) for v in unseen)
    assert tuned > base
    assert all(parse_narrative(ask(endpoint, v)) for v in unseen)  # still the owner's form


def test_continued_tuning_needs_a_known_model(tmp_path: Path) -> None:
    fake = FakeGemini(pending=1, running=1)
    unknown = {
        "preTunedModel": {"tuned_model_name": "projects/demo-proj/locations/us-central1/models/1@1"},
        "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/t.jsonl"},
    }
    assert fake.handle("POST", f"{P}/tuningJobs", {}, json.dumps(unknown).encode()).status == 404
    job = create(fake)
    done = [call(fake, "GET", f"{P}/tuningJobs/{job_id(job)}").body for _ in range(2)][-1]
    follow = {
        "preTunedModel": {"tuned_model_name": done["tunedModel"]["model"], "checkpoint_id": "2"},
        "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/t2.jsonl"},
    }
    body = call(fake, "POST", f"{P}/tuningJobs", follow).body
    assert body["preTunedModel"]["baseModel"] == "gemini-2.5-flash"
    assert body["preTunedModel"]["checkpointId"] == "2"


def test_batch_job_writes_predictions_for_local_files(tmp_path: Path) -> None:
    requests = [
        {"request": {"contents": [{"role": "user", "parts": [{"fileData": {"fileUri": f"gs://b/{i}.mp4"}}]}]}}
        for i in range(3)
    ]
    src = write_jsonl(tmp_path / "in.jsonl", requests)
    dest = (tmp_path / "out").as_uri()
    fake = FakeGemini(pending=1, running=1)
    body = {
        "model": "publishers/google/models/gemini-2.5-flash",
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [src]}},
        "outputConfig": {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": dest}},
    }
    job = call(fake, "POST", f"{P}/batchPredictionJobs", body).body
    path = f"{P}/batchPredictionJobs/{job_id(job)}"
    done = [call(fake, "GET", path).body for _ in range(2)][-1]
    assert done["state"] == "JOB_STATE_SUCCEEDED" and done["completionStats"]["successfulCount"] == "3"
    out_dir = Path(done["outputInfo"]["gcsOutputDirectory"].removeprefix("file://"))
    lines = [json.loads(x) for x in (out_dir / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and all(x["response"]["candidates"][0]["finishReason"] == "STOP" for x in lines)


def test_batch_job_rejects_an_endpoint_as_its_model(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"request": {"contents": []}}])
    body = {
        "model": "projects/demo-proj/locations/us-central1/endpoints/123",
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [src]}},
        "outputConfig": {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": tmp_path.as_uri()}},
    }
    reply = call(FakeGemini(), "POST", f"{P}/batchPredictionJobs", body)
    assert reply.status == 400 and reply.body["error"]["status"] == "INVALID_ARGUMENT"
    assert "models/" in reply.body["error"]["message"]


def test_state_survives_a_new_process(tmp_path: Path) -> None:
    state = tmp_path / "fake.json"
    first = FakeGemini(pending=1, running=1, state_path=state)
    job = create(first)
    second = FakeGemini(pending=1, running=1, state_path=state)
    assert call(second, "GET", f"{P}/tuningJobs/{job_id(job)}").body["state"] == "JOB_STATE_RUNNING"
    third = FakeGemini(pending=1, running=1, state_path=state)
    assert call(third, "GET", f"{P}/tuningJobs/{job_id(job)}").body["state"] == "JOB_STATE_SUCCEEDED"
    assert job_id(create(third)) != job_id(job)  # the id counter persists too


def test_pretend_eval_loss_prefers_more_training() -> None:
    from humortune.gemini import TuningJobInfo

    def info(epochs: int, lr: float) -> TuningJobInfo:
        checkpoints = [{"checkpoint_id": str(e), "epoch": e, "step": e} for e in range(1, epochs + 1)]
        return TuningJobInfo(
            name="projects/p/locations/l/tuningJobs/1",
            state="JOB_STATE_SUCCEEDED",
            checkpoints=checkpoints,
            hyperparameters={"learning_rate_multiplier": lr, "adapter_size": "ADAPTER_SIZE_EIGHT"},
        )

    fake = FakeGemini()
    short, long = fake.training_metrics(info(3, 0.5)), fake.training_metrics(info(4, 1.0))
    assert short and long and long["eval_loss"] < short["eval_loss"]
    assert fake.training_metrics(info(4, 1.0)) == long
    assert set(long["eval_loss_by_checkpoint"]) == {"1", "2", "3", "4"}


def test_mp4_duration_reads_the_movie_header(tmp_path: Path) -> None:
    clip = make_test_video(tmp_path / "clip.mp4", seconds=3.0)
    assert mp4_duration(clip.read_bytes()) == pytest.approx(3.0, abs=0.1)
    assert mp4_duration(b"not a video") is None


def test_a_record_from_a_long_owner_clause_has_a_short_mechanism() -> None:
    """Owner narratives open with a whole clause; the fake's record must still validate (README flake)."""
    clause = "att gästen försöker äta en enorm hamburgare elegant med kniv och gaffel och misslyckas steg för steg"
    narrative = f"Det roliga i detta klipp är {clause}. Han ger upp. Det fungerar för att alla känner igen det."
    record = fill_schema(record_response_schema(), seed="file:///anywhere/clip.mp4", narrative=narrative)
    assert record["mechanism"] == " ".join(clause.split()[:10])
    HumorRecord.model_validate(record)


def _analyse(fake: FakeGemini, uri: str) -> dict[str, Any]:
    config = {"responseMimeType": "application/json", "responseSchema": record_response_schema()}
    body = {
        "contents": [{"role": "user", "parts": [{"fileData": {"fileUri": uri, "mimeType": "video/mp4"}}]}],
        "generationConfig": config,
    }
    reply = call(fake, "POST", f"{P}/publishers/google/models/gemini-2.5-flash:generateContent", body)
    assert reply.status == 200, reply.body
    return reply.body


def test_answers_depend_on_the_clip_not_where_it_is_stored(tmp_path: Path) -> None:
    import hashlib

    first = make_test_video(tmp_path / "machine-a" / "deep" / "clip.mp4", seed=3)
    second = tmp_path / "machine-b" / "other-name.mp4"
    second.parent.mkdir()
    second.write_bytes(first.read_bytes())
    stored = f"gs://bucket/training/videos/{hashlib.sha256(first.read_bytes()).hexdigest()}.mp4"
    fake = FakeGemini()
    answers = [_analyse(fake, uri) for uri in (first.as_uri(), second.as_uri(), stored)]
    assert answers[0] == answers[1]  # text, record, usage and response id alike
    # From storage the fake cannot read the bytes (so not the duration either), but the text is the same clip's
    assert answers[2]["candidates"] == answers[0]["candidates"]
    other = make_test_video(tmp_path / "machine-a" / "deep" / "clip2.mp4", seed=4)
    assert _analyse(fake, other.as_uri()) != answers[0]
