"""The ``models`` table: tuned models (and base models registered so they can be aliased)."""

from __future__ import annotations

from typing import Any

from humortune.schema import TunedModel
from humortune.workspace.stores._base import Store, dumps, loads, now_text, parse_time, time_text

__all__ = ["ModelStore"]


class ModelStore(Store):
    """Read and write registered models. Every reader of the ``models`` columns goes through `_model`."""

    def get(self, model_id: str) -> TunedModel | None:
        """One model by exact id."""
        row = self.db.query_one("SELECT * FROM models WHERE id = ?", (model_id,))
        return _model(row) if row is not None else None

    def exists(self, model_id: str) -> bool:
        """Whether ``model_id`` is registered."""
        return self.db.query_one("SELECT 1 FROM models WHERE id = ?", (model_id,)) is not None

    def find(self, ref: str) -> TunedModel | None:
        """A model by id, endpoint or tuning-job name (the first registered wins)."""
        row = self.db.query_one(
            "SELECT * FROM models WHERE id = ? OR endpoint = ? OR job_name = ? ORDER BY created_at, id LIMIT 1",
            (ref, ref, ref),
        )
        return _model(row) if row is not None else None

    def matching(self, pattern: str) -> list[TunedModel]:
        """Models whose id contains ``pattern`` (for short ids typed by hand), oldest first."""
        rows = self.db.query(
            "SELECT * FROM models WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at, id", (_contains(pattern),)
        )
        return [_model(r) for r in rows]

    def all(self) -> list[TunedModel]:
        """Every model, newest first."""
        return [_model(r) for r in self.db.query("SELECT * FROM models ORDER BY created_at DESC, id")]

    def latest_for_niche(self, niche: str) -> TunedModel | None:
        """The newest model tuned for ``niche``."""
        row = self.db.query_one("SELECT * FROM models WHERE niche = ? ORDER BY created_at DESC, id LIMIT 1", (niche,))
        return _model(row) if row is not None else None

    def latest_tuned(self) -> TunedModel | None:
        """The newest model that came out of a tuning job (base models registered for aliasing are not)."""
        row = self.db.query_one(
            "SELECT * FROM models WHERE job_name IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1"
        )
        return _model(row) if row is not None else None

    def register(self, model: TunedModel) -> None:
        """Insert ``model``; a model already there gets the new endpoint, checkpoints and stats."""
        self.db.execute(
            "INSERT INTO models (id, endpoint, job_name, base_model, dataset_id, prompt_version, media_resolution,"
            " niche, checkpoints_json, stats_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET endpoint = excluded.endpoint,"
            " checkpoints_json = excluded.checkpoints_json, stats_json = excluded.stats_json",
            (
                model.id,
                model.endpoint,
                model.job_name,
                model.base_model,
                model.dataset_id,
                model.prompt_version,
                model.media_resolution,
                model.niche,
                dumps(model.checkpoints),
                dumps(model.stats),
                time_text(model.created_at),
            ),
        )

    def ensure(self, model_id: str, *, base_model: str) -> bool:
        """Register a bare model (a base model, so it can be aliased) unless it is there; whether it was added."""
        cursor = self.db.execute(
            "INSERT INTO models (id, base_model, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING",
            (model_id, base_model, now_text()),
        )
        return cursor.rowcount > 0


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _model(row: Any) -> TunedModel:
    return TunedModel(
        id=row["id"],
        endpoint=row["endpoint"],
        job_name=row["job_name"],
        base_model=row["base_model"],
        dataset_id=row["dataset_id"],
        prompt_version=row["prompt_version"],
        media_resolution=row["media_resolution"],
        niche=row["niche"],
        checkpoints=loads(row["checkpoints_json"], []),
        stats=loads(row["stats_json"], {}),
        created_at=parse_time(row["created_at"]),
    )
