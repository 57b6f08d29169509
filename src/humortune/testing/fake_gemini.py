"""FakeGemini: a deterministic fake of the Vertex AI REST API, for offline mode, tests, docs and examples.

It fakes the *server*, not the SDK: the real google-genai client runs its real code path against an
``httpx.MockTransport`` (`FakeGemini.transport`) or a loopback HTTP server (`FakeGemini.serve`), with
static fake credentials. Only httpx is imported here, never ``google.genai``.

What it serves (``/v1beta1/projects/{p}/locations/{l}/…``):

* ``tuningJobs`` create / get / list / ``:cancel`` with a realistic state sequence: PENDING → RUNNING →
  SUCCEEDED (by number of polls, or by a clock you control), FAILED with a dataset error on demand,
  CANCELLED; ``tunedModel{model, endpoint, checkpoints}`` and ``tuningDataStats`` with int64-as-string counts;
* ``publishers/google/models/*:generateContent`` and ``endpoints/*:generateContent``: Swedish narratives in
  the owner's form derived from the clip's content, never its location (tuned endpoints remember their
  training rows), JSON records when a ``responseSchema`` is requested, ``usageMetadata``;
* ``batchPredictionJobs`` create / get (writes ``predictions.jsonl`` for ``file://`` input and output);
* faults on demand: 429 with ``Retry-After``, 500, 503, 403, connection resets, safety blocks, empty
  candidates, MAX_TOKENS; a per-call latency.

```python
fake = FakeGemini()
client = GeminiClient.from_settings(settings, transport=fake.transport())
```
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import httpx

import humortune.catalog as catalog  # not via the root package (tests/test_layers.py)
from humortune.testing import _fake_content as content
from humortune.testing._fake_jobs import JobBook, JsonFileState, Reply, StateBackend, error
from humortune.testing.vertex_schema import VertexSchemaError, message_for, validate

if TYPE_CHECKING:  # pragma: no cover
    from humortune.settings import Settings

__all__ = ["DATASET_ERROR_MESSAGE", "FAULTS", "FakeGemini", "FakeRequest", "JsonFileState", "Reply", "StateBackend"]

DATASET_ERROR_MESSAGE = (
    "Dataset validation failed: 3 of 12 examples (25.0%) in the training dataset are invalid, more than "
    "the 10% allowed. First errors: line 2: contents[1].role must be 'model'; line 5: fileData.fileUri "
    "'gs://bucket/training/videos/missing.mp4' could not be read; line 9: example exceeds the maximum of "
    "131072 input and output tokens."
)
"""The fake's dataset failure text, modelled on Vertex's (FAILED jobs carry it in ``error.message``)."""

_ADAPTERS = {"ADAPTER_SIZE_ONE": 1, "ADAPTER_SIZE_TWO": 2, "ADAPTER_SIZE_FOUR": 4, "ADAPTER_SIZE_EIGHT": 8}
_ADAPTERS |= {"ADAPTER_SIZE_SIXTEEN": 16, "ADAPTER_SIZE_THIRTY_TWO": 32}
_PATH = re.compile(r"^/v1(?:beta1)?/projects/([^/]+)/locations/(.+)$")
_PUBLISHER_MODEL = re.compile(r"^/v1(?:beta1)?/publishers/google/models/([^/:]+)$")
LEGACY_STATE = Path("offline") / "fake_gemini.json"
"""Where an offline workspace kept the fake's jobs before they moved to the workspace database (it is imported
from there once)."""
FAULTS = ("429", "500", "503", "403", "reset", "safety", "prompt_blocked", "empty", "max_tokens")
"""Fault kinds `FakeGemini.inject` understands."""


@dataclass(frozen=True)
class FakeRequest:
    """One request the fake received (the Authorization header is never kept, only whether it was there)."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    authorized: bool


@dataclass
class _Fault:
    kind: str
    times: int
    match: str | None
    retry_after: float | None


class _Reset(Exception):
    """The fake drops the connection instead of answering."""


def read_local(uri: str) -> bytes | None:
    """The default reader: ``file://`` URIs only (the fake never reaches Cloud Storage)."""
    if not uri.startswith("file://"):
        return None
    path = Path(url2pathname(urlparse(uri).path))
    return path.read_bytes() if path.is_file() else None


