"""Vertex AI batch prediction for thousands of clips: JSONL in, JSONL out, half the online price.

`submit_batch` writes one ``{"request": …}`` line per clip (exactly the online request: the training
prompt, the training media resolution, temperature 0) to storage, starts a batch prediction job, and records
it in ``<workspace>/batches/<id>.json`` so it can be followed from another process (`load_batch`,
`list_batches`). `BatchRun.collect` reads the output lines back, matches them to the clips by video URI,
and turns each into an `Analysis` in the corpus cache; in ``two-stage`` mode (and ``joint`` mode's fallback)
the records are then extracted online by the base model, which is text-only and cheap.

The input and output must live in Cloud Storage for Vertex to read them; offline runs (FakeGemini) accept
local storage. A tuned model is named by its Model resource (``…/models/ID@V``), not the endpoint online calls use.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humortune._gemini_results import ENDED_STATES, BatchJobInfo, Generation
from humortune._util import atomic_write, short_hash
from humortune.analyzer.request import BatchRequest
from humortune.analyzer.video import VideoRef, describe_input
from humortune.errors import (
    AnalysisError,
    EmptyResponseError,
    HumortuneError,
    SafetyBlockedError,
    TruncatedOutputError,
)
from humortune.schema import TokenUsage, utcnow

if TYPE_CHECKING:  # pragma: no cover
    from humortune.analyzer.analyzer import AnalysisResult, Analyzer
    from humortune.analyzer.video import VideoInput

__all__ = [
    "BATCH_PREFIX",
    "BatchRun",
    "batch_request",
    "build_batch_request",
    "list_batches",
    "load_batch",
    "submit_batch",
]

BATCH_PREFIX = "analysis/batches/"
"""Storage prefix of batch inputs and outputs: ``analysis/batches/<id>/input.jsonl`` and ``…/output/``."""

_MODEL_RESOURCE = re.compile(r"^projects/[^/]+/locations/[^/]+/models/[^/@]+(?:@[^/]+)?$")
_SAFETY = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "RECITATION"}


@dataclass
class BatchRun:
    """One submitted batch job and the clips in it; persisted as JSON in the workspace."""

    id: str
    job_name: str
    model: str
    call_name: str
    prompt_version: str
    mode: str
    media_resolution: str
    input_uri: str
    output_uri: str
    items: list[dict[str, Any]]
    """``{index, video, uri, sha256, mime_type}`` per clip, in input order."""
    state: str = "JOB_STATE_PENDING"
    info: dict[str, Any] = field(default_factory=dict)
    """The last `BatchJobInfo` seen, as a dict."""
    collected: int = 0
    created_at: str = field(default_factory=lambda: utcnow().isoformat(timespec="seconds"))
    analyzer: Analyzer | None = field(default=None, repr=False, compare=False)

    @property
    def has_ended(self) -> bool:
        """Whether the job reached a final state."""
        return self.state in ENDED_STATES

    def _need_analyzer(self) -> Analyzer:
        if self.analyzer is None:
            raise AnalysisError("this batch run is not attached to an analyzer", hint="use load_batch(analyzer, id)")
        return self.analyzer

    def save(self) -> Path:
        """Write the run's state atomically to ``<workspace>/batches/<id>.json``."""
        path = _state_path(self._need_analyzer().settings.workspace, self.id)
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "analyzer"}
        with atomic_write(path, "w") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False)
        return path

    def refresh(self) -> BatchJobInfo:
        """Ask Vertex for the job's state (and save it)."""
        info = self._need_analyzer().client.get_batch_job(self.job_name)
        self.state, self.info = info.state, info.to_dict()
        self.save()
        return info

    def wait(
        self,
        *,
        poll_s: float = 30.0,
        timeout_s: float | None = None,
        on_poll: Callable[[BatchJobInfo], None] | None = None,
    ) -> BatchJobInfo:
        """Poll until the job ends. Raises `AnalysisError` on timeout (the job keeps running)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            info = self.refresh()
            if on_poll is not None:
                on_poll(info)
            if info.has_ended:
                return info
            if deadline is not None and time.monotonic() >= deadline:
                raise AnalysisError(
                    f"batch job still {info.state} after {timeout_s:.0f} s",
                    hint="it keeps running on Vertex; wait or collect it later (humortune batch collect ID)",
                    item=self.job_name,
                )
            time.sleep(poll_s)

    def collect(self, *, concurrency: int = 8) -> list[AnalysisResult]:
        """Parse the job's output into analyses (stored in the corpus cache), one result per clip.

        Clips whose line failed, or that have no line, come back with their error; in two-stage mode the
        records are extracted online (``concurrency`` calls at a time, through the analyzer's rate limit).
        """
        from humortune.analyzer.analyzer import AnalysisResult

        analyzer = self._need_analyzer()
        if not self.has_ended:
            self.refresh()
        if not self.has_ended:
            raise AnalysisError(
                f"the batch job is {self.state}, not finished", hint="wait() for it first", item=self.job_name
            )
        lines = _read_output(analyzer, self.info.get("output_dir") or self.output_uri)
        by_uri: dict[str, dict[str, Any]] = {}
        for line in lines:
            uri = _request_uri(line)
            if uri is not None:
                by_uri[uri] = line

        def one(item: dict[str, Any]) -> AnalysisResult:
            ref = VideoRef(item["uri"], item["sha256"], item["mime_type"])
            try:
                line = by_uri.get(item["uri"])
                if line is None:
                    raise AnalysisError(
                        "the batch output has no line for this clip", hint="analyse it online", item=item["video"]
                    )
                first = generation_from_rest(line, item=item["video"])
                analysis = analyzer._drive(analyzer._plan(ref, first=first, batch=True), analyzer.limiter)
                return AnalysisResult(item["index"], item["video"], analyzer.cache.put(analysis))
            except HumortuneError as exc:
                return AnalysisResult(item["index"], item["video"], error=exc)

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            results = list(pool.map(one, self.items))
        self.collected = sum(1 for r in results if r.ok)
        self.save()
        return results


def batch_request(analyzer: Analyzer, ref: VideoRef) -> dict[str, Any]:
    """One input line's ``request``: the same generate_content body the online path sends."""
    online = analyzer.build(ref)
    config: dict[str, Any] = {"temperature": online.temperature, "mediaResolution": online.media_resolution}
    if online.max_output_tokens is not None:
        config["maxOutputTokens"] = online.max_output_tokens
    if online.thinking_budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": online.thinking_budget}
    if online.thinking_level is not None:
        config["thinkingConfig"] = {"thinkingLevel": online.thinking_level}
    request: dict[str, Any] = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"fileData": {"fileUri": online.video_uri, "mimeType": online.mime_type}},
                    {"text": online.prompt},
                ],
            }
        ],
        "generationConfig": config,
    }
    if online.system_instruction:
        request["systemInstruction"] = {"role": "user", "parts": [{"text": online.system_instruction}]}
    return request


