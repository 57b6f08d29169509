"""`Evaluator`: score models against the owner on held-out clips, compare two models, gate promotions.

```python
evaluator = Evaluator(corpus, settings=settings)
report = evaluator.evaluate("current")                        # tuned vs base vs the old answer
report = evaluator.compare("projects/…/models/8@1", "current")  # paired A/B with the promotion gate
evaluator.promote("projects/…/models/8@1", yes=True)           # gate, then move the alias, with evidence
```

Analyses come from the corpus cache first (the ``analyses`` table, same key as the analyzer's), so an
evaluation re-run costs nothing; only missing clips go through an analyzer. Judges are base Gemini models
(`humortune.evaluator.judge`) whose verdicts are cached too. Every evaluation is stored in
``evaluations`` / ``evaluation_items`` and written as ``report.json`` + ``report.html``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from humortune._client_slot import ClientSlot
from humortune._util import short_hash
from humortune.analyzer.cost import estimate_cost
from humortune.errors import EvaluationError, HumortuneError, PromotionRefusedError
from humortune.evaluator.calibration import (
    CalibrationReport,
    LabelKind,
    OwnerLabel,
    calibrate,
    latest_calibration,
    load_labels,
    read_labels_file,
    save_calibration,
)
from humortune.evaluator.gate import GateDecision, GatePolicy, decide
from humortune.evaluator.judge import JUDGE_PROMPT_VERSION, JudgeBackend, JudgeUsage, MechanismJudge, PairwiseJudge
from humortune.evaluator.registry import DEFAULT_ALIAS, AliasEvent, AliasRegistry
from humortune.evaluator.results import Answer, ClipResult, EvaluationReport
from humortune.evaluator.reuse import StoredRun, as_rerun, fingerprint, load_run, save_run, still_stored
from humortune.evaluator.scoring import build_clips, pair_clips, paired_figures, score_clips, slice_means, summarise
from humortune.evaluator.stats import DEFAULT_BOOTSTRAP, DEFAULT_SEED
from humortune.evaluator.testset import TestSet, TestSetSpec, select_test_set
from humortune.prompts import DEFAULT_PROMPT
from humortune.schema import Analysis, OutputMode, TokenUsage, VideoAsset, utcnow
from humortune.settings import Settings
from humortune.workspace import Corpus, Entry
from humortune.workspace.stores import EvaluationItem, EvaluationRecord, EvaluationStore
from humortune.workspace.stores.analyses import STALE_RECORD

if TYPE_CHECKING:  # pragma: no cover
    from humortune.app import App
    from humortune.gemini import GeminiClient
    from humortune.storage.base import Storage

__all__ = ["AnalyzerFactory", "AnalyzerLike", "Evaluator"]

_PUBLISHER = "publishers/google/models/"


class AnalyzerLike(Protocol):
    """What the evaluator needs from an analyzer (`humortune.analyzer.Analyzer` fits)."""

    def analyze(self, video: VideoAsset) -> Analysis: ...


AnalyzerFactory = Callable[[str], AnalyzerLike]
"""Builds an analyzer for one model name (alias, registry id, endpoint or base model)."""

EvalProgress = Callable[[str, int, int], None]
"""Called as ``(stage, done, total)`` while an evaluation runs, e.g. ``("analysing (candidate: 12@1)", 3, 14)``."""


class Evaluator:
    """Measure models against the owner's corrections and decide promotions.

    ``client`` is a `humortune.gemini.GeminiClient` (built from ``settings`` on first use; offline
    settings give the bundled FakeGemini). ``analyzer`` builds an analyzer per model for clips that are not
    cached yet (default: `humortune.analyzer.Analyzer` on the same corpus and client). ``judge`` is the
    backend the judges call (default: ``client``); ``judges=False`` scores with reference metrics only.
    ``progress`` (an `EvalProgress`) hears about each analysed clip and each judging stage.
    """

    def __init__(
        self,
        corpus: Corpus,
        *,
        settings: Settings | None = None,
        client: GeminiClient | None = None,
        analyzer: AnalyzerFactory | None = None,
        judge: JudgeBackend | None = None,
        judges: bool = True,
        pairwise: bool = True,
        judge_model: str | None = None,
        mode: OutputMode = "two-stage",
        concurrency: int = 4,
        seed: int = DEFAULT_SEED,
        resamples: int = DEFAULT_BOOTSTRAP,
        policy: GatePolicy | None = None,
        report_dir: str | Path | None = None,
        storage: Storage | None = None,
        progress: EvalProgress | None = None,
    ) -> None:
        self.corpus = corpus
        self.progress = progress
        self.settings = settings or Settings()
        self.registry = AliasRegistry(corpus)
        self.stores = self.registry.stores
        """The aliases (``current``, ``niche:…``) and their history."""
        self._client = ClientSlot.for_settings(client, self.settings)
        self._analyzer_factory = analyzer
        self.use_judges = judges
        self.use_pairwise = pairwise and judges
        self.judge_model = judge_model or self.settings.judge_model or self.settings.base_model
        self._judge_backend = judge
        self._judges: tuple[MechanismJudge, PairwiseJudge] | None = None
        self.mode: OutputMode = mode
        self.concurrency = max(1, concurrency)
        self.seed = seed
        self.resamples = resamples
        self.policy = policy or GatePolicy(
            slice_margin=self.settings.gate_slice_margin,
            min_slice_size=self.settings.gate_min_slice_size,
            min_agreement=self.settings.judge_min_agreement,
            min_labels=self.settings.judge_min_labels,
        )
        self.report_dir = Path(report_dir) if report_dir else self.settings.workspace / "reports"
        self._storage: Callable[[], Storage] = (lambda: storage) if storage is not None else self._open_storage

    def _open_storage(self) -> Storage:
        from humortune.storage import open_storage  # only when a report is written

        opened = open_storage(settings=self.settings)
        self._storage = lambda: opened
        return opened

    @classmethod
    def from_app(cls, app: App, **options: Any) -> Evaluator:
        """An evaluator on the App's settings and corpus; its client is the App's, built on first use."""
        evaluator = cls(app.corpus, settings=app.settings, **options)
        evaluator._client = ClientSlot.borrowed(lambda: app.gemini)
        if "storage" not in options:
            evaluator._storage = lambda: app.storage
        return evaluator

    # -- plumbing ---------------------------------------------------------------------------------

    @property
    def client(self) -> GeminiClient:
        """The Gemini client for analyses and judges."""
        return self._client.get()

    def close(self) -> None:
        """Close the client if the evaluator built it."""
        self._client.close()

    @property
    def mechanism_judge(self) -> MechanismJudge:
        """The humour-mechanism PASS/FAIL judge."""
        return self._make_judges()[0]

    @property
    def pairwise_judge(self) -> PairwiseJudge:
        """The position-debiased preference judge."""
        return self._make_judges()[1]

    def _make_judges(self) -> tuple[MechanismJudge, PairwiseJudge]:
        if self._judges is None:
            backend: JudgeBackend = self._judge_backend if self._judge_backend is not None else self.client
            cache = self.settings.workspace / "cache" / "judge-verdicts.jsonl"
            self._judges = (
                MechanismJudge(backend, model=self.judge_model, cache_path=cache),
                PairwiseJudge(backend, model=self.judge_model, cache_path=cache),
            )
        return self._judges

    def _analyzer(self, model: str) -> AnalyzerLike:
        if self._analyzer_factory is not None:
            return self._analyzer_factory(model)
        from humortune.analyzer.analyzer import Analyzer

        return Analyzer(model, client=self.client, settings=self.settings, corpus=self.corpus, mode=self.mode)

    def _resolve(self, name: str) -> tuple[str, str]:
        """(registry id, prompt version) of a model name or alias."""
        model_id = self.registry.resolve(name).removeprefix(_PUBLISHER)
        if model_id == name and (name == DEFAULT_ALIAS or name.startswith("niche:")):
            raise EvaluationError(
                f"no model has been promoted to {name!r} yet",
                hint="pass a model name (a tuned model id or a base model such as gemini-3.5-flash)",
                item=name,
            )
        model = self.stores.models.get(model_id)
        version = model.prompt_version if model is not None else None
        if model is not None and not version and model.dataset_id:
            dataset = self.stores.datasets.get(model.dataset_id)
            version = dataset.prompt_version if dataset is not None else None
        return model_id, version or DEFAULT_PROMPT.version

    def _report_progress(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    # -- analyses ---------------------------------------------------------------------------------

    def _answers(
        self, name: str, role: str, entries: list[Entry], warnings: list[str]
    ) -> tuple[str, dict[str, Answer]]:
        model_id, prompt_version = self._resolve(name)
        stored = self.stores.analyses.answers(model_id, prompt_version=prompt_version, mode=self.mode)
        cached = {a.video_sha256: a for a in stored}  # oldest first, so the newest wins
        answers: dict[str, Answer] = {}
        missing: list[Entry] = []
        for entry in entries:
            found = cached.get(entry.video.sha256 if entry.video else None)
            if found is None:
                missing.append(entry)
                continue
            if STALE_RECORD in found.warnings:
                warnings.append(f"{role}: stored record of analysis {found.id} no longer validates")
            answers[entry.correction.id] = Answer(role, found.narrative, found.record, found.id)
        if missing:
            analyzer = self._analyzer(name)
            try:

                def run(entry: Entry) -> tuple[str, Answer]:
                    assert entry.video is not None
                    try:
                        analysis = analyzer.analyze(entry.video)
                    except Exception as exc:  # one failing clip is a loss for that clip, not a crash
                        return entry.correction.id, Answer(role, "", error=f"{type(exc).__name__}: {exc}"[:300])
                    return entry.correction.id, Answer(role, analysis.narrative, analysis.record, analysis.id)

                stage = f"analysing ({role}: {model_id.rsplit('/', 1)[-1]})"
                self._report_progress(stage, 0, len(missing))
                with ThreadPoolExecutor(self.concurrency, thread_name_prefix="humortune-eval") as pool:
                    for done, (correction_id, answer) in enumerate(pool.map(run, missing), 1):
                        answers[correction_id] = answer
                        self._report_progress(stage, done, len(missing))
            finally:
                close = getattr(analyzer, "close", None)
                if callable(close):
                    close()
        errors = sum(1 for a in answers.values() if a.error)
        if entries and errors == len(entries):
            first = next(a.error for a in answers.values() if a.error)
            raise EvaluationError(
                f"every analysis by {name!r} failed (first: {first})",
                hint="check the model name, credentials and quota; `humortune analyze` one clip to see the error",
                item=name,
            )
        if errors:
            warnings.append(f"{role} ({model_id}): {errors} clip(s) failed to analyse and score 0")
        return model_id, answers

    # -- public API -------------------------------------------------------------------------------

    def test_set(self, on: TestSetSpec = None, *, niche: str | None = None) -> TestSet:
        """The held-out clips an evaluation would use (see `humortune.evaluator.testset`)."""
        return select_test_set(self.corpus, on, niche=niche)

    def evaluate(
        self,
        model: str = DEFAULT_ALIAS,
        *,
        on: TestSetSpec = None,
        base: str | Literal[False] | None = None,
        niche: str | None = None,
        write: bool = True,
    ) -> EvaluationReport:
        """Score ``model`` on the held-out clips, beside its base model and the battery's old answer.

        ``base`` defaults to the model's registered base model (``settings.base_model`` if unknown);
        ``False`` skips it. Paired statistics against the base come from score differences.
        """
        test_set = self.test_set(on, niche=niche)
        model_id, _ = self._resolve(model)
        base_name = (
            None if base is False else (base or self.registry.base_model_of(model_id) or self.settings.base_model)
        )
        if base_name is not None and self._resolve(base_name)[0] == model_id:
            base_name = None
        roles = {"base": base_name, "model": model} if base_name else {"model": model}
        return self._run(
            "evaluate", test_set, roles, subject="model", reference="base" if base_name else None, write=write
        )

    def compare(
        self,
        candidate: str,
        incumbent: str = DEFAULT_ALIAS,
        *,
        on: TestSetSpec = None,
        niche: str | None = None,
        override_judge: bool = False,
        write: bool = True,
    ) -> EvaluationReport:
        """Paired A/B of ``candidate`` against ``incumbent`` on the same held-out clips, with the gate's verdict."""
        if self._resolve(candidate)[0] == self._resolve(incumbent)[0]:
            unpromoted = DEFAULT_ALIAS in (candidate, incumbent) and self.registry.current() is None
            raise EvaluationError(
                f"{candidate!r} and {incumbent!r} are the same model",
                hint="nothing is promoted yet, so 'current' is the newest tuned model: compare it with its base "
                "model, e.g. humortune compare MODEL gemini-2.5-flash"
                if unpromoted
                else "compare two different models",
            )
        test_set = self.test_set(on, niche=niche)
        roles = {"incumbent": incumbent, "candidate": candidate}
        return self._run(
            "compare", test_set, roles, subject="candidate", reference="incumbent", write=write, override=override_judge
        )

    def _run(
        self,
        kind: Literal["evaluate", "compare"],
        test_set: TestSet,
        names: dict[str, str],
        *,
        subject: str,
        reference: str | None,
        write: bool,
        override: bool = False,
    ) -> EvaluationReport:
        if not test_set.entries:
            raise EvaluationError(
                "no held-out clip can be evaluated",
                hint="ingest the clips (humortune ingest) and build a dataset with a test split (humortune prepare)",
            )
        warnings = list(test_set.warnings)
        clips = build_clips(test_set.entries)
        models = {"old": "battery gemini_said"} if any("old" in c.answers for c in clips) else {}
        for role, name in names.items():
            model_id, answers = self._answers(name, role, test_set.entries, warnings)
            models[role] = model_id
            for clip in clips:
                clip.answers[role] = answers[clip.correction_id]
        judged_pairs = kind == "compare" and self.use_pairwise
        inputs = self._inputs(kind, test_set, clips, models, warnings, judged_pairs, override) if write else None
        if inputs is not None and (reused := self._reuse(inputs)) is not None:
            return reused
        before = {id(j): j.usage.copy() for j in self._make_judges()} if self.use_judges else {}
        self._report_progress("scoring", 0, len(clips))
        mechanism_judge = self.mechanism_judge if self.use_judges else None
        scores = EvaluationStore(self.corpus.db)  # chrF/ROUGE-L of text pairs scored before
        score_clips(clips, mechanism_judge, concurrency=self.concurrency, cache=scores)
        self._report_progress("scoring", len(clips), len(clips))
        report = EvaluationReport(
            id="",
            kind=kind,
            created_at=utcnow().isoformat(timespec="seconds"),
            test_set=test_set.as_dict(),
            systems=summarise(clips, models),
            clips=clips,
            subject=subject,
            reference_role=reference,
            warnings=warnings,
        )
        report.slice_means = slice_means(clips, list(models), small_below=self.policy.min_slice_size)
        if reference is not None:
            judge = self.pairwise_judge if judged_pairs else None
            self._report_progress("comparing", 0, len(clips))
            pair_clips(clips, subject, reference, judge, concurrency=self.concurrency)
            self._report_progress("comparing", len(clips), len(clips))
            report.comparison, report.slices = paired_figures(
                clips,
                subject,
                reference,
                resamples=self.resamples,
                seed=self.seed,
                small_below=self.policy.min_slice_size,
            )
            report.outcome_source = "pairwise judge (both orders)" if judged_pairs else "score difference"
            judged = [c.pairwise for c in clips if c.pairwise is not None]
            if judged:
                report.position_consistency = sum(1 for p in judged if p.consistent) / len(judged)
        calibrations = self._judge_info(report, judged_pairs, before)
        report.id = _report_id(report, self.judge_model if self.use_judges else None)
        if kind == "compare" and report.comparison is not None:
            report.gate = decide(
                candidate=models["candidate"],
                incumbent=models["incumbent"],
                stats=report.comparison,
                slices=report.slices,
                judges=calibrations,
                policy=self.policy,
                override_judge=override,
                evaluation_id=report.id,
            )
        report_key, storage = None, None
        if write:
            report.report_path = str(self.report_dir / report.id / "report.html")
            try:
                storage = self._storage()
            except HumortuneError as exc:
                report.warnings.append(f"the report is not stored in the workspace's storage: {exc.message}")
        data = report.as_dict()  # once: the report files and the stored items are both made from it
        if write:
            from humortune.evaluator.report import save_report

            # a local copy for the path the CLI prints, and one in storage for the review app on any machine
            saved = save_report(data, self.report_dir / report.id, storage=storage)
            report_key = saved.storage_key
            if saved.problem:  # told to the caller and kept with the evaluation; the files show the rest
                report.warnings.append(f"{saved.problem}; the review app shows it only on this machine until rerun")
        self._store(report, report_key, data["clips"])
        if inputs is not None and report_key is not None and not saved.problem:
            self._remember(inputs, StoredRun(report, saved.digest, report_key))
        return report

    # -- reuse of an unchanged evaluation (`humortune.evaluator.reuse`) ----------------------------

    def _inputs(self, kind: str, test_set: TestSet, clips: list[ClipResult], *context: Any) -> str:
        models, warnings, judged_pairs, override = context
        version = f"{self.judge_model}@{JUDGE_PROMPT_VERSION}"  # what the judges' `version` is
        kinds: list[LabelKind] = (
            (["pass_fail", "pairwise"] if judged_pairs else ["pass_fail"]) if self.use_judges else []
        )
        calibrations = [c.as_dict() if (c := latest_calibration(self.corpus, k, version)) else None for k in kinds]
        settings = [kind, sorted(models.items()), test_set.as_dict(), warnings, self.use_judges, judged_pairs]
        settings += [version, calibrations, self.seed, self.resamples, repr(self.policy), override]
        return fingerprint([*settings, str(self.report_dir)], clips)

    def _reuse(self, inputs: str) -> EvaluationReport | None:
        run = load_run(self.settings.workspace / "cache" / "evaluations", inputs)
        if run is None or not still_stored(run, self.report_dir, self._storage, self.stores.evaluations):
            return None  # never run, or its files or items are gone: the full path puts them back
        run.report.created_at = utcnow().isoformat(timespec="seconds")
        self._store(run.report, run.report_key, [])  # its items are kept (same report key): none needed
        return run.report

    def _remember(self, inputs: str, run: StoredRun) -> None:
        nothing = estimate_cost(TokenUsage(), self.judge_model, overrides=self.settings.inference_price_per_mtok)
        save_run(self.settings.workspace / "cache" / "evaluations", inputs, as_rerun(run, nothing))

    def _judge_info(
        self, report: EvaluationReport, judged_pairs: bool, before: dict[int, JudgeUsage]
    ) -> dict[str, CalibrationReport | None]:
        calibrations: dict[str, CalibrationReport | None] = {}
        if not self.use_judges:
            report.judges = {"used": False}
            return calibrations
        mech, pair = self._make_judges()
        info: dict[str, Any] = {"used": True, "model": self.judge_model}
        used: list[tuple[str, str, MechanismJudge | PairwiseJudge]] = [("mechanism", "pass_fail", mech)]
        if judged_pairs:
            used.append(("pairwise", "pairwise", pair))
        for name, kind, judge in used:
            cal = latest_calibration(self.corpus, kind, judge.version)  # type: ignore[arg-type]
            calibrations[name] = cal
            spent = judge.usage.since(before[id(judge)])
            tokens = TokenUsage(prompt_tokens=spent.prompt_tokens, output_tokens=spent.output_tokens)
            info[name] = {
                "version": judge.version,
                "usage": spent.as_dict(),
                "cost_usd": estimate_cost(tokens, self.judge_model, overrides=self.settings.inference_price_per_mtok),
                "calibration": cal.as_dict() if cal else None,
                "status": cal.status if cal else "not calibrated: no owner labels checked yet",
            }
        report.judges = info
        return calibrations

    def _store(self, report: EvaluationReport, report_key: str | None, clips: list[dict[str, Any]]) -> None:
        record = EvaluationRecord(
            id=report.id,
            model=report.model,
            incumbent=report.reference_model,
            dataset_id=report.test_set.get("dataset_id"),
            created_at=utcnow(),
            summary=report.summary_dict(),
            report_path=report.report_path,
            report_key=report_key,
        )
        evaluations = self.stores.evaluations
        earlier = evaluations.get(report.id) if report_key is not None else None
        if earlier is not None and earlier.report_key == report_key:
            # the same report (its key names its content digest): its items are what they were
            evaluations.replace(record, None)
            return
        items = [
            EvaluationItem(correction_id=c.correction_id, scores=_item(c, data, report.subject))
            for c, data in zip(report.clips, clips, strict=True)
        ]
        evaluations.replace(record, items)

    # -- calibration and promotion ----------------------------------------------------------------

    def calibrate(self, labels: str | Path | Iterable[OwnerLabel] | None = None) -> dict[str, CalibrationReport]:
        """Check both judges against owner labels (the ``owner_labels`` table, a labels file, or given labels).

        Each result is stored so the gate can find it; see `humortune.evaluator.calibration`.
        """
        if labels is None:
            items = load_labels(self.corpus)
        elif isinstance(labels, str | Path):
            items = read_labels_file(labels, self.corpus)
        else:
            items = list(labels)
        kw = {"min_agreement": self.policy.min_agreement, "min_labels": self.policy.min_labels}
        reports = {
            "mechanism": calibrate(self.mechanism_judge, items, **kw),  # type: ignore[arg-type]
            "pairwise": calibrate(self.pairwise_judge, items, **kw),  # type: ignore[arg-type]
        }
        for report in reports.values():
            if report.n:
                save_calibration(self.corpus, report)
        return reports

    def promote(
        self,
        candidate: str,
        *,
        alias: str = DEFAULT_ALIAS,
        on: TestSetSpec = None,
        yes: bool = False,
        confirm: Callable[[GateDecision, EvaluationReport], bool] | None = None,
        override_judge: bool = False,
        force: bool = False,
    ) -> AliasEvent:
        """Compare ``candidate`` with the alias's model (or its base model), apply the gate, then promote.

        The owner confirms by default: without ``yes`` the ``confirm`` callback is asked, and without
        either the decision is only recorded as ``propose``. A refused gate raises `PromotionRefusedError`
        (recorded as ``refuse``) unless ``force``. Every outcome lands in ``alias_history`` with evidence.
        """
        model_id, _ = self._resolve(candidate)
        self.registry.ensure_model(model_id)
        incumbent = self.registry.current(alias) or self.registry.base_model_of(model_id) or self.settings.base_model
        if incumbent == model_id:
            raise EvaluationError(f"{model_id!r} is already {alias!r}", hint="nothing to promote", item=model_id)
        niche = alias.split(":", 1)[1] if alias.startswith("niche:") else None
        report = self.compare(model_id, incumbent, on=on, niche=niche, override_judge=override_judge)
        decision = report.gate
        assert decision is not None
        evidence: dict[str, Any] = {
            "summary": _evidence_line(report),
            "gate": decision.as_dict(),
            "evaluation_id": report.id,
            "report": report.report_path,
            "test_set": report.test_set,
            "forced": force and not decision.allowed,
            "judge_override": override_judge,
        }
        current = self.registry.current(alias) or incumbent
        if not decision.allowed and not force:
            self.registry.record("refuse", alias=alias, model_id=model_id, previous_id=current, evidence=evidence)
            raise PromotionRefusedError(
                decision.summary(),
                decision=decision,
                hint=f"see {report.report_path or 'the report'}; --force promotes anyway (recorded as forced)",
                item=model_id,
            )
        if yes:
            evidence["confirmed_by"] = "owner (--yes)"
        elif confirm is not None and confirm(decision, report):
            evidence["confirmed_by"] = "owner (prompt)"
        else:
            return self.registry.record(
                "propose", alias=alias, model_id=model_id, previous_id=current, evidence=evidence
            )
        return self.registry.promote(model_id, alias=alias, evidence=evidence, replacing=incumbent)

    def rollback(self, *, alias: str = DEFAULT_ALIAS, to: str | None = None, reason: str | None = None) -> AliasEvent:
        """Restore the model that was ``alias`` before the current one (or ``to``), recorded with the reason."""
        target = self._resolve(to)[0] if to else None
        return self.registry.rollback(alias=alias, to=target, evidence={"reason": reason} if reason else None)


