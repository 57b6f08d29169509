"""Continuous retraining: turn the owner's new corrections into an evaluated candidate model.

`Retrainer.run` is one idempotent pass, safe to run from cron:

1. **Trigger**: at least ``min_new_corrections`` usable corrections are new or changed since the dataset the
   alias's current model was tuned on, or its held-out score **drifted** down by ``drift`` or more (from the
   evaluation at its promotion to the latest one). Otherwise nothing happens (``idle``).
2. **Build** the next dataset version (`humortune.dataset.DatasetBuilder`; the same corpus gives the same
   version, so a rerun writes nothing). Clip splits are frozen: a held-out clip stays held out.
3. **Leakage guard**: no training or validation example may show a video that is held out now (by
   content hash, whatever URL it came from). The owner can move a clip out of the test split; nothing
   else can.
4. **Cost**: the tuner's estimate must fit ``budget_usd`` (its upper end); within the budget no further
   confirmation is asked, without a budget the usual confirmation applies (``yes`` for cron).
5. **Tune**: continue from the current tuned model (``start_from="current"``) or from the base model;
   the same dataset and hyperparameters return the existing job, never a second bill.
6. **Wait**, then **evaluate** the candidate against the alias's model (for a niche without its own model:
   the generalist ``current``) on the held-out clips and record the gate's verdict as a ``propose`` (the
   owner confirms it in the review UI's Promotions page) or a ``refuse``. The alias never moves here.

A workspace lock (a file lock on SQLite, an advisory lock on PostgreSQL) keeps two runs from overlapping
(the second reports ``busy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from humortune._client_slot import ClientSlot
from humortune.errors import CostLimitError, DatasetError, EvaluationError, FeedbackError
from humortune.schema import DatasetVersion, TargetFormat
from humortune.settings import Settings
from humortune.workspace import Corpus, Stores

if TYPE_CHECKING:  # pragma: no cover
    from humortune.app import App
    from humortune.evaluator import Evaluator
    from humortune.gemini import GeminiClient
    from humortune.storage import Storage

__all__ = ["RetrainOutcome", "RetrainPolicy", "RetrainStatus", "Retrainer", "Triggers", "leaked_examples"]

RetrainStatus = Literal[
    "idle",
    "busy",
    "no_new_data",
    "leak",
    "over_budget",
    "dry_run",
    "running",
    "unevaluated",
    "proposed",
    "refused",
    "promoted",
]
"""What a run ended with. ``proposed`` waits for the owner; ``refused`` is the gate's no (with evidence)."""


