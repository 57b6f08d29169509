"""Plain snapshots of Vertex jobs, independent of google-genai's types (re-exported by `humortune.gemini`).

The converters read google-genai objects by attribute only, so this module never imports ``google.genai``.
Snapshots round-trip through `to_dict`/`from_dict` (stored in ``tuning_jobs.job_json``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from humortune.errors import EmptyResponseError, SafetyBlockedError, TruncatedOutputError
from humortune.schema import TokenUsage

__all__ = [
    "ENDED_STATES",
    "BatchJobInfo",
    "Generation",
    "TuningJobInfo",
    "batch_info",
    "generation_from",
    "tuning_info",
]

ENDED_STATES = frozenset(
    {
        "JOB_STATE_SUCCEEDED",
        "JOB_STATE_FAILED",
        "JOB_STATE_CANCELLED",
        "JOB_STATE_EXPIRED",
        "JOB_STATE_PARTIALLY_SUCCEEDED",
    }
)
"""States a job never leaves. (google-genai's ``has_ended`` omits PARTIALLY_SUCCEEDED; we do not.)"""


_SAFETY_REASONS = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "RECITATION"}


def _state(value: object) -> str:
    if value is None:
        return "JOB_STATE_UNSPECIFIED"
    return str(getattr(value, "name", value))


def _time(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value else None)


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).lstrip("-").isdigit() else None


@dataclass(frozen=True, slots=True)
class Generation:
    """One model answer: its text, what it cost in tokens, and how it ended."""

    text: str
    usage: TokenUsage
    finish_reason: str | None
    model_version: str | None
    latency_s: float
    raw: dict[str, Any] = field(repr=False)
    """The response as google-genai parsed it (JSON-ready, snake_case, no HTTP headers)."""


