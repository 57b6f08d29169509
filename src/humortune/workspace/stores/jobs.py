"""The ``tuning_jobs`` and ``sweeps`` tables: every submitted tuning job and the sweeps that grouped them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from humortune.workspace.stores._base import Store, dumps, loads, loads_dict, now_text, parse_time

__all__ = ["DEAD_JOB_STATES", "JobRecord", "JobStore", "SweepRecord"]

DEAD_JOB_STATES = ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED")
"""States after which the same request may be submitted again."""


class JobRecord(BaseModel):
    """One tuning job as recorded: its request hash (the duplicate-submit key) and the last body seen."""

    model_config = ConfigDict(frozen=True)

    name: str
    dataset_id: str | None = None
    base_model: str
    request_hash: str
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    display_name: str | None = None
    state: str
    sweep_id: str | None = None
    estimate_usd: float | None = None
    job: dict[str, Any] | None = Field(None, description="The last TuningJob body seen (TuningJobInfo.to_dict()).")
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SweepRecord(BaseModel):
    """A sweep: its hyperparameter grid and cost cap."""

    model_config = ConfigDict(frozen=True)

    id: str
    dataset_id: str | None = None
    grid: dict[str, Any] = Field(default_factory=dict)
    max_cost: float | None = None
    created_at: datetime | None = None


class JobStore(Store):
    """Read and write tuning jobs and sweeps."""

    def record(self, job: JobRecord) -> None:
        """Insert a job; a job already there keeps its context (and first sweep) and gets the new state and body."""
        now = now_text()
        self.db.execute(
            "INSERT INTO tuning_jobs (name, dataset_id, base_model, request_hash, hyperparams_json, display_name,"
            " state, sweep_id, estimate_usd, job_json, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET state = excluded.state, job_json = excluded.job_json,"
            " sweep_id = COALESCE(tuning_jobs.sweep_id, excluded.sweep_id), updated_at = excluded.updated_at",
            (
                job.name,
                job.dataset_id,
                job.base_model,
                job.request_hash,
                dumps(job.hyperparams),
                job.display_name,
                job.state,
                job.sweep_id,
                job.estimate_usd,
                dumps(job.job) if job.job is not None else None,
                now,
                now,
            ),
        )

    def update_state(self, name: str, state: str, body: dict[str, Any]) -> None:
        """Store the latest state and body of a job already recorded."""
        self.db.execute(
            "UPDATE tuning_jobs SET state = ?, job_json = ?, updated_at = ? WHERE name = ?",
            (state, dumps(body), now_text(), name),
        )

    def attach_to_sweep(self, name: str, sweep_id: str) -> None:
        """Attach a job to a sweep; a job already in one keeps its first."""
        self.db.execute("UPDATE tuning_jobs SET sweep_id = COALESCE(sweep_id, ?) WHERE name = ?", (sweep_id, name))

    def get(self, name: str) -> JobRecord | None:
        """One job by full resource name."""
        row = self.db.query_one("SELECT * FROM tuning_jobs WHERE name = ?", (name,))
        return _job(row) if row is not None else None

    def with_id(self, job_id: str) -> list[JobRecord]:
        """Jobs whose resource name ends in ``tuningJobs/<job_id…>`` (a short id typed by hand)."""
        escaped = job_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.db.query(
            "SELECT * FROM tuning_jobs WHERE name LIKE ? ESCAPE '\\' ORDER BY name", (f"%/tuningJobs/{escaped}%",)
        )
        return [_job(r) for r in rows]

    def live_for(self, request_hash: str) -> JobRecord | None:
        """The newest job with this request hash that did not fail, get cancelled or expire."""
        marks = ", ".join("?" * len(DEAD_JOB_STATES))
        row = self.db.query_one(
            f"SELECT * FROM tuning_jobs WHERE request_hash = ? AND state NOT IN ({marks})"
            " ORDER BY created_at DESC LIMIT 1",
            (request_hash, *DEAD_JOB_STATES),
        )
        return _job(row) if row is not None else None

    def all(self, *, sweep_id: str | None = None) -> list[JobRecord]:
        """Every job, newest first; or a sweep's jobs in submission order."""
        if sweep_id is not None:
            rows = self.db.query("SELECT * FROM tuning_jobs WHERE sweep_id = ? ORDER BY created_at, name", (sweep_id,))
        else:
            rows = self.db.query("SELECT * FROM tuning_jobs ORDER BY created_at DESC, name")
        return [_job(r) for r in rows]

    def add_sweep(self, sweep: SweepRecord) -> bool:
        """Record a sweep once; ``False`` if it was already there (a rerun resumes it)."""
        cursor = self.db.execute(
            "INSERT INTO sweeps (id, dataset_id, grid_json, max_cost, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO NOTHING",
            (sweep.id, sweep.dataset_id, dumps(sweep.grid), sweep.max_cost, now_text()),
        )
        return cursor.rowcount > 0

    def sweep(self, sweep_id: str) -> SweepRecord | None:
        """One sweep, or ``None``."""
        row = self.db.query_one("SELECT * FROM sweeps WHERE id = ?", (sweep_id,))
        return _sweep(row) if row is not None else None

    def sweeps(self) -> list[SweepRecord]:
        """Every sweep, newest first."""
        return [_sweep(r) for r in self.db.query("SELECT * FROM sweeps ORDER BY created_at DESC, id")]


def _job(row: Any) -> JobRecord:
    return JobRecord(
        name=row["name"],
        dataset_id=row["dataset_id"],
        base_model=row["base_model"],
        request_hash=row["request_hash"],
        hyperparams=loads_dict(row["hyperparams_json"]),
        display_name=row["display_name"],
        state=row["state"],
        sweep_id=row["sweep_id"],
        estimate_usd=row["estimate_usd"],
        job=loads(row["job_json"], None),
        created_at=parse_time(row["created_at"]),
        updated_at=parse_time(row["updated_at"]),
    )


def _sweep(row: Any) -> SweepRecord:
    return SweepRecord(
        id=row["id"],
        dataset_id=row["dataset_id"],
        grid=loads_dict(row["grid_json"]),
        max_cost=row["max_cost"],
        created_at=parse_time(row["created_at"]),
    )