class FakeGemini:
    """A deterministic, in-process Vertex AI for google-genai. Thread-safe; optionally persistent.

    Args:
        project: the only project the fake serves (others get 403); ``None`` serves whichever is asked.
        location: the default region.
        pending: how long a job stays PENDING, in polls (GETs of that job) or, with ``clock``, in seconds.
        running: how long it then stays RUNNING, in the same unit.
        clock: a callable returning seconds; switches the schedule from polls to time.
        latency_s: sleep before every answer (benchmarks, timeouts).
        strict: validate every request body against the Vertex AI discovery documents and answer 400 when one
            does not validate (unknown fields or enum values rejected), like the real service.
        allow_file_uris: accept ``file://`` dataset URIs (offline mode); Vertex itself only reads gs://.
        reader: reads a dataset/batch URI's bytes (``None`` when it cannot), so tuned endpoints can remember
            training rows. Defaults to local ``file://`` files.
        state_path: a JSON file that keeps jobs across processes on one machine (a `JsonFileState`).
        state: where jobs are kept across processes (a `StateBackend`); wins over ``state_path``. Offline
            workspaces keep them in the workspace database, shared by every machine using it
            (``humortune.app.default_client``).
    """

    def __init__(
        self,
        *,
        project: str | None = None,
        location: str = "us-central1",
        pending: float = 1,
        running: float = 2,
        clock: Callable[[], float] | None = None,
        latency_s: float = 0.0,
        strict: bool = False,
        allow_file_uris: bool = True,
        reader: Callable[[str], bytes | None] | None = read_local,
        state_path: str | Path | None = None,
        state: StateBackend | None = None,
    ) -> None:
        self.project = project
        self.location = location
        self.latency_s = latency_s
        self.strict = strict
        self.reader = reader
        self.requests: list[FakeRequest] = []
        """Every request received, in order."""
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self.book = JobBook(
            project=project or "offline-project",
            location=location,
            pending=pending,
            running=running,
            clock=clock,
            allow_file_uris=allow_file_uris,
            reader=self._read,
            store=state if state is not None else JsonFileState(Path(state_path)) if state_path else None,
        )

    @classmethod
    def for_settings(
        cls,
        settings: Settings,
        *,
        state: StateBackend | None = None,
        reader: Callable[[str], bytes | None] | None = read_local,
    ) -> FakeGemini:
        """The offline backend of a workspace, its jobs kept in ``state`` (else in `LEGACY_STATE` under the
        workspace, one machine only); ``reader`` opens dataset URIs (default: local files)."""
        return cls(
            project=settings.project or "offline-project",
            location=settings.location,
            reader=reader,
            state_path=None if state is not None else settings.workspace / LEGACY_STATE,
            state=state,
        )

    # -- control ------------------------------------------------------------------------------------

    def inject(self, kind: str, *, times: int = 1, match: str | None = None, retry_after: float | None = None) -> None:
        """Make the next ``times`` matching requests fail with ``kind`` (one of `FAULTS`).

        ``match`` restricts the fault to request paths containing it (e.g. ``":generateContent"``).
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(kind, times, match, retry_after))

    def fail_next_job(self, message: str = DATASET_ERROR_MESSAGE, *, code: int = 3) -> None:
        """The next tuning job created fails after PENDING with ``message`` (Vertex's dataset-error form)."""
        with self._lock:  # the book's sessions run under this lock
            self.book.fail_next(message, code)

    def remember(self, jsonl: str, *, train_uri: str) -> None:
        """Teach future jobs on ``train_uri`` its rows (for gs:// datasets the fake cannot read)."""
        with self._lock:
            self.book.remember(train_uri, content.training_memory(jsonl))

    def training_metrics(self, info: Any) -> dict[str, Any] | None:
        """Pretend ``/eval_total_loss`` per checkpoint of a finished job (a `TuningJobInfo`), deterministic.

        Vertex reports these in the job's Experiment, not in the TuningJob resource; sweep reports use this
        offline. Loss falls with epochs × learning rate, rises past 4 epochs (overfitting), and prefers
        adapter size 8.
        """
        checkpoints = getattr(info, "checkpoints", None) or []
        if not checkpoints:
            return None
        hp = getattr(info, "hyperparameters", {}) or {}
        lr = float(hp.get("learning_rate_multiplier") or 1.0)
        adapter = _ADAPTERS.get(str(hp.get("adapter_size")), 4)
        losses = {}
        for ckpt in checkpoints:
            epoch = int(ckpt.get("epoch") or 1)
            loss = 0.9 / (1 + 0.6 * epoch * lr) + 0.03 * abs(math.log2(adapter / 8)) + 0.05 * max(0, epoch - 4) * lr
            loss += (content.seed_int(info.name, str(epoch)) % 100) / 10_000
            losses[str(ckpt.get("checkpoint_id"))] = round(loss, 4)
        best = min(losses, key=lambda k: losses[k])
        return {"eval_loss": losses[best], "best_checkpoint": best, "eval_loss_by_checkpoint": losses}

    def calls(self, fragment: str = "", method: str | None = None) -> list[FakeRequest]:
        """Requests whose path contains ``fragment`` (and with ``method``, if given)."""
        return [r for r in self.requests if fragment in r.path and (method is None or r.method == method)]

    # -- transports ---------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """A sync (and async-capable) httpx transport answering from this fake."""

        def handler(request: httpx.Request) -> httpx.Response:
            if self.latency_s:
                time.sleep(self.latency_s)
            return self._to_httpx(request)

        return httpx.MockTransport(handler)

    def async_transport(self) -> httpx.MockTransport:
        """An async httpx transport whose latency does not block the event loop."""

        async def handler(request: httpx.Request) -> httpx.Response:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            return self._to_httpx(request)

        return httpx.MockTransport(handler)

    def _to_httpx(self, request: httpx.Request) -> httpx.Response:
        query = {k: v for k, v in request.url.params.items()}
        try:
            reply = self.handle(
                request.method, request.url.path, query, request.content, "authorization" in request.headers
            )
        except _Reset:
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request) from None
        return httpx.Response(reply.status, json=reply.body, headers=reply.headers)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Run the fake on 127.0.0.1 (a free port) and yield its base URL, e.g. for ``base_url=``."""
        from humortune.testing._fake_server import serve

        with serve(self) as url:
            yield url

    # -- the API ------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], raw: bytes, authorized: bool = True) -> Reply:
        """Answer one request (the transport-independent core)."""
        body: dict[str, Any] | None = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return error(400, "Invalid JSON payload received.")
        with self._lock:
            self.requests.append(FakeRequest(method, path, dict(query), body, authorized))
            fault = self._take_fault(path)
        if not authorized:
            return error(401, "Request is missing required authentication credential.")
        if fault is not None:
            reply = self._apply_fault(fault, path)
            if reply is not None:
                return reply
        if self.strict and body:
            name = message_for(method, path, response=False)
            if name:
                try:
                    validate(name, body)
                except VertexSchemaError as exc:
                    return error(400, f"Invalid JSON payload received. {exc}")
        model = _PUBLISHER_MODEL.match(path)
        if model is not None and method == "GET":  # google-genai reads publisher models without a project
            return self._publisher_model(model.group(1))
        match = _PATH.match(path)
        if match is None:
            return error(404, f"The requested URL {path} was not found on this server.")
        project, rest = match.group(1), match.group(2)
        if self.project is not None and project != self.project:
            return error(403, f"Permission denied on resource project {project}.")
        with self._lock:
            self.book.project = project
            if not _reads_jobs(method, rest):  # base-model generation: no stored state to read
                return self._route(method, rest, query, body or {}, fault)
            with self.book.session(write=_writes_jobs(method, rest)):
                return self._route(method, rest, query, body or {}, fault)

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.times > 0 and (fault.match is None or fault.match in path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _apply_fault(self, fault: _Fault, path: str) -> Reply | None:
        if fault.kind == "reset":
            raise _Reset()
        if fault.kind == "429":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            return error(
                429,
                "Resource exhausted. Please try again later. Please refer to "
                "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
                headers,
            )
        if fault.kind in ("500", "503"):
            text = "Internal error encountered." if fault.kind == "500" else "The service is currently unavailable."
            return error(int(fault.kind), text)
        if fault.kind == "403":
            return error(
                403,
                f"Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/"
                f"projects/{self.book.project}/locations/{self.location}' (or it may not exist).",
            )
        return None  # content faults are applied by generateContent

    def _route(
        self, method: str, rest: str, query: dict[str, str], body: dict[str, Any], fault: _Fault | None
    ) -> Reply:
        location, _, resource = rest.partition("/")
        book = self.book
        if resource == "tuningJobs" and method == "POST":
            return book.create_tuning(body)
        if resource == "tuningJobs" and method == "GET":
            return book.list_tuning(int(query.get("pageSize", "50") or 50), query.get("pageToken", ""))
        if resource.startswith("tuningJobs/") and resource.endswith(":cancel") and method == "POST":
            return book.cancel_tuning(resource.removesuffix(":cancel").split("/", 1)[1])
        if resource.startswith("tuningJobs/") and method == "GET":
            return book.get_tuning(resource.split("/", 1)[1])
        if resource == "batchPredictionJobs" and method == "POST":
            return book.create_batch(body)
        if resource.startswith("batchPredictionJobs/") and resource.endswith(":cancel") and method == "POST":
            return book.cancel_batch(resource.removesuffix(":cancel").split("/", 1)[1])
        if resource.startswith("batchPredictionJobs/") and method == "GET":
            return book.get_batch(resource.split("/", 1)[1], self._generate_for_batch)
        if resource.endswith(":generateContent") and method == "POST":
            return self._generate(location, resource.removesuffix(":generateContent"), body, fault)
        return error(404, f"Method not found: {method} {resource}")

    # -- generation ---------------------------------------------------------------------------------

    def _publisher_model(self, model: str) -> Reply:
        """GET publishers/google/models/{id}: the model card, or Vertex's 404 for an unknown id."""
        if not content.is_known_model(model):
            name = f"publishers/google/models/{model}"
            return error(
                404,
                f"Publisher Model `{name}` was not found or your project does not have access to it.",
            )
        return Reply(200, {"name": f"publishers/google/models/{model}", "versionId": "001", "launchStage": "GA"})

    def _generate(self, location: str, target: str, body: dict[str, Any], fault: _Fault | None) -> Reply:
        memory: dict[str, str] | None = None
        if target.startswith("publishers/google/models/"):
            model = target.rsplit("/", 1)[-1]
            if not content.is_known_model(model):
                name = f"projects/{self.book.project}/locations/{location}/{target}"
                return error(
                    404,
                    f"Publisher Model `{name}` was not found or your project does not have access to it. "
                    "Please ensure you are using a valid model version.",
                )
            version = f"{model}-001"
        elif target.startswith("endpoints/"):
            name = f"projects/{self.book.project}/locations/{location}/{target}"
            found = self.book.endpoint(name)
            if found is None:
                return error(404, f"Endpoint `{name}` not found.")
            memory, version = found
        else:
            return error(404, f"Unknown model resource {target}.")
        refused = _thinking_refusal(version, body.get("generationConfig") or {})
        if refused:
            return error(400, refused)
        return Reply(200, self.answer(body, memory=memory, model_version=version, fault=fault))

    def answer(
        self,
        body: dict[str, Any],
        *,
        memory: dict[str, str] | None = None,
        model_version: str | None = None,
        fault: _Fault | None = None,
    ) -> dict[str, Any]:
        """The ``GenerateContentResponse`` for a request body (also used for batch predictions)."""
        model_version = model_version or f"{catalog.default_base_model().id}-001"
        contents = body.get("contents") or []
        parts = [p for c in contents for p in c.get("parts", [])]
        video = next((_file_uri(p) for p in parts if _file_uri(p)), None)
        prompt = " ".join(p.get("text", "") for p in parts if "text" in p)
        config = body.get("generationConfig") or {}
        data = self._local_bytes(video)
        seed = content.clip_seed(video, data)
        narrative = content.narrative_for(video, memory=memory, seed=seed)
        if "Det roliga i detta klipp är" in prompt:  # second stage: a record from a given narrative
            narrative = prompt[prompt.index("Det roliga i detta klipp är") :]
        text = narrative
        if config.get("responseMimeType") == "application/json":
            schema = config.get("responseSchema") or {"type": "OBJECT", "properties": {}}
            value = content.fill_schema(schema, seed=seed if video else prompt, narrative=narrative)
            text = json.dumps(value, ensure_ascii=False)
        finish = "STOP"
        limit = config.get("maxOutputTokens")
        if isinstance(limit, int) and content.token_count(text) > limit:
            text, finish = text[: limit * 4], "MAX_TOKENS"
        kind = fault.kind if fault else None
        if kind == "max_tokens":
            text, finish = text[: max(8, len(text) // 3)], "MAX_TOKENS"
        resolution = config.get("mediaResolution", "MEDIA_RESOLUTION_LOW")
        per_second = (66 if resolution == "MEDIA_RESOLUTION_LOW" else 258) + 32
        prompt_tokens = content.token_count(prompt + json.dumps(body.get("systemInstruction") or ""))
        if video:
            prompt_tokens += int(content.video_seconds(seed, data) * per_second)
        out_tokens = content.token_count(text) if text else 0
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": out_tokens,
            "totalTokenCount": prompt_tokens + out_tokens,
        }
        response_id = f"fake-{content.seed_int(seed if video else '', prompt, text) % 10**12:012d}"
        base: dict[str, Any] = {"usageMetadata": usage, "modelVersion": model_version, "responseId": response_id}
        if kind == "prompt_blocked":
            return {"promptFeedback": {"blockReason": "SAFETY"}, **base, "usageMetadata": {"promptTokenCount": 1}}
        if kind == "empty":
            return {**base, "candidates": []}
        if kind == "safety":
            rating = {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
            return {**base, "candidates": [{"finishReason": "SAFETY", "safetyRatings": [rating]}]}
        candidate = {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish}
        return {**base, "candidates": [candidate]}

    def _generate_for_batch(self, model: str, request: dict[str, Any]) -> dict[str, Any]:
        found = self.book.tuned_model(model) if "/models/" in model else None
        memory, version = found if found else (None, f"{model.rsplit('/', 1)[-1]}-001")
        return self.answer(request, memory=memory, model_version=version)

    def _local_bytes(self, uri: str | None) -> bytes | None:
        """A local clip's bytes (what its answers derive from); clips in Cloud Storage are not downloaded."""
        return self._read(uri) if uri and uri.startswith("file://") else None

    def _read(self, uri: str) -> bytes | None:
        if self.reader is None:
            return None
        try:
            return self.reader(uri)
        except OSError:
            return None


def _reads_jobs(method: str, rest: str) -> bool:
    """Whether the request needs the stored jobs: everything but generation on a publisher model."""
    return not (method == "POST" and "/publishers/" in rest and rest.endswith(":generateContent"))


def _writes_jobs(method: str, rest: str) -> bool:
    """Whether the request may change the stored jobs (creating, polling, cancelling); reads need no lock."""
    if not _reads_jobs(method, rest) or rest.endswith(":generateContent"):
        return False
    return not (method == "GET" and rest.rsplit("/", 1)[-1] in ("tuningJobs", "batchPredictionJobs"))


def _file_uri(part: dict[str, Any]) -> str | None:
    data = part.get("fileData") or part.get("file_data")
    if not isinstance(data, dict):
        return None
    uri = data.get("fileUri") or data.get("file_uri")
    return str(uri) if uri else None


def _thinking_refusal(model_version: str, config: dict[str, Any]) -> str | None:
    """Vertex's 400 for a thinking setting the model does not take (budget on 3.x, level on 2.5, 0 on Pro)."""
    thinking = config.get("thinkingConfig") or config.get("thinking_config") or {}
    budget = thinking.get("thinkingBudget", thinking.get("thinking_budget"))
    level = thinking.get("thinkingLevel", thinking.get("thinking_level"))
    entry = catalog.find(model_version.split("-tuned-", 1)[0])
    if entry is None or (budget is None and level is None):
        return None
    if level is not None and entry.thinking != "level":
        return "Thinking level is not supported for this model. Use thinking budget instead."
    if budget is not None and entry.thinking == "level":
        return "Thinking budget is not supported for this model. Use thinking level instead."
    if budget is not None and isinstance(entry.lowest_thinking, int) and budget < entry.lowest_thinking:
        return f"Budget {budget} is invalid. This model only works in thinking mode."
    return None