def generation_from(response: Any, latency: float, *, item: str) -> Generation:
    """A `Generation` from a google-genai ``GenerateContentResponse``, or the matching `AnalysisError`."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        reason = _state(feedback.block_reason)
        raise SafetyBlockedError(
            f"the prompt was blocked ({reason}) {feedback.block_reason_message or ''}".strip(),
            hint="the clip or prompt tripped a safety filter; review the clip, it cannot be analysed as is",
            item=item,
        )
    if not response.candidates:
        raise EmptyResponseError(
            "the model returned no candidates", hint="retry later; if it persists, check the video", item=item
        )
    candidate = response.candidates[0]
    finish = _state(candidate.finish_reason) if candidate.finish_reason is not None else None
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(p.text for p in parts if p.text and not p.thought)
    if finish in _SAFETY_REASONS:
        blocked = [_state(r.category) for r in candidate.safety_ratings or [] if r.blocked]
        detail = f": {', '.join(blocked)}" if blocked else ""
        raise SafetyBlockedError(
            f"the answer was blocked (finish reason {finish}{detail})",
            hint="the clip tripped a safety filter; review it by hand",
            item=item,
        )
    if finish == "MAX_TOKENS":
        raise TruncatedOutputError(
            f"the answer was cut off at max_output_tokens after {len(text)} characters",
            hint="raise max_output_tokens (thinking tokens count too; turn thinking off for tuned models)",
            item=item,
            partial=text,
        )
    if not text.strip():
        raise EmptyResponseError(
            f"the model returned an empty answer (finish reason {finish})", hint="retry later", item=item
        )
    meta = response.usage_metadata
    prompt_tokens = (meta.prompt_token_count or 0) if meta else 0
    # Thinking tokens are billed as output, so they count as output here.
    output = ((meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)) if meta else 0
    total = (meta.total_token_count or prompt_tokens + output) if meta else 0
    raw: dict[str, Any] = response.model_dump(mode="json", exclude_none=True, exclude={"sdk_http_response"})
    return Generation(
        text=text,
        usage=TokenUsage(prompt_tokens=prompt_tokens, output_tokens=output, total_tokens=total),
        finish_reason=finish,
        model_version=response.model_version,
        latency_s=latency,
        raw=raw,
    )


@dataclass(frozen=True, slots=True)
class TuningJobInfo:
    """What Vertex says about one tuning job, at one moment."""

    name: str
    state: str
    base_model: str | None = None
    display_name: str | None = None
    create_time: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    update_time: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    tuned_model: str | None = None
    """Model resource ``projects/…/models/…@version`` once succeeded."""
    endpoint: str | None = None
    """Endpoint resource used for inference once succeeded."""
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    """``{checkpoint_id, epoch, step, endpoint}`` per exported checkpoint."""
    stats: dict[str, Any] = field(default_factory=dict)
    """Tuning data statistics: example count, ``total_billable_token_count``, steps, truncation, drops."""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    train_uri: str | None = None
    validation_uri: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    experiment: str | None = None
    pre_tuned_model: str | None = None

    @property
    def has_ended(self) -> bool:
        """Whether the job reached a final state."""
        return self.state in ENDED_STATES

    @property
    def succeeded(self) -> bool:
        """Whether the job produced a model."""
        return self.state in {"JOB_STATE_SUCCEEDED", "JOB_STATE_PARTIALLY_SUCCEEDED"} and bool(self.tuned_model)

    @property
    def short_state(self) -> str:
        """``RUNNING`` instead of ``JOB_STATE_RUNNING``."""
        return self.state.removeprefix("JOB_STATE_")

    @property
    def billable_tokens(self) -> int | None:
        """The server's billable token count for the dataset, once known."""
        return _int(self.stats.get("total_billable_token_count"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TuningJobInfo:
        """Inverse of `to_dict` (unknown keys are ignored, so old rows still load)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def tuning_info(job: Any) -> TuningJobInfo:
    """Snapshot a google-genai ``TuningJob``."""
    error = job.error
    tuned = job.tuned_model
    checkpoints = [
        {
            "checkpoint_id": c.checkpoint_id,
            "epoch": _int(c.epoch),
            "step": _int(c.step),
            "endpoint": c.endpoint,
        }
        for c in ((tuned.checkpoints or []) if tuned else [])
    ]
    stats: dict[str, Any] = {}
    tds = job.tuning_data_stats
    sup = tds.supervised_tuning_data_stats if tds else None
    if sup is not None:
        raw = sup.model_dump(mode="json", exclude_none=True)
        for key in (
            "tuning_dataset_example_count",
            "total_billable_token_count",
            "tuning_step_count",
            "total_truncated_example_count",
            "total_tuning_character_count",
        ):
            if raw.get(key) is not None:
                stats[key] = _int(raw[key])
        for key in ("dropped_example_reasons", "truncated_example_indices"):
            if raw.get(key):
                stats[key] = raw[key]
    spec = job.supervised_tuning_spec
    hp: dict[str, Any] = {}
    if spec is not None and spec.hyper_parameters is not None:
        h = spec.hyper_parameters
        adapter = _state(h.adapter_size) if h.adapter_size is not None else None
        hp = {
            "epochs": _int(h.epoch_count),
            "learning_rate_multiplier": h.learning_rate_multiplier,
            "adapter_size": adapter,
        }
    pre = job.pre_tuned_model
    return TuningJobInfo(
        name=job.name or "",
        state=_state(job.state),
        base_model=job.base_model or (pre.base_model if pre else None),
        display_name=job.tuned_model_display_name,
        create_time=_time(job.create_time),
        start_time=_time(job.start_time),
        end_time=_time(job.end_time),
        update_time=_time(job.update_time),
        error_code=error.code if error else None,
        error_message=error.message if error else None,
        tuned_model=tuned.model if tuned else None,
        endpoint=tuned.endpoint if tuned else None,
        checkpoints=checkpoints,
        stats=stats,
        hyperparameters=hp,
        train_uri=spec.training_dataset_uri if spec else None,
        validation_uri=spec.validation_dataset_uri if spec else None,
        labels=dict(job.labels or {}),
        experiment=job.experiment,
        pre_tuned_model=pre.tuned_model_name if pre else None,
    )


@dataclass(frozen=True, slots=True)
class BatchJobInfo:
    """What Vertex says about one batch prediction job, at one moment."""

    name: str
    state: str
    model: str | None = None
    display_name: str | None = None
    src_uris: list[str] = field(default_factory=list)
    dest_uri: str | None = None
    """The output prefix requested."""
    output_dir: str | None = None
    """Where Vertex wrote ``predictions.jsonl`` (known once the job runs)."""
    create_time: str | None = None
    end_time: str | None = None
    error_message: str | None = None
    succeeded_count: int | None = None
    failed_count: int | None = None
    incomplete_count: int | None = None

    @property
    def has_ended(self) -> bool:
        """Whether the job reached a final state."""
        return self.state in ENDED_STATES

    @property
    def succeeded(self) -> bool:
        """Whether the job finished (some rows may still have failed: see ``failed_count``)."""
        return self.state in {"JOB_STATE_SUCCEEDED", "JOB_STATE_PARTIALLY_SUCCEEDED"}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def batch_info(job: Any) -> BatchJobInfo:
    """Snapshot a google-genai ``BatchJob``."""
    stats = job.completion_stats
    src = job.src
    dest = job.dest
    return BatchJobInfo(
        name=job.name or "",
        state=_state(job.state),
        model=job.model,
        display_name=job.display_name,
        src_uris=list(src.gcs_uri or []) if src is not None and src.gcs_uri else [],
        dest_uri=dest.gcs_uri if dest is not None else None,
        output_dir=job.output_info.gcs_output_directory if job.output_info else None,
        create_time=_time(job.create_time),
        end_time=_time(job.end_time),
        error_message=job.error.message if job.error else None,
        succeeded_count=_int(stats.successful_count) if stats else None,
        failed_count=_int(stats.failed_count) if stats else None,
        incomplete_count=_int(stats.incomplete_count) if stats else None,
    )