def _item(clip: ClipResult, as_dict: dict[str, Any], subject: str) -> dict[str, Any]:
    # ``score`` is the model under test's composite score for this clip: the review queue reads it.
    data = dict(as_dict)
    answer = clip.answers.get(subject)
    data["score"] = round(answer.score, 6) if answer is not None else None
    return data


def _evidence_line(report: EvaluationReport) -> str:
    c = report.comparison
    if c is None:
        return "no comparison"
    wr = c.win_rate
    return (
        f"win rate {wr.estimate:.3f} (95% CI {wr.low:.3f}–{wr.high:.3f}) over {c.n} held-out clips, "
        f"{c.wins}W/{c.ties}T/{c.losses}L, sign test p={c.sign_test_p:.4f}"
    )


def _report_id(report: EvaluationReport, judge_model: str | None) -> str:
    # Same inputs (models, clips as the owner wrote them, answers, judge) → same id, so a rerun replaces.
    digest = hashlib.sha256()
    for clip in report.clips:
        parts = [clip.correction_id, clip.owner, clip.owner_record.model_dump_json() if clip.owner_record else ""]
        parts += [f"{r}:{a.analysis_id}:{a.text}" for r, a in sorted(clip.answers.items())]
        digest.update("\x1f".join(parts).encode("utf-8"))
    systems = [(s.role, s.model) for s in report.systems]
    return "ev-" + short_hash([report.kind, systems, digest.hexdigest(), judge_model])