@dataclass(frozen=True)
class RetrainPolicy:
    """When and how to retrain. `from_settings` reads the ``retrain_*`` settings."""

    min_new_corrections: int = 20
    drift: float = 0.05
    start_from: Literal["current", "base"] = "current"
    budget_usd: float | None = None
    niche: str | None = None
    """Retrain this niche's model (alias ``niche:<name>``) on its corrections only."""
    split: tuple[float, ...] = (0.8, 0.1, 0.1)
    """Fractions for clips seen for the first time; clips already assigned keep their split."""
    seed: str = "humortune"
    target_format: TargetFormat = "narrative"
    epochs: int | None = None
    adapter_size: int | None = None
    learning_rate_multiplier: float | None = None
    calibrate: bool = True
    """Re-check the judges against the owner's labels first when there are labels they were not checked on
    (the blind A/B choices and PASS/FAIL marks from the review UI)."""

    @property
    def alias(self) -> str:
        """The alias the candidate is proposed for."""
        return f"niche:{self.niche}" if self.niche else "current"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RetrainPolicy:
        """The policy configured in ``settings`` (``retrain_*``), with ``overrides`` on top."""
        values: dict[str, Any] = {
            "min_new_corrections": settings.retrain_min_corrections,
            "drift": settings.retrain_drift,
            "start_from": settings.retrain_from,
            "budget_usd": settings.retrain_budget_usd,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class Triggers:
    """Why a retrain would (or would not) run."""

    current_model: str | None
    since_dataset: str | None
    new_corrections: int
    drift: float | None
    reasons: list[str] = field(default_factory=list)

    @property
    def fired(self) -> bool:
        """Whether any trigger fired."""
        return bool(self.reasons)


@dataclass
class RetrainOutcome:
    """What one run did, for the CLI, logs and tests."""

    status: RetrainStatus
    message: str
    triggers: Triggers | None = None
    dataset_id: str | None = None
    start_model: str | None = None
    estimate_usd: tuple[float, float] | None = None
    job_name: str | None = None
    model_id: str | None = None
    incumbent: str | None = None
    evaluation_id: str | None = None
    event_id: int | None = None
    report_path: str | None = None
    leaks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def leaked_examples(corpus: Corpus, dataset_id: str) -> list[str]:
    """Training/validation examples of a dataset whose video is held out now (by content hash or key).

    A clip is held out when its canonical key is assigned to ``test`` in ``split_assignments``; the same
    bytes reached through another key are held out too.
    """
    rows = Stores.of(corpus.db).datasets.leaked_examples(dataset_id)
    return [f"{r.correction_id} ({r.split}): video {r.video_sha256[:12]} is held out" for r in rows]


class Retrainer:
    """Runs the retrain policy over a workspace (see the module docs).

    ``client`` (a `humortune.gemini.GeminiClient`) is shared by the tuner and the evaluator (default: built
    from the settings on first use; offline settings give the bundled FakeGemini). ``evaluator`` replaces
    the default `humortune.evaluator.Evaluator` (custom gate policy, judges): an instance, or a function of
    the shared client that builds one.
    """

    def __init__(
        self,
        corpus: Corpus,
        policy: RetrainPolicy | None = None,
        *,
        settings: Settings | None = None,
        storage: Storage | None = None,
        client: GeminiClient | None = None,
        evaluator: Evaluator | Callable[[GeminiClient], Evaluator] | None = None,
    ) -> None:
        self.corpus = corpus
        self._stores = Stores.of(corpus.db)
        self.settings = settings or Settings()
        self.policy = policy or RetrainPolicy.from_settings(self.settings)
        self._storage = storage
        self._client = ClientSlot.for_settings(client, self.settings)
        self._evaluator = evaluator

    @classmethod
    def from_app(cls, app: App, policy: RetrainPolicy | None = None, **options: Any) -> Retrainer:
        """A retrainer on the App's settings, corpus and storage; its client is the App's, built on first use."""
        retrainer = cls(app.corpus, policy, settings=app.settings, storage=app.storage, **options)
        retrainer._client = ClientSlot.borrowed(lambda: app.gemini)
        return retrainer

    @property
    def client(self) -> GeminiClient:
        """The Gemini client the tuner and the evaluator share (built on first use)."""
        return self._client.get()

    def close(self) -> None:
        """Close the client if this retrainer built it."""
        self._client.close()

    # -- state ------------------------------------------------------------------------------------

    def _alias_model(self, alias: str) -> str | None:
        return self._stores.aliases.target(alias)

    def _model_dataset(self, model_id: str | None) -> str | None:
        if model_id is None:
            return None
        model = self._stores.models.get(model_id)
        return model.dataset_id if model is not None and model.dataset_id else None

    def _is_tuned(self, model_id: str | None) -> bool:
        if model_id is None:
            return False
        model = self._stores.models.get(model_id)
        return (model is not None and model.job_name is not None) or model_id.startswith("projects/")

    def current_model(self) -> str | None:
        """The model the candidate must beat: the alias's, else (for a niche) the generalist ``current``."""
        own = self._alias_model(self.policy.alias)
        if own is None and self.policy.niche is not None:
            return self._alias_model("current")
        return own

    def new_corrections(self, since_dataset: str | None) -> int:
        """Usable corrections (with a stored video) that are not in ``since_dataset`` or changed after it."""
        return self._stores.corrections.count_usable(niche=self.policy.niche or None, outside_dataset=since_dataset)

    def drift(self, model_id: str | None) -> float | None:
        """How far the model's mean held-out score fell: at promotion (or first evaluation) minus latest."""
        if model_id is None:
            return None
        scores: list[tuple[str, str, float]] = []
        for record in self._stores.evaluations.involving(model_id):
            for system in record.summary.get("systems", []):
                if system.get("model") == model_id and system.get("n") and system.get("score") is not None:
                    scores.append((record.id, record.created_at.isoformat(), float(system["score"])))
                    break
        if len(scores) < 2:
            return None
        promoted = self._stores.aliases.last(self.policy.alias, actions=["promote"], model_id=model_id)
        reference = scores[0]
        if promoted is not None:
            evaluation = promoted.evidence.get("evaluation_id")
            reference = next((s for s in scores if s[0] == evaluation), reference)
        latest = scores[-1]
        return None if latest[0] == reference[0] else round(reference[2] - latest[2], 6)

    def triggers(self) -> Triggers:
        """Evaluate both triggers without changing anything."""
        current = self.current_model()
        own = self._alias_model(self.policy.alias)
        since = self._model_dataset(own) if own is not None else None
        new = self.new_corrections(since)
        drift = self.drift(own)
        reasons = []
        if new >= self.policy.min_new_corrections:
            where = f"since dataset {since}" if since else "and no model tuned for this alias yet"
            reasons.append(f"{new} new or changed correction(s) {where} (threshold {self.policy.min_new_corrections})")
        if drift is not None and drift >= self.policy.drift:
            reasons.append(f"held-out score drifted down by {drift:.3f} (threshold {self.policy.drift:.3f})")
        return Triggers(current, since, new, drift, reasons)

    # -- run --------------------------------------------------------------------------------------

    @contextmanager
    def _lock(self) -> Iterator[bool]:
        # a file lock on SQLite, an advisory lock when the workspace is shared in PostgreSQL
        with self.corpus.db.exclusive("retrain") as locked:
            yield locked

    def run(
        self,
        *,
        force: bool = False,
        yes: bool = False,
        wait: bool = True,
        dry_run: bool = False,
        progress: bool = False,
        confirm: Callable[[str], bool] | None = None,
    ) -> RetrainOutcome:
        """One pass of the policy; see the module docs. ``force`` ignores the triggers (never the guards)."""
        with self._lock() as locked:
            if not locked:
                return RetrainOutcome("busy", "another retrain is running in this workspace; nothing done")
            try:
                return self._run(force=force, yes=yes, wait=wait, dry_run=dry_run, progress=progress, confirm=confirm)
            finally:
                self.close()

    def _run(
        self,
        *,
        force: bool,
        yes: bool,
        wait: bool,
        dry_run: bool,
        progress: bool,
        confirm: Callable[[str], bool] | None,
    ) -> RetrainOutcome:
        policy = self.policy
        triggers = self.triggers()
        out = RetrainOutcome("idle", "", triggers=triggers, incumbent=triggers.current_model)
        if not triggers.fired and not force:
            out.message = (
                f"nothing to do: {triggers.new_corrections} new correction(s) (threshold {policy.min_new_corrections})"
                + (f", drift {triggers.drift:.3f}" if triggers.drift is not None else "")
            )
            return out
        version = self._build()
        out.dataset_id = version.id
        if version.id == triggers.since_dataset:
            out.status = "no_new_data"
            out.message = f"the corpus still builds {version.id}, the current model's dataset"
            return out
        out.leaks = leaked_examples(self.corpus, version.id)
        if out.leaks:
            out.status = "leak"
            out.message = f"{len(out.leaks)} held-out clip(s) would enter training; nothing submitted"
            return out

        from humortune.tuner import Tuner

        own = self._alias_model(policy.alias)
        start = triggers.current_model if policy.start_from == "current" else None
        if own is None and policy.niche is None:
            start = None  # nothing promoted yet: the first model starts from the base
        out.start_model = start if self._is_tuned(start) else self.settings.base_model
        tuner = Tuner(
            out.start_model,
            epochs=policy.epochs,
            adapter_size=policy.adapter_size,
            learning_rate_multiplier=policy.learning_rate_multiplier,
            corpus=self.corpus,
            settings=self.settings,
            client=self.client,
            labels={"humortune-retrain": policy.alias.replace(":", "-")},
        )
        estimate = tuner.estimate(version)
        if estimate is not None:
            out.estimate_usd = (float(estimate["usd_low"]), float(estimate["usd_high"]))
        if policy.budget_usd is not None:
            if out.estimate_usd is None:
                out.status, out.message = "over_budget", "the cost is unknown, so it cannot be held to the budget"
                return out
            if out.estimate_usd[1] > policy.budget_usd:
                out.status = "over_budget"
                out.message = (
                    f"estimated ${out.estimate_usd[0]:.2f}–${out.estimate_usd[1]:.2f}, above the budget of"
                    f" ${policy.budget_usd:.2f}; nothing submitted"
                )
                return out
        if dry_run:
            out.status, out.message = "dry_run", f"would tune {out.start_model} on {version.id}"
            return out
        try:
            job = tuner.submit(version, yes=yes or policy.budget_usd is not None, confirm=confirm)
        except CostLimitError as exc:
            out.status, out.message = "over_budget", str(exc)
            return out
        out.job_name = job.name
        if not wait:
            info = job.refresh()
            if not info.has_ended:
                out.status, out.message = "running", f"tuning job {job.name} is {job.state}; run again to continue"
                return out
            model = job.result()
        else:
            model = job.wait(progress=progress)
        out.model_id = model.id
        return self._propose(out, model.id)

    def _build(self) -> DatasetVersion:
        from humortune.dataset import DatasetBuilder

        policy = self.policy
        builder = DatasetBuilder(self.corpus, self._storage, settings=self.settings)
        try:
            return builder.run(
                split=policy.split,
                seed=policy.seed,
                target_format=policy.target_format,
                niche=policy.niche,
                epochs=policy.epochs,
                drop_invalid=True,
            ).version
        except DatasetError as exc:
            raise FeedbackError(f"cannot build the next dataset: {exc.message}", hint=exc.hint, item=exc.item) from exc

    def _propose(self, out: RetrainOutcome, model_id: str) -> RetrainOutcome:
        from humortune.evaluator import AliasRegistry, Evaluator

        alias = self.policy.alias
        registry = AliasRegistry(self.corpus)
        decided = self._stores.aliases.last(alias, actions=["propose", "refuse", "promote"], model_id=model_id)
        if decided is not None:  # a rerun: the candidate was already judged
            earlier = decided.evidence
            statuses: dict[str, RetrainStatus] = {"propose": "proposed", "refuse": "refused", "promote": "promoted"}
            out.status, out.event_id = statuses[decided.action], decided.id
            out.evaluation_id, out.report_path = earlier.get("evaluation_id"), earlier.get("report")
            out.message = f"{model_id} was already {decided.action}d for {alias!r}; nothing new to do"
            return out
        if self._evaluator is None:
            evaluator = Evaluator(self.corpus, settings=self.settings, client=self.client)
        elif isinstance(self._evaluator, Evaluator):
            evaluator = self._evaluator
        else:
            evaluator = self._evaluator(self.client)
        incumbent = out.incumbent or registry.base_model_of(model_id) or self.settings.base_model
        out.incumbent = incumbent
        if self.policy.calibrate:
            self._calibrate(evaluator)
        try:
            report = evaluator.compare(model_id, incumbent, niche=self.policy.niche)
        except EvaluationError as exc:  # e.g. no held-out clip in this niche yet: keep the candidate, say why
            out.status, out.message = "unevaluated", f"{model_id} is tuned but could not be evaluated: {exc}"
            return out
        decision = report.gate
        assert decision is not None
        from humortune.feedback.abtest import ab_tally

        tally = ab_tally(self.corpus, model_id, incumbent)
        evidence: dict[str, Any] = {
            "summary": [decision.summary(), *out_triggers(out)],
            "gate": decision.as_dict(),
            "evaluation_id": report.id,
            "report": report.report_path,
            "test_set": report.test_set,
            "dataset_id": out.dataset_id,
            "start_model": out.start_model,
            "proposed_by": "humortune retrain",
            "owner_ab": {
                "n": tally.n,
                "wins_candidate": tally.wins_a,
                "wins_current": tally.wins_b,
                "ties": tally.ties,
            },
        }
        registry.ensure_model(model_id)
        action: Literal["propose", "refuse"] = "propose" if decision.allowed else "refuse"
        event = registry.record(
            action, alias=alias, model_id=model_id, previous_id=self._alias_model(alias) or incumbent, evidence=evidence
        )
        out.event_id, out.evaluation_id, out.report_path = event.id, report.id, report.report_path
        if decision.allowed:
            out.status = "proposed"
            out.message = f"{model_id} beats {incumbent}: proposed for {alias!r}; confirm it in the review UI"
        else:
            out.status = "refused"
            out.message = f"{model_id} did not pass the gate against {incumbent}: {decision.summary()}"
        return out

    def _calibrate(self, evaluator: Evaluator) -> None:
        if not evaluator.use_judges:
            return
        from humortune.evaluator.calibration import latest_calibration

        counts = self._stores.labels.counts()
        judges = {"pass_fail": evaluator.mechanism_judge, "pairwise": evaluator.pairwise_judge}
        for kind, judge in judges.items():
            checked = latest_calibration(self.corpus, kind, judge.version)  # type: ignore[arg-type]
            if counts.get(kind, 0) > (checked.n if checked is not None else 0):
                evaluator.calibrate()
                return


def out_triggers(out: RetrainOutcome) -> list[str]:
    """The trigger reasons of an outcome, for evidence lines."""
    return [f"trigger: {r}" for r in (out.triggers.reasons if out.triggers else [])]
