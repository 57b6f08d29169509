"""The ``ingest_status`` table: each source's last ingest outcome, so ``ingest --only-failed`` knows what to retry."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from humortune.workspace.stores._base import Store, now_text, parse_time

__all__ = ["IngestState", "IngestStatusStore"]


class IngestState(BaseModel):
    """One source's last outcome; ``attempts`` adds up over runs; ``updated_at`` is when it last changed."""

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

    def record(self, state: IngestState, *, ok_before: Container[str] = ()) -> None:
        """Store a source's outcome; a success clears the failure fields, attempts accumulate.

        ``ok_before`` holds keys read as ``ok`` (`ok_keys`) when the caller's run began: a success with no
        attempt for one of them changes nothing, so nothing is written (a warm ingest of 100k clips would
        otherwise commit 100k transactions that only move ``updated_at``).
        """
        ok = state.status == "ok"
        if ok and not state.attempts and state.video_key in ok_before:
            return
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

    def ok_keys(self) -> frozenset[str]:
        """Canonical keys of the sources whose last ingest succeeded."""
        return frozenset(str(r[0]) for r in self.db.query("SELECT video_key FROM ingest_status WHERE status = 'ok'"))

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
