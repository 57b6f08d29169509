"""Hyperparameter sweeps with a cost cap, recorded in the corpus and reported side by side.

A grid maps ``epochs``, ``learning_rate_multiplier``, ``adapter_size`` and ``media_resolution`` to lists of
values; every combination becomes one job. Nothing is submitted unless the estimated total (high end) stays
under ``max_cost``. A sweep's id is the hash of its grid, base model and datasets, so running the same sweep
again resumes it: jobs already submitted are found by the duplicate check, not paid for twice.

Validation loss: Vertex records ``/eval_total_loss`` per checkpoint in the job's Vertex AI Experiment, not
in the TuningJob resource, so the report reads it through an optional ``metrics`` callable (the offline
FakeGemini provides one); otherwise the column shows the experiment to open.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from humortune._util import short_hash
from humortune.errors import CostLimitError, HumortuneError, HyperparameterError
from humortune.schema import DatasetVersion, TunedModel
from humortune.tuner.catalog import Hyperparameters, validate_hyperparameters
from humortune.tuner.jobs import TuningJob

if TYPE_CHECKING:  # pragma: no cover
    from humortune._gemini_results import TuningJobInfo
    from humortune.tuner.tuner import Confirm, Tuner

__all__ = ["GRID_KEYS", "Sweep", "SweepPoint", "SweepReport", "plan_sweep", "run_sweep"]

GRID_KEYS = ("epochs", "learning_rate_multiplier", "adapter_size", "media_resolution")
Metrics = Callable[["TuningJobInfo"], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One grid point: hyperparameters, the dataset version it trains on, and its estimated cost."""

    hyperparameters: Hyperparameters
    dataset: DatasetVersion
    usd_low: float
    usd_high: float


@dataclass
class Sweep:
    """A submitted sweep: its id, points and jobs (in grid order)."""

    id: str
    points: list[SweepPoint]
    jobs: list[TuningJob]
    total_usd_high: float
    metrics: Metrics | None = None

    def wait(self, *, progress: bool = True, **kwargs: Any) -> list[TunedModel | HumortuneError]:
        """Wait for every job; a failed job gives its error instead of a model."""
        results: list[TunedModel | HumortuneError] = []
        for job in self.jobs:
            try:
                results.append(job.wait(progress=progress, **kwargs))
            except HumortuneError as exc:
                results.append(exc)
        return results

    def report(self) -> SweepReport:
        """The jobs side by side (from their last known state)."""
        return SweepReport.build(self.id, self.points, self.jobs, self.metrics)


@dataclass
class SweepReport:
    """Rows of a sweep, best validation loss first when known."""

    sweep_id: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def build(
        cls, sweep_id: str, points: Sequence[SweepPoint], jobs: Sequence[TuningJob], metrics: Metrics | None
    ) -> SweepReport:
        rows = []
        for point, job in zip(points, jobs, strict=True):
            info = job.info
            found = metrics(info) if (metrics and info) else None
            hp = point.hyperparameters
            rows.append(
                {
                    "job": job.name.rsplit("/", 1)[-1],
                    "state": info.short_state if info else "?",
                    "epochs": hp.epochs,
                    "learning_rate_multiplier": hp.learning_rate_multiplier,
                    "adapter_size": hp.adapter_size,
                    "media_resolution": point.dataset.media_resolution,
                    "estimate_usd_high": point.usd_high,
                    "billable_tokens": info.billable_tokens if info else None,
                    "checkpoints": len(info.checkpoints) if info else 0,
                    "eval_loss": (found or {}).get("eval_loss"),
                    "best_checkpoint": (found or {}).get("best_checkpoint"),
                    "experiment": info.experiment if info else None,
                    "endpoint": info.endpoint if info else None,
                }
            )
        rows.sort(key=lambda r: (r["eval_loss"] is None, r["eval_loss"] or 0.0))
        return cls(sweep_id, rows)


