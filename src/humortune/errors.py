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
├── AnalysisError
│   └── RecordParseError        a model's structured record could not be parsed
└── EvaluationError
```

Every message says what happened and what to do next; ``item`` names the one thing concerned (a URL, a
battery index, a JSONL line) when there is one.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "BatteryError",
    "ConfigError",
    "CorpusError",
    "DatasetError",
    "DatasetValidationError",
    "EvaluationError",
    "HumortuneError",
    "PermanentSourceError",
    "ProbeError",
    "RecordParseError",
    "SchemaVersionError",
    "SourceError",
    "StorageError",
    "TransientSourceError",
    "TransientStorageError",
    "TuningError",
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
