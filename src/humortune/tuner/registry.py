"""The tuner's tables: ``tuning_jobs``, ``sweeps`` and ``models``, and the lineage that joins them.

Lineage of a tuned model, all from the corpus: model → job (hyperparameters, request, billable tokens) →
dataset version (prompt version, media resolution, JSONL URIs) → examples (correction ids, video sha256 per
split) → and, for continued tuning, the parent model's own lineage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from humortune._gemini_results import TuningJobInfo
from humortune.errors import TuningError
from humortune.schema import TunedModel
from humortune.workspace import Corpus
from humortune.workspace.stores import Stores
from humortune.workspace.stores._base import time_text
from humortune.workspace.stores.jobs import JobRecord, SweepRecord
from humortune.workspace.stores.model_match import CURRENT, ModelMatch, match_model, short_id

__all__ = ["CURRENT", "JobRow", "ModelMatch", "ModelRegistry", "match_model", "short_id"]


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


def _job_row(record: JobRecord) -> JobRow:
    assert record.created_at is not None and record.updated_at is not None  # always set by the store
    return JobRow(
        name=record.name,
        dataset_id=record.dataset_id,
        base_model=record.base_model,
        request_hash=record.request_hash,
        hyperparams=dict(record.hyperparams),
        display_name=record.display_name,
        state=record.state,
        sweep_id=record.sweep_id,
        estimate_usd=record.estimate_usd,
        info=TuningJobInfo.from_dict(record.job) if record.job else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


class ModelRegistry:
    """Read and write the tuner's tables in a corpus."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.db = corpus.db
        self.stores = Stores.of(corpus.db)

    # -- datasets (read-only: the dataset layer owns the table) --------------------------------------

    def dataset_exists(self, dataset_id: str | None) -> bool:
        """Whether ``dataset_versions`` has this id (foreign keys need it)."""
        return self.stores.datasets.exists(dataset_id)

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
        with self.db.transaction():
            record = JobRecord(
                name=info.name,
                dataset_id=self.dataset_id_if_known(dataset_id),
                base_model=base_model,
                request_hash=request_hash,
                hyperparams=hyperparams,
                display_name=display_name,
                state=info.state,
                sweep_id=sweep_id,
                estimate_usd=estimate_usd,
                job=info.to_dict(),
            )
            self.stores.jobs.record(record)

    def dataset_id_if_known(self, dataset_id: str | None) -> str | None:
        """``dataset_id`` when the corpus has that version, else ``None`` (kept in the JSON instead)."""
        return dataset_id if self.dataset_exists(dataset_id) else None

    def update_job(self, info: TuningJobInfo) -> None:
        """Store the latest snapshot of a job we already know."""
        self.stores.jobs.update_state(info.name, info.state, info.to_dict())

    def set_sweep(self, name: str, sweep_id: str) -> None:
        """Attach a job to a sweep (a job submitted before keeps its first sweep)."""
        self.stores.jobs.attach_to_sweep(name, sweep_id)

    def job(self, name: str) -> JobRow | None:
        """The row of a job, by full resource name or unique id suffix."""
        record = self.stores.jobs.get(name)
        if record is None and "/" not in name:
            records = self.stores.jobs.with_id(name)
            if len(records) > 1:
                raise TuningError(f"{name!r} matches {len(records)} jobs", hint="give the full job name", item=name)
            record = records[0] if records else None
        return _job_row(record) if record else None

    def live_job_for(self, request_hash: str) -> JobRow | None:
        """The newest job with this request hash that did not fail or get cancelled (duplicate detection)."""
        record = self.stores.jobs.live_for(request_hash)
        return _job_row(record) if record else None

    def jobs(self, *, sweep_id: str | None = None) -> list[JobRow]:
        """Known jobs, newest first (optionally one sweep's)."""
        return [_job_row(r) for r in self.stores.jobs.all(sweep_id=sweep_id or None)]

    # -- sweeps ----------------------------------------------------------------------------------------

    def record_sweep(
        self, sweep_id: str, *, dataset_id: str | None, grid: dict[str, Any], max_cost: float | None
    ) -> bool:
        """Record a sweep once; ``False`` if it was already recorded (a rerun resumes it)."""
        sweep = SweepRecord(id=sweep_id, dataset_id=self.dataset_id_if_known(dataset_id), grid=grid, max_cost=max_cost)
        return self.stores.jobs.add_sweep(sweep)

    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        """A sweep's grid and cap, or ``None``."""
        sweep = self.stores.jobs.sweep(sweep_id)
        return _sweep_dict(sweep) if sweep is not None else None

    def sweeps(self) -> list[dict[str, Any]]:
        """Every sweep, newest first."""
        return [_sweep_dict(s) for s in self.stores.jobs.sweeps()]

    # -- models ----------------------------------------------------------------------------------------

    def register(self, model: TunedModel) -> TunedModel:
        """Insert or refresh a tuned model (idempotent: the first registration time is kept)."""
        with self.db.transaction():
            self.stores.models.register(
                model.model_copy(update={"dataset_id": self.dataset_id_if_known(model.dataset_id)})
            )
        found = self.stores.models.get(model.id)
        assert found is not None
        return found

    def model(self, ref: str) -> TunedModel | None:
        """A model by alias, resource name, endpoint, job name, short id or unique id fragment (`match_model`)."""
        found = match_model(self.db, ref)
        return found.model if found else None

    def models(self) -> list[TunedModel]:
        """Every registered model, newest first."""
        return self.stores.models.all()

    def lineage(self, ref: str) -> dict[str, Any]:
        """Everything that produced a model: job, hyperparameters, dataset, prompt, examples, parent model."""
        model = self.model(ref)
        if model is None:
            raise TuningError(f"no registered model {ref!r}", hint="see `humortune models list`", item=ref)
        job = self.job(model.job_name) if model.job_name else None
        dataset_id = model.dataset_id or (job.hyperparams.get("dataset_id") if job else None)
        dataset = self.stores.datasets.get(dataset_id) if dataset_id else None
        examples = sorted(
            self.stores.datasets.examples(dataset_id) if dataset_id else [], key=lambda e: (e.split, e.correction_id)
        )
        parent_id = job.hyperparams.get("parent_model") if job else None
        parent = self.model(parent_id) if parent_id else None
        return {
            "model": model.model_dump(mode="json"),
            "job": _job_dict(job) if job else None,
            "dataset": _dataset_dict(dataset) if dataset else ({"id": dataset_id} if dataset_id else None),
            "prompt_version": model.prompt_version,
            "examples": [
                {
                    "correction_id": e.correction_id,
                    "video_sha256": e.video_sha256,
                    "split": e.split,
                    "row_hash": e.row_hash,
                }
                for e in examples
            ],
            "videos": sorted({e.video_sha256 for e in examples if e.split != "test"}),
            "parent": parent.id if parent else parent_id,
        }


def _sweep_dict(sweep: SweepRecord) -> dict[str, Any]:
    created = time_text(sweep.created_at) if sweep.created_at else None
    return {
        "id": sweep.id,
        "dataset_id": sweep.dataset_id,
        "grid": sweep.grid,
        "max_cost": sweep.max_cost,
        "created_at": created,
    }


def _job_dict(job: JobRow) -> dict[str, Any]:
    return {
        "name": job.name,
        "state": job.state,
        "request_hash": job.request_hash,
        "hyperparameters": job.hyperparams,
        "display_name": job.display_name,
        "sweep_id": job.sweep_id,
        "estimate_usd": job.estimate_usd,
        "created_at": job.created_at.isoformat(),
    }


def _dataset_dict(record: Any) -> dict[str, Any]:
    keys = ("id", "prompt_version", "target_format", "media_resolution", "niche", "train_uri", "validation_uri")
    return {**{k: getattr(record, k) for k in keys}, "created_at": time_text(record.created_at)}
