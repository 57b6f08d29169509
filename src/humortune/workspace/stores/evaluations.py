"""The ``evaluations`` and ``evaluation_items`` tables: evaluation runs (``ev-…``) and calibrations (``cal-…``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from humortune.workspace.stores._base import Store, dumps, like_prefix, loads_dict, parse_time, time_text

__all__ = ["CALIBRATION_PREFIX", "EVALUATION_PREFIX", "EvaluationItem", "EvaluationRecord", "EvaluationStore"]

EVALUATION_PREFIX = "ev-"
CALIBRATION_PREFIX = "cal-"
_CHUNK = 500  # keys per IN (...) query, well under SQLite's parameter limit


class EvaluationRecord(BaseModel):
    """One stored evaluation (or calibration) with its summary."""

    model_config = ConfigDict(frozen=True)

    id: str
    model: str
    incumbent: str | None = None
    dataset_id: str | None = None
    created_at: datetime
    summary: dict[str, Any] = Field(default_factory=dict)
    report_path: str | None = None
    """The HTML report on the machine that ran the evaluation."""
    report_key: str | None = None
    """The HTML report's key in the workspace's storage (readable wherever that storage is shared)."""


class EvaluationItem(BaseModel):
    """One clip's (or label's) scores within an evaluation."""

    model_config = ConfigDict(frozen=True)

    correction_id: str
    scores: dict[str, Any] = Field(default_factory=dict)


class EvaluationStore(Store):
    """Record evaluations with their items; find them again by id, prefix, model or pair."""

    def replace(self, record: EvaluationRecord, items: Iterable[EvaluationItem] | None) -> None:
        """Store ``record`` and its items, replacing any evaluation with the same id (reruns are idempotent).

        ``items=None`` updates the record and keeps the items stored under its id (a rerun with the same scores).
        """
        values = (
            record.model,
            record.incumbent,
            record.dataset_id,
            time_text(record.created_at),
            dumps(record.summary, sort_keys=False),  # reports render it in the order written
            record.report_path,
            record.report_key,
            record.id,
        )
        with self.db.transaction() as conn:
            if items is None:
                conn.execute(
                    "UPDATE evaluations SET model = ?, incumbent = ?, dataset_id = ?, created_at = ?, summary_json = ?,"
                    " report_path = ?, report_key = ? WHERE id = ?",
                    values,
                )
                return
            conn.execute("DELETE FROM evaluations WHERE id = ?", (record.id,))  # its items go with it (cascade)
            conn.execute(
                "INSERT INTO evaluations (model, incumbent, dataset_id, created_at, summary_json, report_path,"
                " report_key, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            conn.executemany(
                "INSERT INTO evaluation_items (evaluation_id, correction_id, scores_json) VALUES (?, ?, ?)",
                [(record.id, item.correction_id, dumps(item.scores, sort_keys=False)) for item in items],
            )

    def get(self, evaluation_id: str) -> EvaluationRecord | None:
        """One evaluation by exact id."""
        row = self.db.query_one("SELECT * FROM evaluations WHERE id = ?", (evaluation_id,))
        return _record(row) if row is not None else None

    def matching(self, ref: str) -> list[EvaluationRecord]:
        """Evaluations whose id is ``ref`` or starts with it, exact match first, then by id."""
        rows = self.db.query(
            "SELECT * FROM evaluations WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id = ? DESC, id",
            (ref, like_prefix(ref), ref),
        )
        return [_record(r) for r in rows]

    def latest(self, *, prefix: str = EVALUATION_PREFIX) -> EvaluationRecord | None:
        """The newest evaluation whose id starts with ``prefix``."""
        found = self.all(prefix=prefix, limit=1)
        return found[0] if found else None

    def all(
        self, *, prefix: str = EVALUATION_PREFIX, model: str | None = None, limit: int = 50
    ) -> list[EvaluationRecord]:
        """Evaluations with this id prefix (optionally of one model), newest first."""
        sql, params = "SELECT * FROM evaluations WHERE id LIKE ? ESCAPE '\\'", [like_prefix(prefix)]
        if model is not None:
            sql += " AND model = ?"
            params.append(model)
        rows = self.db.query(sql + " ORDER BY created_at DESC, id LIMIT ?", (*params, int(limit)))
        return [_record(r) for r in rows]

    def comparisons(self, model: str, incumbent: str) -> list[EvaluationRecord]:
        """Evaluations of ``model`` against ``incumbent``, newest first."""
        rows = self.db.query(
            "SELECT * FROM evaluations WHERE model = ? AND incumbent = ? ORDER BY created_at DESC, id",
            (model, incumbent),
        )
        return [_record(r) for r in rows]

    def involving(self, model: str) -> list[EvaluationRecord]:
        """Evaluations where ``model`` was the subject or the incumbent, oldest first (drift over time)."""
        rows = self.db.query(
            "SELECT * FROM evaluations WHERE model = ? OR incumbent = ? ORDER BY created_at, id", (model, model)
        )
        return [_record(r) for r in rows]

    def items(self, evaluation_id: str) -> list[EvaluationItem]:
        """An evaluation's items in the order they were stored."""
        order = self.db.dialect.insertion_order
        rows = self.db.query(
            f"SELECT correction_id, scores_json FROM evaluation_items WHERE evaluation_id = ? ORDER BY {order}",
            (evaluation_id,),
        )
        return [EvaluationItem(correction_id=r[0], scores=loads_dict(r[1])) for r in rows]

    def text_scores(self, keys: Iterable[str]) -> dict[str, tuple[float, float]]:
        """Cached (chrF, ROUGE-L) scores among ``keys`` (one query per 500 keys)."""
        wanted, found = sorted(set(keys)), {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self.db.query(f"SELECT key, chrf, rouge_l FROM text_scores WHERE key IN ({marks})", chunk):
                found[row[0]] = (float(row[1]), float(row[2]))
        return found

    def save_text_scores(self, scores: Mapping[str, tuple[float, float]]) -> None:
        """Remember (chrF, ROUGE-L) scores by key; a key already stored keeps its scores (same texts, same value)."""
        if not scores:
            return
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO text_scores (key, chrf, rouge_l) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                [(key, chrf, rouge) for key, (chrf, rouge) in scores.items()],
            )


def _record(row: Any) -> EvaluationRecord:
    return EvaluationRecord(
        id=row["id"],
        model=row["model"],
        incumbent=row["incumbent"],
        dataset_id=row["dataset_id"],
        created_at=parse_time(row["created_at"]),
        summary=loads_dict(row["summary_json"]),
        report_path=row["report_path"],
        report_key=row["report_key"],
    )
