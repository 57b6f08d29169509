"""Every error humortune raises on purpose.

Users catch these, never the foreign exceptions underneath (sqlite3, google.api_core, google.genai, yt_dlp,
av): each layer translates at its boundary and chains the original with ``raise ... from exc``.

```
HumortuneError
├── ConfigError
├── CorpusError
│   ├── BatteryError            bad battery items, all reported at once
│   └── SchemaVersionError      workspace written by a newer humortune
├── SourceError                 one URL could not become a video
│   ├── UnsupportedSourceError  permanent: photo posts, live streams, profiles, unknown schemes
│   ├── PermanentSourceError    permanent: removed, private, geo-blocked, not a video, too large
│   ├── TransientSourceError    retryable: rate limits, 5xx, timeouts, resets
│   └── ProbeError              the file is not a decodable video
├── StorageError
│   └── TransientStorageError   retryable
├── DatasetError
│   └── DatasetValidationError  the dataset breaks one of Vertex's rules
├── TuningError
│   ├── TuningPermissionError   401/403: credentials lack a role or bucket access
│   ├── TuningRequestError      400: the service rejected the request (base model, adapter size…)
│   ├── TuningQuotaError        429 after retries (transient)
│   ├── TuningServiceError      5xx / network after retries (transient)
│   ├── TuningJobNotFoundError  no such tuning job
│   ├── TuningJobFailedError    the job ended FAILED or EXPIRED; Vertex's message verbatim
│   ├── HyperparameterError     a hyperparameter the base model does not allow
│   │   └── UnknownModelError   a model id the catalog does not know
│   ├── ModelLifecycleError     the base model is retired, or retires within 30 days
│   └── CostLimitError          the estimate is above the cap, or the user declined
├── AnalysisError
│   ├── RecordParseError        a model's structured record could not be parsed
│   ├── AnalysisPermissionError 401/403
│   ├── AnalysisRequestError    400: the service rejected the request
│   ├── ModelNotFoundError      404: no such model or endpoint
│   ├── RateLimitedError        429 after retries (transient)
│   ├── AnalysisServiceError    5xx / network after retries (transient)
│   ├── SafetyBlockedError      the prompt or the answer was blocked by safety filters
│   ├── EmptyResponseError      no candidates, or a candidate without text
│   └── TruncatedOutputError    the answer hit max_output_tokens (MAX_TOKENS)
├── EvaluationError
│   ├── JudgeError              a judge's answer could not be used
│   └── PromotionRefusedError   the promotion gate said no; ``decision`` holds the evidence
└── FeedbackError               a review could not be saved, or a retrain/niche step could not run
```

Every message says what happened and what to do next; ``item`` names the one thing concerned (a URL, a
battery index, a JSONL line) when there is one.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "AnalysisPermissionError",
    "AnalysisRequestError",
    "AnalysisServiceError",
    "BatteryError",
    "ConfigError",
    "CorpusError",
    "CostLimitError",
    "CredentialsError",
    "DatasetError",
    "DatasetValidationError",
    "EmptyResponseError",
    "EvaluationError",
    "FeedbackError",
    "HumortuneError",
    "HyperparameterError",
    "JudgeError",
    "ModelLifecycleError",
    "ModelNotFoundError",
    "PermanentSourceError",
    "ProbeError",
    "PromotionRefusedError",
    "RateLimitedError",
    "RecordParseError",
    "SafetyBlockedError",
    "SchemaVersionError",
    "SourceError",
    "StorageError",
    "TransientSourceError",
    "TransientStorageError",
    "TruncatedOutputError",
    "TuningError",
    "TuningJobFailedError",
    "TuningJobNotFoundError",
    "TuningPermissionError",
    "TuningQuotaError",
    "TuningRequestError",
    "TuningServiceError",
    "UnknownModelError",
    "UnsupportedSourceError",
]


class HumortuneError(Exception):
    """Base class: something went wrong, and the message says what to do about it."""

    #: Whether retrying the same operation later may succeed (rate limits, 5xx, resets).
    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None, item: str | None = None) -> None:
        self.message = message
        """What happened."""
        self.hint = hint
        """What to do next, if there is something better than reading the message."""
        self.item = item
        """The one item concerned (URL, battery index, JSONL line, model name), if any."""
        super().__init__(message)

    def __str__(self) -> str:
        text = f"{self.item}: {self.message}" if self.item else self.message
        if self.hint:
            text = f"{text} — {self.hint}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        # Keep errors picklable across process pools with their keyword arguments intact.
        return (_rebuild, (type(self), self.message, self.hint, self.item, self.__dict__))


def _rebuild(
    cls: type[HumortuneError], message: str, hint: str | None, item: str | None, state: dict[str, object]
) -> HumortuneError:
    err = cls.__new__(cls)
    HumortuneError.__init__(err, message, hint=hint, item=item)
    err.__dict__.update(state)
    return err


class ConfigError(HumortuneError):
    """A setting is missing or invalid."""


class CredentialsError(ConfigError):
    """No usable Google credentials were found (Application Default Credentials or a key file)."""


class PreflightError(ConfigError):
    """A preflight check (`humortune doctor`) failed before `prepare` or `tune` started any work."""


class CorpusError(HumortuneError):
    """The workspace database could not be read or written."""


class BatteryError(CorpusError):
    """One or more battery items are invalid. ``problems`` lists every one of them."""

    def __init__(self, problems: list[str], *, source: str, imported: int = 0) -> None:
        self.problems = problems
        self.imported = imported
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} invalid item(s):\n  {shown}{more}",
            hint="fix the items named above and import again (valid items are kept unless --strict)",
            item=source,
        )


class SchemaVersionError(CorpusError):
    """The workspace was written by a newer version of humortune."""


class SourceError(HumortuneError):
    """A video source (URL or file) could not be turned into a video file."""

    #: Short machine-readable category for reports: "unsupported", "removed", "private", "geo",
    #: "too_large", "not_video", "rate_limited", "server", "network", "unknown".
    category: str = "unknown"

    def __init__(
        self, message: str, *, hint: str | None = None, item: str | None = None, category: str | None = None
    ) -> None:
        super().__init__(message, hint=hint, item=item)
        if category is not None:
            self.category = category


class UnsupportedSourceError(SourceError):
    """The URL points at something that is not a single video (photo post, live stream, profile…)."""

    category = "unsupported"


class PermanentSourceError(SourceError):
    """The video cannot be fetched, and retrying will not help."""


class TransientSourceError(SourceError):
    """The fetch failed for a reason that may go away (rate limit, 5xx, timeout, reset)."""

    transient = True
    category = "network"


class ProbeError(SourceError):
    """The file is not a decodable video."""

    category = "not_video"


class StorageError(HumortuneError):
    """An object could not be read from or written to storage."""


class TransientStorageError(StorageError):
    """A storage call failed for a reason that may go away (429, 5xx, reset)."""

    transient = True


class DatasetError(HumortuneError):
    """A tuning dataset could not be built."""


class DatasetValidationError(DatasetError):
    """The dataset breaks Vertex AI's rules. ``problems`` lists every error found."""

    def __init__(self, problems: list[str], *, item: str | None = None) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} validation error(s):\n  {shown}{more}",
            hint="fix the rows named above; Vertex fails the whole job when more than 10% of rows are invalid",
            item=item,
        )