def plan_sweep(
    tuner: Tuner, datasets: DatasetVersion | Sequence[DatasetVersion], grid: Mapping[str, Sequence[Any]]
) -> list[SweepPoint]:
    """Expand the grid, validate every point and price it. Raises before anything is submitted."""
    versions = [datasets] if isinstance(datasets, DatasetVersion) else list(datasets)
    unknown = set(grid) - set(GRID_KEYS)
    if unknown:
        raise HyperparameterError(
            f"unknown sweep dimension(s): {', '.join(sorted(unknown))}", hint=f"use {', '.join(GRID_KEYS)}"
        )
    by_resolution = {v.media_resolution: v for v in versions}
    base = tuner.hyperparameters
    axes = {
        "epochs": list(grid.get("epochs") or [base.epochs]),
        "learning_rate_multiplier": list(grid.get("learning_rate_multiplier") or [base.learning_rate_multiplier]),
        "adapter_size": list(grid.get("adapter_size") or [base.adapter_size]),
        "media_resolution": list(grid.get("media_resolution") or [versions[0].media_resolution]),
    }
    points = []
    for epochs, lr, adapter, resolution in itertools.product(*axes.values()):
        version = by_resolution.get(resolution)
        if version is None:
            raise HyperparameterError(
                f"no dataset version at {resolution} among the ones given",
                hint=f"build one with `humortune build --media-resolution {resolution}` and pass both",
            )
        hp = Hyperparameters(epochs, lr, adapter)
        family = tuner.family if not tuner.family.startswith("projects/") else None
        validate_hyperparameters(tuner.base_model, hp, location=tuner.settings.location, family=family)
        point_tuner = _with(tuner, hp)
        estimate = point_tuner.estimate(version)
        if estimate is None:
            raise CostLimitError(
                f"dataset {version.id} has no cost estimate, so the sweep's cost cannot be capped",
                hint="rebuild it with `humortune build` (which prices it), then sweep again",
            )
        points.append(SweepPoint(hp, version, estimate["usd_low"], estimate["usd_high"]))
    return points


def _with(tuner: Tuner, hp: Hyperparameters) -> Tuner:
    from humortune.tuner.tuner import Tuner

    return Tuner(
        tuner.base_model,
        epochs=hp.epochs,
        learning_rate_multiplier=hp.learning_rate_multiplier,
        adapter_size=hp.adapter_size,
        labels=tuner.labels,
        client=tuner.client,
        corpus=tuner.corpus,
        settings=tuner.settings,
        checkpoint_id=tuner.checkpoint_id,
        export_last_checkpoint_only=tuner.export_last_checkpoint_only,
        description=tuner.description,
        allow_retiring=tuner.allow_retiring,
        today=tuner.today,
    )


def run_sweep(
    tuner: Tuner,
    datasets: DatasetVersion | Sequence[DatasetVersion],
    grid: Mapping[str, Sequence[Any]],
    *,
    max_cost: float,
    yes: bool = False,
    confirm: Confirm | None = None,
    force: bool = False,
) -> Sweep:
    """Plan, check the cap, confirm once for the total, record the sweep, submit every point."""
    points = plan_sweep(tuner, datasets, grid)
    total = round(sum(p.usd_high for p in points), 4)
    if total > max_cost:
        lines = ", ".join(f"{p.hyperparameters.describe()} ${p.usd_high:.2f}" for p in points[:8])
        raise CostLimitError(
            f"the sweep's {len(points)} jobs are estimated at up to ${total:.2f}, above the cap of ${max_cost:.2f} "
            f"({lines}{' …' if len(points) > 8 else ''})",
            hint="shrink the grid (fewer epochs or values) or raise max_cost / --max-cost",
        )
    if total > tuner.settings.confirm_cost_above_usd and not yes:
        message = f"Submit {len(points)} tuning jobs estimated at up to ${total:.2f} in total?"
        if confirm is None:
            raise CostLimitError(message.removesuffix("?"), hint="confirm with --yes (yes=True)")
        if not confirm(message):
            raise CostLimitError("sweep declined", hint="nothing was submitted")
    key = {
        "base_model": tuner.base_model,
        "grid": {k: list(v) for k, v in sorted(grid.items())},
        "datasets": sorted({p.dataset.id for p in points}),
    }
    sweep_id = "sw-" + short_hash(key)
    tuner.registry.record_sweep(sweep_id, dataset_id=points[0].dataset.id, grid=key, max_cost=max_cost)
    jobs = []
    for point in points:
        # Each point was priced above and the total confirmed once: do not ask again per job.
        jobs.append(_with(tuner, point.hyperparameters).submit(point.dataset, yes=True, force=force, sweep_id=sweep_id))
    metrics = getattr(tuner.client.fake, "training_metrics", None)
    return Sweep(sweep_id, points, jobs, total, metrics)
