"""FakeGemini's long-running jobs: tuning and batch prediction state machines, optionally persisted.

Bodies are Vertex REST JSON (camelCase, int64 as strings) that validate strictly as Vertex AI
``TuningJob`` / ``BatchPredictionJob`` messages.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

import humortune.catalog as catalog
from humortune._util import atomic_write
from humortune.testing import _fake_content as content

__all__ = ["JobBook", "JsonFileState", "Reply", "StateBackend", "error", "rfc3339"]

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
# Vertex's REST enum, written out here rather than taken from the tuner: the fake checks the client's encoding.
_ADAPTER_VALUE = {
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 2,
    "ADAPTER_SIZE_FOUR": 4,
    "ADAPTER_SIZE_EIGHT": 8,
    "ADAPTER_SIZE_SIXTEEN": 16,
    "ADAPTER_SIZE_THIRTY_TWO": 32,
}
_TUNABLE = {m.id: m for m in catalog.MODELS.values() if m.video_tuning}  # the catalog's video-tunable models
_BATCH_SIZE = 8  # pretend examples per step
_Generate = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class Reply:
    """One HTTP answer of the fake."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def error(code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """A Google-style JSON error answer."""
    body = {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}
    return Reply(code, body, headers or {})


def rfc3339(seconds: float) -> str:
    """RFC 3339 UTC timestamp with microseconds and ``Z``, as Vertex writes them."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _snake(d: dict[str, Any], camel: str) -> Any:
    # google-genai 2.x sends some nested keys in snake_case (preTunedModel, fileData): accept both.
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return d.get(camel, d.get(snake))


class StateBackend(Protocol):
    """Where a persistent fake keeps its jobs: one JSON object, read whole and rewritten whole.

    `edit` must make its read-modify-write atomic against every other process using the same backend (a
    database transaction holding a write lock, a file lock): two processes creating jobs at once must not lose
    one another's job. The workspace's backend is the database (``humortune.app``); `JsonFileState` is a file.
    """

    def read(self) -> dict[str, Any] | None:
        """The state as last stored, or ``None`` when nothing is stored yet."""
        ...

    def edit(self) -> AbstractContextManager[dict[str, Any]]:
        """Yield the stored state (``{}`` when there is none) and store it as the block leaves it."""
        ...