def submit_batch(analyzer: Analyzer, videos: Iterable[VideoInput], *, display_name: str | None = None) -> BatchRun:
    """Prepare every clip, upload the JSONL, and start the batch prediction job (never retried)."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, video in enumerate(videos):
        ref = analyzer.prepare(video)
        if ref.uri in seen:
            continue  # the same clip twice would cost twice and give the same answer
        seen.add(ref.uri)
        if not ref.uri.startswith("gs://") and not getattr(analyzer.client, "offline", False):
            raise AnalysisError(
                "batch prediction reads videos from Cloud Storage only",
                hint="set storage to gs://bucket/prefix so clips are uploaded first",
                item=describe_input(video),
            )
        items.append(
            {
                "index": index,
                "video": describe_input(video),
                "uri": ref.uri,
                "sha256": ref.sha256,
                "mime_type": ref.mime_type,
            }
        )
    if not items:
        raise AnalysisError("no videos to analyse", hint="pass at least one video")
    request = build_batch_request(analyzer, items, display_name=display_name)
    run_id = _run_id(analyzer, request.rows)
    if _state_path(analyzer.settings.workspace, run_id).is_file():
        return load_batch(analyzer, run_id)  # the same clips, model and prompt were submitted before
    analyzer.storage.put_bytes(_input_key(run_id), request.payload, content_type="application/jsonl")
    info = analyzer.client.create_batch_job(request)
    run = BatchRun(
        id=run_id,
        job_name=info.name,
        model=analyzer.model.model_id,
        call_name=request.model,
        prompt_version=analyzer.prompt.version,
        mode=analyzer.mode,
        media_resolution=analyzer.media_resolution,
        input_uri=request.src_uri,
        output_uri=request.dest_uri,
        items=items,
        state=info.state,
        info=info.to_dict(),
        analyzer=analyzer,
    )
    run.save()
    return run


def build_batch_request(
    analyzer: Analyzer, items: list[dict[str, Any]], *, display_name: str | None = None
) -> BatchRequest:
    """The batch job for prepared clips (``items`` as `submit_batch` records them), built without I/O."""
    rows = tuple(
        json.dumps({"request": batch_request(analyzer, VideoRef(i["uri"], i["sha256"], i["mime_type"]))}) for i in items
    )
    run_id = _run_id(analyzer, rows)
    return BatchRequest(
        model=batch_model_name(analyzer),
        src_uri=analyzer.storage.uri(_input_key(run_id)),
        dest_uri=analyzer.storage.uri(f"{BATCH_PREFIX}{run_id}/output/"),
        display_name=display_name or f"humortune-{run_id}",
        rows=rows,
    )


def _input_key(run_id: str) -> str:
    return f"{BATCH_PREFIX}{run_id}/input.jsonl"


def _run_id(analyzer: Analyzer, rows: tuple[str, ...]) -> str:
    # The same clips, model, prompt and mode give the same run (a resubmit finds the saved one).
    return "batch-" + short_hash(
        [analyzer.model.model_id, analyzer.prompt.version, analyzer.mode, "\n".join(rows) + "\n"], 12
    )


def batch_model_name(analyzer: Analyzer) -> str:
    """The ``model`` of a BatchPredictionJob: the base model, or a tuned model's Model resource.

    Online calls go to a tuned model's endpoint, but Vertex batch prediction takes the Model resource
    (``projects/P/locations/L/models/ID@V``) and rejects an endpoint.
    """
    model = analyzer.model
    if model.kind == "base":
        return model.call_name
    if _MODEL_RESOURCE.match(model.model_id):
        return model.model_id
    raise AnalysisError(
        "batch prediction needs the tuned model's Model resource, and only its endpoint is known",
        hint="pass the model as projects/<p>/locations/<region>/models/<id>@<version> or register it "
        "(humortune models adopt NAME), then batch by its alias",
        item=model.requested,
    )


def load_batch(analyzer: Analyzer, run_id: str) -> BatchRun:
    """A batch run recorded in this workspace, attached to ``analyzer`` (whose client polls it)."""
    path = _state_path(analyzer.settings.workspace, run_id)
    if not path.is_file():
        raise AnalysisError("no such batch run in this workspace", hint="list them with list_batches()", item=run_id)
    data = json.loads(path.read_text("utf-8"))
    return BatchRun(**data, analyzer=analyzer)


def list_batches(workspace: Path) -> list[dict[str, Any]]:
    """Every recorded batch run's state (newest first), without contacting Vertex."""
    folder = workspace / "batches"
    runs = [json.loads(p.read_text("utf-8")) for p in folder.glob("batch-*.json")] if folder.is_dir() else []
    return sorted(runs, key=lambda r: str(r.get("created_at", "")), reverse=True)


