"""The ``reviews`` table: every save in the review UI, with its field diff and what an undo must restore."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from humortune.workspace.stores._base import Store, dumps, loads_dict, now_text, parse_time

__all__ = ["ReviewAction", "ReviewEvent", "ReviewLog"]

ReviewAction = Literal["edit", "accept", "skip", "niche", "undo"]


class ReviewEvent(BaseModel):
    """One recorded review action. ``diff`` holds the field diff, earlier rows and label ids (for undo)."""

    model_config = ConfigDict(frozen=True)

    id: int = 0
    correction_id: str | None = None
    analysis_id: str | None = None
    model: str | None = None
    dataset_id: str | None = None
    action: ReviewAction
    diff: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def undoes(self) -> int | None:
        """For an ``undo``: the id of the review it reverted."""
        value = self.diff.get("undoes")
        return int(value) if isinstance(value, int) else None


class ReviewLog(Store):
    """Append review actions and read the log (named apart from `humortune.feedback.review.ReviewStore`)."""

    def append(self, event: ReviewEvent) -> int:
        """Record ``event`` (its id and time are assigned here); returns the new id."""
        cursor = self.db.execute(
            "INSERT INTO reviews (correction_id, analysis_id, model, dataset_id, action, diff_json, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                event.correction_id,
                event.analysis_id,
                event.model,
                event.dataset_id,
                event.action,
                dumps(event.diff),
                now_text(),
            ),
        )
        return int(cursor.fetchone()[0])

    def get(self, review_id: int) -> ReviewEvent | None:
        """One review by id."""
        row = self.db.query_one("SELECT * FROM reviews WHERE id = ?", (int(review_id),))
        return _event(row) if row is not None else None

    def last_action(self, analysis_id: str) -> ReviewAction | None:
        """The newest action taken on an analysis (``undo`` means it is back in the queue)."""
        row = self.db.query_one(
            "SELECT action FROM reviews WHERE analysis_id = ? ORDER BY id DESC LIMIT 1", (analysis_id,)
        )
        return row["action"] if row is not None else None

    def last_undoable(self) -> ReviewEvent | None:
        """The newest review not yet undone, or ``None``."""
        undoes = self.db.dialect.json_text("diff_json", "undoes")
        row = self.db.query_one(
            "SELECT * FROM reviews WHERE action IN ('edit', 'accept', 'skip', 'niche') AND id NOT IN"
            f" (SELECT CAST({undoes} AS INTEGER) FROM reviews WHERE action = 'undo' AND {undoes} IS NOT NULL)"
            " ORDER BY id DESC LIMIT 1"
        )
        return _event(row) if row is not None else None

    def detach_correction(self, correction_id: str) -> int:
        """Forget a correction in the log (it is being deleted); returns how many reviews named it."""
        cursor = self.db.execute("UPDATE reviews SET correction_id = NULL WHERE correction_id = ?", (correction_id,))
        return int(cursor.rowcount)


def _event(row: Any) -> ReviewEvent:
    return ReviewEvent(
        id=int(row["id"]),
        correction_id=row["correction_id"],
        analysis_id=row["analysis_id"],
        model=row["model"],
        dataset_id=row["dataset_id"],
        action=row["action"],
        diff=loads_dict(row["diff_json"]),
        created_at=parse_time(row["created_at"]),
    )