class JsonFileState:
    """A `StateBackend` in one local JSON file (atomic rewrites under an ``flock`` on ``<file>.lock``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        value = json.loads(self.path.read_text("utf-8"))
        return value if isinstance(value, dict) else None

    @contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            value = self.read() or {}
            yield value
            with atomic_write(self.path, "w") as fh:
                fh.write(json.dumps(value, ensure_ascii=False))
        finally:
            os.close(fd)  # closing releases the lock


def _fresh_state() -> dict[str, Any]:
    return {"counter": 0, "tuning": {}, "batch": {}, "memories": {}, "fail_next": None}


class JobBook:
    """Tuning and batch jobs of one fake project/region.

    With a ``store``, every request runs in a `session`: it reads the stored state first, and a request that
    changes jobs (create, poll, cancel) writes it back in the same atomic edit, so several processes (or
    machines sharing the store) share one set of jobs. Without one, the jobs live in this object only.
    """

    def __init__(
        self,
        *,
        project: str,
        location: str,
        pending: float,
        running: float,
        clock: Callable[[], float] | None,
        allow_file_uris: bool,
        reader: Callable[[str], bytes | None],
        store: StateBackend | None,
    ) -> None:
        self.project, self.location = project, location
        self.pending, self.running = pending, running
        self.clock = clock
        self.allow_file_uris = allow_file_uris
        self.reader = reader
        self.store = store
        self.state: dict[str, Any] = _fresh_state()
        self._depth = 0  # sessions nest: a control call inside a request joins the request's session

    # -- bookkeeping ---------------------------------------------------------------------------------

    @contextmanager
    def session(self, *, write: bool) -> Iterator[None]:
        """Run one request against the stored state: a fresh read, or (``write``) an atomic read-modify-write.

        The caller serialises sessions of this object (`FakeGemini` holds its lock around them).
        """
        if self.store is None or self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if not write:
            self.state = _fresh_state() | (self.store.read() or {})
            yield
            return
        with self.store.edit() as stored:
            self.state = _fresh_state() | stored
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            stored.clear()
            stored.update(self.state)

    def _new_id(self, kind: str) -> str:
        self.state["counter"] += 1
        return str(10**18 + content.seed_int(kind, self.project, str(self.state["counter"])) % (8 * 10**18))

    def _now(self) -> float:
        return self.clock() if self.clock else 0.0

    def _step(self, rec: dict[str, Any]) -> float:
        return (self._now() - rec["t0_clock"]) if self.clock else float(rec["polls"])

    def _wall(self, rec: dict[str, Any], step: float) -> float:
        # Timestamps advance with the schedule: one poll (or one clock second) is one pretend minute.
        return float(rec["t0_wall"]) + step * (1.0 if self.clock else 60.0)

    def _prefix(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    def fail_next(self, message: str, code: int) -> None:
        """The next tuning job fails with ``message``."""
        with self.session(write=True):
            self.state["fail_next"] = [message, code]

    def remember(self, train_uri: str, memory: dict[str, str]) -> None:
        """Rows for a dataset URI the reader cannot open."""
        with self.session(write=True):
            self.state["memories"][train_uri] = memory

    # -- tuning --------------------------------------------------------------------------------------

    def create_tuning(self, body: dict[str, Any]) -> Reply:
        """POST tuningJobs."""
        spec = body.get("supervisedTuningSpec") or {}
        hp = spec.get("hyperParameters") or {}
        pre = body.get("preTunedModel")
        parent: dict[str, Any] | None = None
        if pre:
            parent_name = str(_snake(pre, "tunedModelName") or "")
            parent = self._job_for_model(parent_name)
            if parent is None:
                return error(404, f"Model {parent_name} not found.")
            checkpoint = _snake(pre, "checkpointId")
            if checkpoint and str(checkpoint) not in {c["checkpointId"] for c in parent["checkpoints"]}:
                return error(400, f"Checkpoint {checkpoint} not found in model {parent_name}.")
            base = parent["base_model"]
        else:
            base = str(body.get("baseModel") or "")
            if base.rsplit("/", 1)[-1] not in _TUNABLE:
                return error(400, f"Base model {base} is not supported for supervised tuning.")
        problems = [
            f"{i}.Field: tuning_job.supervised_tuning_spec.{key}; Message: {key} should be a GCS object of type JSONL."
            for i, key in enumerate(("training_dataset_uri", "validation_dataset_uri"), 1)
            if (uri := spec.get(key.replace("_dataset_uri", "DatasetUri"))) is not None
            and not self._readable_scheme(uri)
        ]
        if not spec.get("trainingDatasetUri"):
            problems.insert(0, "Field: tuning_job.supervised_tuning_spec.training_dataset_uri; Message: required.")
        if problems:
            return error(400, "List of found errors:\t" + "\t".join(problems) + "\t")
        adapter = hp.get("adapterSize")
        if adapter is not None and _ADAPTER_VALUE.get(adapter) not in _TUNABLE[base.rsplit("/", 1)[-1]].adapter_sizes:
            return error(400, "The adapter size is not supported for this base model.")
        train_uri = str(spec["trainingDatasetUri"])
        rows, tokens, invalid = self._dataset(train_uri)
        memory = dict(parent["memory"]) if parent else {}
        memory.update(self.state["memories"].get(train_uri) or self._memory(train_uri))
        fail = self.state.pop("fail_next", None)
        self.state["fail_next"] = None
        if fail is None and rows and invalid / rows > 0.1:
            fail = [
                f"Dataset validation failed: {invalid} of {rows} examples ({100 * invalid / rows:.1f}%) in the "
                f"training dataset {train_uri} are invalid, more than the 10% allowed.",
                3,
            ]
        job_id = self._new_id("tuning")
        epochs = int(hp.get("epochCount") or (5 if rows < 100 else 3))
        rec = {
            "id": job_id,
            "name": f"{self._prefix()}/tuningJobs/{job_id}",
            "request": body,
            "base_model": base,
            "polls": 0,
            "t0_clock": self._now(),
            "t0_wall": time.time(),
            "fail": fail,
            "cancelled_at": None,
            "rows": rows or 12,
            "tokens": tokens or 12 * 2400,
            "epochs": epochs,
            "memory": memory,
            "model": f"{self._prefix()}/models/{self._new_id('model')}@1",
            "checkpoints": [],
        }
        steps_per_epoch = max(1, math.ceil(rec["rows"] / _BATCH_SIZE))
        last_only = bool(spec.get("exportLastCheckpointOnly"))
        endpoints = [f"{self._prefix()}/endpoints/{self._new_id('endpoint')}" for _ in range(epochs)]
        rec["endpoint"] = endpoints[-1]
        rec["checkpoints"] = [
            {"checkpointId": str(e), "epoch": str(e), "step": str(e * steps_per_epoch), "endpoint": endpoints[e - 1]}
            for e in range(1, epochs + 1)
            if not last_only or e == epochs
        ]
        self.state["tuning"][job_id] = rec
        return Reply(200, self._render(rec))

    def get_tuning(self, job_id: str) -> Reply:
        """GET tuningJobs/{id}: one poll."""
        rec = self.state["tuning"].get(job_id)
        if rec is None:
            return error(404, f"TuningJob {self._prefix()}/tuningJobs/{job_id} does not exist.")
        rec["polls"] += 1
        return Reply(200, self._render(rec))

    def list_tuning(self, page_size: int, token: str) -> Reply:
        """GET tuningJobs?pageSize=…&pageToken=…, newest first."""
        recs = sorted(self.state["tuning"].values(), key=lambda r: (r["t0_wall"], r["id"]), reverse=True)
        start = int(token or 0)
        page = recs[start : start + max(1, page_size)]
        body: dict[str, Any] = {"tuningJobs": [self._render(r) for r in page]}
        if start + len(page) < len(recs):
            body["nextPageToken"] = str(start + len(page))
        return Reply(200, body)

    def cancel_tuning(self, job_id: str) -> Reply:
        """POST tuningJobs/{id}:cancel (best effort; ended jobs answer FAILED_PRECONDITION)."""
        rec = self.state["tuning"].get(job_id)
        if rec is None:
            return error(404, f"TuningJob {self._prefix()}/tuningJobs/{job_id} does not exist.")
        state = self._state(rec)
        if state in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
            reply = error(400, f"Cannot cancel tuning job {rec['name']} because it is in state {state}.")
            reply.body["error"]["status"] = "FAILED_PRECONDITION"
            return reply
        rec["cancelled_at"] = self._step(rec)
        return Reply(200, {})

    def _state(self, rec: dict[str, Any]) -> str:
        step = self._step(rec)
        if rec["cancelled_at"] is not None:
            return "JOB_STATE_CANCELLED"
        if step < self.pending:
            return "JOB_STATE_PENDING"
        if rec["fail"]:
            return "JOB_STATE_FAILED"
        if step < self.pending + self.running:
            return "JOB_STATE_RUNNING"
        return "JOB_STATE_SUCCEEDED"

    def _render(self, rec: dict[str, Any]) -> dict[str, Any]:
        request = rec["request"]
        spec_in = request.get("supervisedTuningSpec") or {}
        hp_in = spec_in.get("hyperParameters") or {}
        state = self._state(rec)
        step = self._step(rec)
        job: dict[str, Any] = {"name": rec["name"]}
        if request.get("preTunedModel"):
            pre = request["preTunedModel"]
            job["preTunedModel"] = {"tunedModelName": _snake(pre, "tunedModelName"), "baseModel": rec["base_model"]}
            if _snake(pre, "checkpointId"):
                job["preTunedModel"]["checkpointId"] = str(_snake(pre, "checkpointId"))
        else:
            job["baseModel"] = rec["base_model"]
        for key in ("tunedModelDisplayName", "description", "labels", "serviceAccount"):
            if request.get(key):
                job[key] = request[key]
        spec: dict[str, Any] = {"trainingDatasetUri": spec_in.get("trainingDatasetUri")}
        if spec_in.get("validationDatasetUri"):
            spec["validationDatasetUri"] = spec_in["validationDatasetUri"]
        spec["hyperParameters"] = {
            "epochCount": str(rec["epochs"]),
            "learningRateMultiplier": hp_in.get("learningRateMultiplier", 1.0),
            "adapterSize": hp_in.get("adapterSize", "ADAPTER_SIZE_FOUR"),
        }
        if "exportLastCheckpointOnly" in spec_in:
            spec["exportLastCheckpointOnly"] = spec_in["exportLastCheckpointOnly"]
        job["supervisedTuningSpec"] = spec
        job["state"] = state
        job["createTime"] = rfc3339(rec["t0_wall"])
        job["updateTime"] = rfc3339(self._wall(rec, step))
        if state != "JOB_STATE_PENDING":
            job["startTime"] = rfc3339(self._wall(rec, min(step, self.pending)))
            stamp = datetime.fromtimestamp(rec["t0_wall"], UTC).strftime("%Y%m%d%H%M%S")
            job["experiment"] = f"{self._prefix()}/metadataStores/default/contexts/tuning-experiment-{stamp}"
        if state in ("JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"):
            steps = max(1, math.ceil(rec["rows"] / _BATCH_SIZE)) * rec["epochs"]
            job["tuningDataStats"] = {
                "supervisedTuningDataStats": {
                    "tuningDatasetExampleCount": str(rec["rows"]),
                    "totalBillableTokenCount": str(rec["tokens"]),
                    "tuningStepCount": str(steps),
                    "totalTruncatedExampleCount": "0",
                }
            }
        if state == "JOB_STATE_SUCCEEDED":
            job["tunedModel"] = {"model": rec["model"], "endpoint": rec["endpoint"], "checkpoints": rec["checkpoints"]}
            job["endTime"] = rfc3339(self._wall(rec, self.pending + self.running))
        elif state == "JOB_STATE_FAILED":
            job["error"] = {"code": rec["fail"][1], "message": rec["fail"][0]}
            job["endTime"] = job["updateTime"]
        elif state == "JOB_STATE_CANCELLED":
            job["error"] = {"code": 1, "message": "CANCELED"}
            job["endTime"] = rfc3339(self._wall(rec, rec["cancelled_at"]))
        return job

    def _job_for_model(self, model: str) -> dict[str, Any] | None:
        for rec in self.state["tuning"].values():
            if model in (rec["model"], rec["model"].split("@")[0]) and self._state(rec) == "JOB_STATE_SUCCEEDED":
                return dict(rec)
        return None

    def tuned_model(self, name: str) -> tuple[dict[str, str], str] | None:
        """``(memory, model_version)`` of a succeeded tuned Model resource (``…/models/ID@V``), or ``None``."""
        rec = self._job_for_model(name)
        if rec is None:
            return None
        return rec["memory"], f"{rec['base_model'].rsplit('/', 1)[-1]}-tuned-{rec['id'][-6:]}"

    def endpoint(self, name: str) -> tuple[dict[str, str], str] | None:
        """``(memory, model_version)`` of a deployed tuned endpoint (final or checkpoint), or ``None``."""
        for rec in self.state["tuning"].values():
            endpoints = {c["endpoint"] for c in rec["checkpoints"]} | {rec["endpoint"]}
            if name in endpoints and self._state(rec) == "JOB_STATE_SUCCEEDED":
                return rec["memory"], f"{rec['base_model'].rsplit('/', 1)[-1]}-tuned-{rec['id'][-6:]}"
        return None

    # -- datasets ------------------------------------------------------------------------------------

    def _readable_scheme(self, uri: str) -> bool:
        ok = uri.startswith("gs://") or (self.allow_file_uris and uri.startswith("file://"))
        return ok and uri.endswith(".jsonl")

    def _dataset(self, uri: str) -> tuple[int, int, int]:
        data = self.reader(uri)
        if data is None:
            return 0, 0, 0
        rows = tokens = invalid = 0
        for line in data.decode("utf-8", "replace").splitlines():
            if not line.strip():
                continue
            rows += 1
            try:
                row = json.loads(line)
                contents = row["contents"]
                if contents[-1]["role"] != "model":
                    raise ValueError("last turn is not the model's")
            except (ValueError, KeyError, TypeError, IndexError):
                invalid += 1
                continue
            resolution = (row.get("generationConfig") or {}).get("mediaResolution", "MEDIA_RESOLUTION_LOW")
            per_second = (64 if resolution == "MEDIA_RESOLUTION_LOW" else 256) + 32
            for part in (p for c in contents for p in c.get("parts", [])):
                if "text" in part:
                    tokens += content.token_count(str(part["text"]))
                file_data = part.get("fileData") or part.get("file_data")
                if isinstance(file_data, dict):
                    uri_in = str(file_data.get("fileUri") or file_data.get("file_uri") or "")
                    data = self.reader(uri_in) if uri_in.startswith("file:") else None
                    seconds = content.video_seconds(content.clip_seed(uri_in, data), data)
                    tokens += math.ceil(seconds) * per_second + 8
        return rows, tokens, invalid

    def _memory(self, uri: str) -> dict[str, str]:
        data = self.reader(uri)
        return content.training_memory(data.decode("utf-8", "replace")) if data else {}

    # -- batch prediction ----------------------------------------------------------------------------

    def create_batch(self, body: dict[str, Any]) -> Reply:
        """POST batchPredictionJobs."""
        uris = ((body.get("inputConfig") or {}).get("gcsSource") or {}).get("uris") or []
        dest = ((body.get("outputConfig") or {}).get("gcsDestination") or {}).get("outputUriPrefix")
        if not uris or not dest:
            return error(400, "inputConfig.gcsSource.uris and outputConfig.gcsDestination are required.")
        model = str(body.get("model") or "")
        if "/endpoints/" in model:  # Vertex takes a Model resource or a publisher model here, never an endpoint
            reply = error(
                400,
                f"Invalid model name {model}: expected projects/{{project}}/locations/{{location}}/models/{{model}}"
                " or publishers/google/models/{model}.",
            )
            reply.body["error"]["status"] = "INVALID_ARGUMENT"
            return reply
        job_id = self._new_id("batch")
        rec = {
            "id": job_id,
            "name": f"{self._prefix()}/batchPredictionJobs/{job_id}",
            "request": body,
            "polls": 0,
            "t0_clock": self._now(),
            "t0_wall": time.time(),
            "cancelled_at": None,
            "fail": None,
            "result": None,
        }
        self.state["batch"][job_id] = rec
        return Reply(200, self._render_batch(rec))

    def get_batch(self, job_id: str, generate: _Generate) -> Reply:
        """GET batchPredictionJobs/{id}: one poll; on success, predictions are written for file:// URIs."""
        rec = self.state["batch"].get(job_id)
        if rec is None:
            return error(404, f"BatchPredictionJob {self._prefix()}/batchPredictionJobs/{job_id} does not exist.")
        rec["polls"] += 1
        if self._state(rec) == "JOB_STATE_SUCCEEDED" and rec["result"] is None:
            rec["result"] = self._run_batch(rec, generate)
        return Reply(200, self._render_batch(rec))

    def cancel_batch(self, job_id: str) -> Reply:
        """POST batchPredictionJobs/{id}:cancel."""
        rec = self.state["batch"].get(job_id)
        if rec is None:
            return error(404, f"BatchPredictionJob {self._prefix()}/batchPredictionJobs/{job_id} does not exist.")
        if self._state(rec) == "JOB_STATE_SUCCEEDED":
            reply = error(400, f"Cannot cancel batch prediction job {rec['name']} because it has ended.")
            reply.body["error"]["status"] = "FAILED_PRECONDITION"
            return reply
        rec["cancelled_at"] = self._step(rec)
        return Reply(200, {})

    def _run_batch(
        self, rec: dict[str, Any], generate: Callable[[str, dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        body = rec["request"]
        dest = str(body["outputConfig"]["gcsDestination"]["outputUriPrefix"]).rstrip("/")
        stamp = datetime.fromtimestamp(rec["t0_wall"], UTC).strftime("%Y_%m_%dT%H_%M_%S_%fZ")
        out_dir = f"{dest}/prediction-model-{stamp}"
        lines, ok, failed = [], 0, 0
        for uri in body["inputConfig"]["gcsSource"]["uris"]:
            data = self.reader(uri)
            for line in (data or b"").decode("utf-8", "replace").splitlines():
                if not line.strip():
                    continue
                try:
                    request = json.loads(line)["request"]
                    response = generate(str(body.get("model", "")), request)
                    lines.append(
                        {"status": "", "processed_time": rfc3339(time.time()), "request": request, "response": response}
                    )
                    ok += 1
                except (ValueError, KeyError, TypeError) as exc:
                    lines.append({"status": f"Bad request line: {exc}", "request": line})
                    failed += 1
        if out_dir.startswith("file://"):
            target = Path(url2pathname(urlparse(out_dir).path)) / "predictions.jsonl"
            with atomic_write(target, "w") as fh:
                fh.write("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
        return {"dir": out_dir, "ok": ok, "failed": failed}

    def _render_batch(self, rec: dict[str, Any]) -> dict[str, Any]:
        body = rec["request"]
        state = self._state(rec)
        job: dict[str, Any] = {"name": rec["name"], "displayName": body.get("displayName") or rec["id"]}
        job["model"] = body.get("model")
        job["inputConfig"] = body.get("inputConfig")
        job["outputConfig"] = body.get("outputConfig")
        job["state"] = state
        step = self._step(rec)
        job["createTime"] = rfc3339(rec["t0_wall"])
        job["updateTime"] = rfc3339(self._wall(rec, step))
        if state == "JOB_STATE_SUCCEEDED" and rec["result"]:
            result = rec["result"]
            job["outputInfo"] = {"gcsOutputDirectory": result["dir"]}
            job["completionStats"] = {"successfulCount": str(result["ok"]), "failedCount": str(result["failed"])}
            job["endTime"] = rfc3339(self._wall(rec, self.pending + self.running))
        elif state == "JOB_STATE_CANCELLED":
            job["error"] = {"code": 1, "message": "CANCELED"}
        return job