class TuningError(HumortuneError):
    """A tuning job could not be submitted, monitored or cancelled."""


class AnalysisError(HumortuneError):
    """A video could not be analysed."""


class RecordParseError(AnalysisError):
    """A structured humour record could not be parsed from a model's answer."""

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        self.field = field
        """The offending field, if the problem is in one field."""
        super().__init__(message, hint=hint, item=f"field {field!r}" if field else None)


class EvaluationError(HumortuneError):
    """An evaluation or promotion could not be carried out."""


class TuningPermissionError(TuningError):
    """The credentials lack an IAM role or bucket permission the tuning call needs (401/403)."""


class TuningRequestError(TuningError):
    """The service rejected the tuning request as invalid (400): base model, adapter size, dataset URI…"""


class TuningQuotaError(TuningError):
    """Quota or rate limit (429), still exceeded after retrying with backoff."""

    transient = True


class TuningServiceError(TuningError):
    """The service failed (5xx) or could not be reached, still after retrying with backoff."""

    transient = True


class TuningJobNotFoundError(TuningError):
    """No tuning job has that name (in this project and region)."""


class TuningJobFailedError(TuningError):
    """A tuning job ended without a model. ``vertex_message`` is the service's own error text, verbatim."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        item: str | None = None,
        state: str | None = None,
        code: int | None = None,
        vertex_message: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, item=item)
        self.state = state
        """The final job state, e.g. ``JOB_STATE_FAILED``."""
        self.code = code
        """The google.rpc status code Vertex reported, if any."""
        self.vertex_message = vertex_message
        """Vertex's error message, verbatim."""


