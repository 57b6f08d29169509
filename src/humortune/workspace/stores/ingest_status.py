"""The ``ingest_status`` table: each source's last ingest outcome, so ``ingest --only-failed`` knows what to retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from humortune.workspace.stores._base import Store, now_text, parse_time

__all__ = ["IngestState", "IngestStatusStore"]


class IngestState(BaseModel):
    """One source's last outcome; ``attempts`` adds up over runs."""

    model_config = ConfigDict(frozen=True)

    video_key: str
    status: Literal["ok", "failed"]
    category: str | None = None
    message: str | None = None
    hint: str | None = None
    attempts: int = 0
    updated_at: datetime | None = None


class IngestStatusStore(Store):
    """Record and read per-source ingest outcomes."""

    def record(self, state: IngestState) -> None:
        """Store a source's outcome; a success clears the failure fields, attempts accumulate."""
        ok = state.status == "ok"
        self.db.execute(
            "INSERT INTO ingest_status (video_key, status, category, message, hint, attempts, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(video_key) DO UPDATE SET status = excluded.status,"
            " category = excluded.category, message = excluded.message, hint = excluded.hint,"
            " attempts = ingest_status.attempts + excluded.attempts, updated_at = excluded.updated_at",
            (
                state.video_key,
                state.status,
                None if ok else state.category,
                None if ok else state.message,
                None if ok else state.hint,
                state.attempts,
                now_text(),
            ),
        )

    def get(self, video_key: str) -> IngestState | None:
        """One source's last outcome."""
        row = self.db.query_one("SELECT * FROM ingest_status WHERE video_key = ?", (video_key,))
        return _state(row) if row is not None else None

    def failed_keys(self) -> set[str]:
        """Canonical keys of the sources whose last ingest failed."""
        return {str(r[0]) for r in self.db.query("SELECT video_key FROM ingest_status WHERE status = 'failed'")}


def _state(row: Any) -> IngestState:
    return IngestState(
        video_key=row["video_key"],
        status=row["status"],
        category=row["category"],
        message=row["message"],
        hint=row["hint"],
        attempts=int(row["attempts"]),
        updated_at=parse_time(row["updated_at"]),
    )
