"""What an ingest run reports: one `SourceOutcome` per source, `IngestProgress` events, the `IngestReport`.

Values only (no I/O but the report's JSON file), so the CLI, the service and scripts read them without the
ingest machinery; `humortune.ingest` re-exports them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from humortune._util import atomic_write
from humortune.urls import redact

__all__ = ["IngestProgress", "IngestReport", "IngestStatus", "ProgressCallback", "SourceOutcome"]

IngestStatus = Literal["ok", "present", "failed"]


@dataclass(slots=True)
class SourceOutcome:
    """What happened to one source: ``ok`` (stored now), ``present`` (already stored) or ``failed``."""

    key: str
    """Canonical source key (``tiktok:<id>``, ``file:<path>``…), as in the corpus."""
    url: str
    """The URL or path as the battery gave it, redacted (`humortune.urls.redact`: no credentials, no
    signed-URL query strings)."""
    status: IngestStatus
    object_key: str | None = None
    uri: str | None = None
    sha256: str | None = None
    category: str | None = None
    """Failure category (``removed``, ``private``, ``geo``, ``unsupported``, ``too_large``, ``not_video``,
    ``rate_limited``, ``server``, ``network``, ``extractor``, ``storage``, ``unknown``)."""
    message: str | None = None
    hint: str | None = None
    """The suggested fix for a failure."""
    transient: bool = False
    """Whether the failure may go away by itself (retry later with ``--only-failed``)."""
    attempts: int = 0
    seconds: float = 0.0
    bytes_downloaded: int = 0
    bytes_uploaded: int = 0


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """A progress event: the start (``outcome is None``), then one per finished source."""

    total: int
    completed: int
    outcome: SourceOutcome | None = None


@dataclass(slots=True)
class IngestReport:
    """Per-source outcomes of one `Ingestor.run`, with totals; `save_json` writes it atomically."""

    storage_uri: str
    started_at: datetime
    seconds: float = 0.0
    outcomes: list[SourceOutcome] = field(default_factory=list)

    def _with(self, status: IngestStatus) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> list[SourceOutcome]:
        """Sources stored by this run."""
        return self._with("ok")

    @property
    def present(self) -> list[SourceOutcome]:
        """Sources that were already stored (nothing uploaded)."""
        return self._with("present")

    @property
    def failed(self) -> list[SourceOutcome]:
        """Sources that need attention (see each one's category and hint)."""
        return self._with("failed")

    @property
    def counts(self) -> dict[str, int]:
        """How many sources ended ok / present / failed."""
        return {s: len(self._with(s)) for s in ("ok", "present", "failed")}

    @property
    def bytes_downloaded(self) -> int:
        return sum(o.bytes_downloaded for o in self.outcomes)

    @property
    def bytes_uploaded(self) -> int:
        return sum(o.bytes_uploaded for o in self.outcomes)

    def summary(self) -> str:
        """One line: counts, bytes moved, time."""
        c = self.counts
        return (
            f"{len(self.outcomes)} source(s): {c['ok']} stored, {c['present']} already present, "
            f"{c['failed']} failed; {self.bytes_downloaded / 2**20:.1f} MB downloaded, "
            f"{self.bytes_uploaded / 2**20:.1f} MB uploaded in {self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the shape `save_json` writes)."""
        return {
            "storage": self.storage_uri,
            "started_at": self.started_at.isoformat(),
            "seconds": self.seconds,
            "counts": self.counts,
            "bytes_downloaded": self.bytes_downloaded,
            "bytes_uploaded": self.bytes_uploaded,
            "sources": [{**dataclasses.asdict(o), "key": redact(o.key)} for o in self.outcomes],
        }

    def save_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as JSON (temp file + rename, so a reader never sees half of it)."""
        with atomic_write(path, "w") as fh:
            json.dump(self.to_dict(), fh, ensure_ascii=False, indent=2)
        return Path(path)

    @classmethod
    def load_json(cls, path: str | os.PathLike[str]) -> IngestReport:
        """Read a report written by `save_json`."""
        data = json.loads(Path(path).read_text("utf-8"))
        return cls(
            storage_uri=data["storage"],
            started_at=datetime.fromisoformat(data["started_at"]),
            seconds=float(data["seconds"]),
            outcomes=[SourceOutcome(**o) for o in data["sources"]],
        )


ProgressCallback = Callable[[IngestProgress], None]
"""Called from the thread that runs `Ingestor.run`: once at start, then once per finished source."""