class HyperparameterError(TuningError):
    """A hyperparameter is outside what the chosen base model allows."""


class UnknownModelError(HyperparameterError):
    """The model catalog (``humortune.catalog``) does not know this model id."""


class ModelLifecycleError(TuningError):
    """The base model is retired, or retires too soon to tune on (Vertex blocks tuning a month before)."""


class CostLimitError(TuningError):
    """The estimated cost is above the cap, or the user declined the confirmation."""


class AnalysisPermissionError(AnalysisError):
    """The credentials may not call this model or read this video (401/403)."""


class AnalysisRequestError(AnalysisError):
    """The service rejected the generation request as invalid (400)."""


class ModelNotFoundError(AnalysisError):
    """No model or endpoint has that name in this project and region (404)."""


class RateLimitedError(AnalysisError):
    """Quota or rate limit (429), still exceeded after retrying (honouring Retry-After)."""

    transient = True


class AnalysisServiceError(AnalysisError):
    """The service failed (5xx) or could not be reached, still after retrying with backoff."""

    transient = True


class SafetyBlockedError(AnalysisError):
    """The prompt or the answer was blocked by the model's safety filters."""


class EmptyResponseError(AnalysisError):
    """The model returned no candidate, or a candidate without any text."""


class TruncatedOutputError(AnalysisError):
    """The answer stopped at ``max_output_tokens`` (finish reason MAX_TOKENS). ``partial`` holds what came."""

    def __init__(self, message: str, *, hint: str | None = None, item: str | None = None, partial: str = "") -> None:
        super().__init__(message, hint=hint, item=item)
        self.partial = partial
        """The text the model produced before it was cut off."""


class JudgeError(EvaluationError):
    """A model judge gave no usable answer (empty, or not the requested JSON)."""


class PromotionRefusedError(EvaluationError):
    """The promotion gate refused a candidate. ``decision`` is the `GateDecision` with every check."""

    def __init__(
        self, message: str, *, decision: object = None, hint: str | None = None, item: str | None = None
    ) -> None:
        self.decision = decision
        """The gate decision (``humortune.evaluator.gate.GateDecision``) with the evidence."""
        super().__init__(message, hint=hint, item=item)


class FeedbackError(HumortuneError):
    """A review could not be saved (bad input, unknown clip), or a retrain or niche step could not run."""


class StaleReviewError(FeedbackError):
    """A review was edited from a revision of the clip's correction that another save has replaced since.

    Nothing was written. ``saved`` is the correction now stored (``None`` if it was removed, e.g. undone),
    ``revision`` its revision: save again with it to keep the submitted version, or keep the saved one.
    """

    def __init__(self, message: str, *, saved: object, revision: str, item: str | None = None) -> None:
        super().__init__(
            message,
            hint="compare both versions, then save yours again or keep the saved one",
            item=item,
        )
        self.saved = saved
        self.revision = revision
