"""The tuner's tables: ``tuning_jobs``, ``sweeps`` and ``models``, and the lineage that joins them.

Lineage of a tuned model, all from the corpus: model → job (hyperparameters, request, billable tokens) →
dataset version (prompt version, media resolution, JSONL URIs) → examples (correction ids, video sha256 per
split) → and, for continued tuning, the parent model's own lineage.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from humortune._gemini_results import TuningJobInfo
from humortune.errors import ModelNotFoundError, TuningError
from humortune.schema import TunedModel, utcnow
from humortune.workspace import Corpus
from humortune.workspace.db import Database

__all__ = ["JobRow", "ModelMatch", "ModelRegistry", "match_model", "short_id"]

CURRENT = "current"
"""The alias that names the model in use; before any promotion it falls back to the newest tuned model."""

_DEAD_STATES = ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED")


def _now() -> str:
    return utcnow().isoformat(timespec="microseconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class JobRow:
    """One row of ``tuning_jobs``."""

    name: str
    dataset_id: str | None
    base_model: str
    request_hash: str
    hyperparams: dict[str, Any]
    """Hyperparameters plus the request's context (train/validation URIs, checkpoint, labels)."""
    display_name: str | None
    state: str
    sweep_id: str | None
    estimate_usd: float | None
    info: TuningJobInfo | None
    created_at: datetime
    updated_at: datetime