def _state_path(workspace: Path, run_id: str) -> Path:
    return workspace / "batches" / f"{run_id}.json"


def _read_output(analyzer: Analyzer, output_uri: str) -> list[dict[str, Any]]:
    storage = analyzer.storage
    root = storage.root_uri.rstrip("/") + "/"
    if not output_uri.startswith(root):
        raise AnalysisError(
            "the batch output is outside this workspace's storage",
            hint=f"point storage at the bucket holding it (now {storage.root_uri})",
            item=output_uri,
        )
    prefix = output_uri[len(root) :].rstrip("/") + "/"
    lines: list[dict[str, Any]] = []
    for obj in storage.list(prefix):
        if not obj.key.endswith(".jsonl"):
            continue
        for raw in storage.read_bytes(obj.key).decode("utf-8").splitlines():
            if raw.strip():
                lines.append(json.loads(raw))
    return lines


def _request_uri(line: dict[str, Any]) -> str | None:
    request = line.get("request") or {}
    for content in request.get("contents") or []:
        for part in content.get("parts") or []:
            data = part.get("fileData") or part.get("file_data") or {}
            uri = data.get("fileUri") or data.get("file_uri")
            if uri:
                return str(uri)
    return None


def generation_from_rest(line: dict[str, Any], *, item: str) -> Generation:
    """A `Generation` from one batch output line (REST JSON), or the matching `AnalysisError`.

    The same rules as the online path: safety blocks, no candidates, MAX_TOKENS and empty text are errors.
    """
    status = line.get("status")
    response: dict[str, Any] = line.get("response") or {}
    if status and not response:
        raise AnalysisError(f"the batch line failed: {status}", hint="analyse this clip online", item=item)
    feedback = response.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        raise SafetyBlockedError(f"the prompt was blocked ({feedback['blockReason']})", item=item)
    candidates = response.get("candidates") or []
    if not candidates:
        raise EmptyResponseError("the model returned no candidates", item=item)
    candidate = candidates[0]
    finish = candidate.get("finishReason")
    parts = (candidate.get("content") or {}).get("parts") or []
    text = "".join(p.get("text") or "" for p in parts if not p.get("thought"))  # "text": null happens
    if finish in _SAFETY:
        raise SafetyBlockedError(f"the answer was blocked (finish reason {finish})", item=item)
    if finish == "MAX_TOKENS":
        raise TruncatedOutputError("the answer was cut off at max_output_tokens", item=item, partial=text)
    if not text.strip():
        raise EmptyResponseError(f"the model returned an empty answer (finish reason {finish})", item=item)
    meta = response.get("usageMetadata") or {}
    prompt_tokens = int(meta.get("promptTokenCount", 0))
    output = int(meta.get("candidatesTokenCount", 0)) + int(meta.get("thoughtsTokenCount", 0))
    return Generation(
        text=text,
        usage=TokenUsage(
            prompt_tokens=prompt_tokens,
            output_tokens=output,
            total_tokens=int(meta.get("totalTokenCount", prompt_tokens + output)),
        ),
        finish_reason=finish,
        model_version=response.get("modelVersion"),
        latency_s=0.0,
        raw=response,
    )