def _job_row(row: sqlite3.Row) -> JobRow:
    return JobRow(
        name=row["name"],
        dataset_id=row["dataset_id"],
        base_model=row["base_model"],
        request_hash=row["request_hash"],
        hyperparams=json.loads(row["hyperparams_json"]),
        display_name=row["display_name"],
        state=row["state"],
        sweep_id=row["sweep_id"],
        estimate_usd=row["estimate_usd"],
        info=TuningJobInfo.from_dict(json.loads(row["job_json"])) if row["job_json"] else None,
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def model_from_row(row: sqlite3.Row) -> TunedModel:
    """A ``models`` table row as a `TunedModel` (the one reader of that table's columns)."""
    return TunedModel(
        id=row["id"],
        endpoint=row["endpoint"],
        job_name=row["job_name"],
        base_model=row["base_model"],
        dataset_id=row["dataset_id"],
        prompt_version=row["prompt_version"],
        media_resolution=row["media_resolution"],
        niche=row["niche"],
        checkpoints=json.loads(row["checkpoints_json"] or "[]"),
        stats=json.loads(row["stats_json"] or "{}"),
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def short_id(model_id: str) -> str:
    """The last part of a model's resource name (``1629…@1``): what the CLI shows and accepts."""
    return model_id.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ModelMatch:
    """A registered model found by `match_model`, and how it was reached."""

    model: TunedModel
    alias: str | None = None
    """The alias it was named by, if any."""
    note: str | None = None
    """Set when ``current`` fell back to the newest tuned model: callers say it out loud."""


def match_model(db: Database, ref: str) -> ModelMatch | None:
    """The one lookup of a model name: alias, id, endpoint, job name, short id, or a unique id fragment.

    ``current`` before anything was promoted means the newest tuned model (with a `ModelMatch.note`).
    ``None`` when nothing matches; an ambiguous fragment raises `ModelNotFoundError`.
    """
    alias = db.query_one("SELECT model_id FROM aliases WHERE name = ?", (ref,))
    if alias is not None:
        row = db.query_one("SELECT * FROM models WHERE id = ?", (alias["model_id"],))
        return ModelMatch(model_from_row(row), alias=ref) if row is not None else None
    row = db.query_one("SELECT * FROM models WHERE id = ? OR endpoint = ? OR job_name = ?", (ref, ref, ref))
    if row is not None:
        return ModelMatch(model_from_row(row))
    if ref == CURRENT:
        return _newest_tuned(db)
    found = _by_fragment(db, ref)
    return ModelMatch(found) if found is not None else None


def _newest_tuned(db: Database) -> ModelMatch | None:
    row = db.query_one("SELECT * FROM models WHERE job_name IS NOT NULL ORDER BY created_at DESC, id LIMIT 1")
    if row is None:
        return None
    model = model_from_row(row)
    note = f"nothing is promoted as 'current' yet; using the newest tuned model {short_id(model.id)}"
    return ModelMatch(model, note=note)


def _by_fragment(db: Database, ref: str) -> TunedModel | None:
    """A short id (exact, prefix, or ``prefix…suffix`` as the CLI abbreviates it), else a unique substring."""
    if not ref or ref.startswith(("projects/", "publishers/")):
        return None
    models = [model_from_row(r) for r in db.query("SELECT * FROM models ORDER BY created_at DESC, id")]
    head, ellipsis, tail = ref.partition("…")
    for matches in (
        [m for m in models if short_id(m.id) == ref],
        [m for m in models if ellipsis and short_id(m.id).startswith(head) and short_id(m.id).endswith(tail)],
        [m for m in models if not ellipsis and short_id(m.id).startswith(ref)],
        [m for m in models if not ellipsis and ref in m.id],
    ):
        if len(matches) > 1:
            raise ModelNotFoundError(
                f"{ref!r} matches {len(matches)} models",
                hint="give more of the id (see humortune models list)",
                item=ref,
            )
        if matches:
            return matches[0]
    return None


class ModelRegistry:
    """Read and write the tuner's tables in a corpus."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.db = corpus.db

    # -- datasets (read-only: the dataset layer owns the table) --------------------------------------

    def dataset_exists(self, dataset_id: str | None) -> bool:
        """Whether ``dataset_versions`` has this id (foreign keys need it)."""
        if not dataset_id:
            return False
        return self.db.query_one("SELECT 1 FROM dataset_versions WHERE id = ?", (dataset_id,)) is not None

    # -- jobs ------------------------------------------------------------------------------------------

    def record_job(
        self,
        info: TuningJobInfo,
        *,
        dataset_id: str | None,
        base_model: str,
        request_hash: str,
        hyperparams: dict[str, Any],
        display_name: str | None,
        sweep_id: str | None = None,
        estimate_usd: float | None = None,
    ) -> None:
        """Insert a job (or adopt one found remotely); an existing row keeps its context and gets the new state."""
        now = _now()
        known = self.dataset_id_if_known(dataset_id)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO tuning_jobs (name, dataset_id, base_model, request_hash, hyperparams_json, display_name,"
                " state, sweep_id, estimate_usd, job_json, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET state = excluded.state, job_json = excluded.job_json,"
                " sweep_id = COALESCE(tuning_jobs.sweep_id, excluded.sweep_id), updated_at = excluded.updated_at",
                (
                    info.name,
                    known,
                    base_model,
                    request_hash,
                    _dumps(hyperparams),
                    display_name,
                    info.state,
                    sweep_id,
                    estimate_usd,
                    _dumps(info.to_dict()),
                    now,
                    now,
                ),
            )

    def dataset_id_if_known(self, dataset_id: str | None) -> str | None:
        """``dataset_id`` when the corpus has that version, else ``None`` (kept in the JSON instead)."""
        return dataset_id if self.dataset_exists(dataset_id) else None

    def update_job(self, info: TuningJobInfo) -> None:
        """Store the latest snapshot of a job we already know."""
        self.db.execute(
            "UPDATE tuning_jobs SET state = ?, job_json = ?, updated_at = ? WHERE name = ?",
            (info.state, _dumps(info.to_dict()), _now(), info.name),
        )

    def set_sweep(self, name: str, sweep_id: str) -> None:
        """Attach a job to a sweep (a job submitted before keeps its first sweep)."""
        self.db.execute(
            "UPDATE tuning_jobs SET sweep_id = COALESCE(sweep_id, ?) WHERE name = ?",
            (sweep_id, name),
        )

    def job(self, name: str) -> JobRow | None:
        """The row of a job, by full resource name or unique id suffix."""
        row = self.db.query_one("SELECT * FROM tuning_jobs WHERE name = ?", (name,))
        if row is None and "/" not in name:
            rows = self.db.query("SELECT * FROM tuning_jobs WHERE name LIKE ?", (f"%/tuningJobs/{name}%",))
            if len(rows) > 1:
                raise TuningError(f"{name!r} matches {len(rows)} jobs", hint="give the full job name", item=name)
            row = rows[0] if rows else None
        return _job_row(row) if row else None

    def live_job_for(self, request_hash: str) -> JobRow | None:
        """The newest job with this request hash that did not fail or get cancelled (duplicate detection)."""
        row = self.db.query_one(
            f"SELECT * FROM tuning_jobs WHERE request_hash = ? AND state NOT IN {_DEAD_STATES}"
            " ORDER BY created_at DESC LIMIT 1",
            (request_hash,),
        )
        return _job_row(row) if row else None

    def jobs(self, *, sweep_id: str | None = None) -> list[JobRow]:
        """Known jobs, newest first (optionally one sweep's)."""
        if sweep_id:
            rows = self.db.query("SELECT * FROM tuning_jobs WHERE sweep_id = ? ORDER BY created_at, name", (sweep_id,))
        else:
            rows = self.db.query("SELECT * FROM tuning_jobs ORDER BY created_at DESC, name")
        return [_job_row(r) for r in rows]

    # -- sweeps ----------------------------------------------------------------------------------------

    def record_sweep(
        self, sweep_id: str, *, dataset_id: str | None, grid: dict[str, Any], max_cost: float | None
    ) -> bool:
        """Record a sweep once; ``False`` if it was already recorded (a rerun resumes it)."""
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM sweeps WHERE id = ?", (sweep_id,)).fetchone():
                return False
            conn.execute(
                "INSERT INTO sweeps (id, dataset_id, grid_json, max_cost, created_at) VALUES (?, ?, ?, ?, ?)",
                (sweep_id, self.dataset_id_if_known(dataset_id), _dumps(grid), max_cost, _now()),
            )
        return True

    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        """A sweep's grid and cap, or ``None``."""
        row = self.db.query_one("SELECT * FROM sweeps WHERE id = ?", (sweep_id,))
        if row is None:
            return None
        return {
            "id": row["id"],
            "dataset_id": row["dataset_id"],
            "grid": json.loads(row["grid_json"]),
            "max_cost": row["max_cost"],
            "created_at": row["created_at"],
        }

    def sweeps(self) -> list[dict[str, Any]]:
        """Every sweep, newest first."""
        rows = self.db.query("SELECT id FROM sweeps ORDER BY created_at DESC")
        return [s for s in (self.sweep(r["id"]) for r in rows) if s]

    # -- models ----------------------------------------------------------------------------------------

    def register(self, model: TunedModel) -> TunedModel:
        """Insert or refresh a tuned model (idempotent: the first registration time is kept)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO models (id, endpoint, job_name, base_model, dataset_id, prompt_version,"
                " media_resolution, niche, checkpoints_json, stats_json, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET endpoint = excluded.endpoint, checkpoints_json ="
                " excluded.checkpoints_json, stats_json = excluded.stats_json",
                (
                    model.id,
                    model.endpoint,
                    model.job_name,
                    model.base_model,
                    self.dataset_id_if_known(model.dataset_id),
                    model.prompt_version,
                    model.media_resolution,
                    model.niche,
                    _dumps(model.checkpoints),
                    _dumps(model.stats),
                    model.created_at.isoformat(timespec="microseconds"),
                ),
            )
        found = self.model(model.id)
        assert found is not None
        return found

    def model(self, ref: str) -> TunedModel | None:
        """A model by alias, resource name, endpoint, job name, short id or unique id fragment (`match_model`)."""
        found = match_model(self.db, ref)
        return found.model if found else None

    def models(self) -> list[TunedModel]:
        """Every registered model, newest first."""
        return [model_from_row(r) for r in self.db.query("SELECT * FROM models ORDER BY created_at DESC, id")]

    def lineage(self, ref: str) -> dict[str, Any]:
        """Everything that produced a model: job, hyperparameters, dataset, prompt, examples, parent model."""
        model = self.model(ref)
        if model is None:
            raise TuningError(f"no registered model {ref!r}", hint="see `humortune models list`", item=ref)
        job = self.job(model.job_name) if model.job_name else None
        dataset_id = model.dataset_id or (job.hyperparams.get("dataset_id") if job else None)
        dataset = (
            self.db.query_one(
                "SELECT id, prompt_version, target_format, media_resolution, niche, train_uri, validation_uri,"
                " created_at FROM dataset_versions WHERE id = ?",
                (dataset_id,),
            )
            if dataset_id
            else None
        )
        examples = (
            self.db.query(
                "SELECT correction_id, video_sha256, split, row_hash FROM dataset_examples WHERE dataset_id = ?"
                " ORDER BY split, correction_id",
                (dataset_id,),
            )
            if dataset_id
            else []
        )
        parent_id = job.hyperparams.get("parent_model") if job else None
        parent = self.model(parent_id) if parent_id else None
        return {
            "model": model.model_dump(mode="json"),
            "job": {
                "name": job.name,
                "state": job.state,
                "request_hash": job.request_hash,
                "hyperparameters": job.hyperparams,
                "display_name": job.display_name,
                "sweep_id": job.sweep_id,
                "estimate_usd": job.estimate_usd,
                "created_at": job.created_at.isoformat(),
            }
            if job
            else None,
            "dataset": dict(dataset) if dataset else ({"id": dataset_id} if dataset_id else None),
            "prompt_version": model.prompt_version,
            "examples": [dict(e) for e in examples],
            "videos": sorted({e["video_sha256"] for e in examples if e["split"] != "test"}),
            "parent": parent.id if parent else parent_id,
        }
