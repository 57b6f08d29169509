"""Per-niche models: specialists for niches with enough corrections, a router, and where they win.

* `train_niches`: every niche with at least ``niche_min_corrections`` usable corrections gets its own
  retrain run (`humortune.feedback.retrain.Retrainer` with ``niche=…``): a dataset of that niche's
  corrections, a model tuned from the generalist (or the base), evaluated against the generalist on the
  niche's held-out clips and proposed for the alias ``niche:<name>``. The owner confirms, as always.
* `NicheRouter`: a clip goes to its niche's promoted model (alias ``niche:<name>``), else to the generalist
  ``current``. A clip's niche is the owner's latest niche tag on its corrections.
* `niche_report`: per niche, the specialist against the generalist on that niche's held-out clips (from the
  stored comparisons, or computed with ``compare=True``): specialist better, generalist better, or no
  clear difference yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from humortune.feedback.retrain import Retrainer, RetrainOutcome, RetrainPolicy
from humortune.schema import VideoAsset
from humortune.settings import Settings
from humortune.workspace import Corpus, Stores

if TYPE_CHECKING:  # pragma: no cover
    from humortune.evaluator import Evaluator
    from humortune.gemini import GeminiClient
    from humortune.storage import Storage

__all__ = ["NicheRouter", "NicheStatus", "Route", "niche_alias", "niche_counts", "niche_report", "train_niches"]

GENERALIST = "current"
"""The alias of the generalist model every clip falls back to."""

Verdict = Literal[
    "specialist better", "generalist better", "no clear difference", "not compared yet", "no generalist", "no model"
]


def niche_alias(niche: str) -> str:
    """``niche:<name>``: the alias a niche's promoted model is registered under."""
    return f"niche:{niche}"


def niche_counts(corpus: Corpus) -> dict[str, tuple[int, int]]:
    """niche → (corrections, usable corrections with a stored video), largest first."""
    return {c.niche: (c.corrections, c.usable) for c in Stores.of(corpus.db).corrections.niche_counts()}


@dataclass(frozen=True, slots=True)
class Route:
    """Where a clip's analysis goes."""

    alias: str
    """``niche:<name>`` or ``current`` (pass it to `humortune.analyzer.Analyzer`)."""
    model_id: str | None
    """The model the alias points at (``None`` when nothing was promoted yet)."""
    niche: str | None
    fallback: bool
    """``True`` when the clip went to the generalist because its niche has no promoted model."""


class NicheRouter:
    """Sends a clip to its niche's promoted model, else to the generalist.

    ```python
    route = NicheRouter(corpus).route(video_sha256)
    analysis = Analyzer(route.alias, corpus=corpus).analyze(video)
    ```
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.stores = Stores.of(corpus.db)

    def niche_of(self, video: VideoAsset | str) -> str | None:
        """The clip's niche: the latest niche tag among the owner's corrections of it (by sha256 or key)."""
        key = video.sha256 if isinstance(video, VideoAsset) else video
        if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
            return self.stores.corrections.latest_niche(video_sha256=key)
        return self.stores.corrections.latest_niche(video_key=key)

    def _alias(self, name: str) -> str | None:
        return self.stores.aliases.target(name)

    def route(self, video: VideoAsset | str, *, niche: str | None = None) -> Route:
        """The alias (and model) for a clip; ``niche`` overrides the clip's own tag."""
        chosen = niche or self.niche_of(video)
        if chosen is not None:
            model = self._alias(niche_alias(chosen))
            if model is not None:
                return Route(niche_alias(chosen), model, chosen, fallback=False)
        return Route(GENERALIST, self._alias(GENERALIST), chosen, fallback=chosen is not None)


@dataclass
class NicheStatus:
    """One niche in the report."""

    niche: str
    corrections: int
    usable: int
    eligible: bool
    """Enough usable corrections for its own model."""
    promoted: str | None
    """The model behind ``niche:<name>``, if one was promoted."""
    candidate: str | None
    """The newest model tuned on this niche (promoted or not)."""
    generalist: str | None
    verdict: Verdict = "no model"
    comparison: dict[str, Any] = field(default_factory=dict)
    """win rate (with CI), wins/ties/losses and clips of the specialist against the generalist."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _latest_comparison(corpus: Corpus, specialist: str, generalist: str, niche: str) -> dict[str, Any] | None:
    for record in Stores.of(corpus.db).evaluations.comparisons(specialist, generalist):
        summary = record.summary
        if (summary.get("test_set") or {}).get("niche") == niche and summary.get("comparison"):
            comparison: dict[str, Any] = summary["comparison"]
            return comparison
    return None


def _verdict(comparison: dict[str, Any]) -> Verdict:
    rate = comparison.get("win_rate") or {}
    low, high = rate.get("low"), rate.get("high")
    if isinstance(low, int | float) and low > 0.5:
        return "specialist better"
    if isinstance(high, int | float) and high < 0.5:
        return "generalist better"
    return "no clear difference"


def niche_report(
    corpus: Corpus,
    *,
    settings: Settings | None = None,
    evaluator: Evaluator | None = None,
    compare: bool = False,
) -> list[NicheStatus]:
    """Every niche: size, eligibility, its models, and how the specialist does against the generalist.

    Comparisons come from the stored evaluations; with ``compare=True`` missing ones are run (costs model
    and judge calls; cached analyses are reused).
    """
    settings = settings or Settings()
    stores = Stores.of(corpus.db)
    generalist = stores.aliases.target(GENERALIST)
    out = []
    for niche, (total, usable) in niche_counts(corpus).items():
        newest = stores.models.latest_for_niche(niche)
        status = NicheStatus(
            niche=niche,
            corrections=total,
            usable=usable,
            eligible=usable >= settings.niche_min_corrections,
            promoted=stores.aliases.target(niche_alias(niche)),
            candidate=newest.id if newest is not None else None,
            generalist=generalist,
        )
        specialist = status.promoted or status.candidate
        if specialist is not None and generalist is None:
            status.verdict = "no generalist"
        elif specialist is not None and generalist is not None and specialist != generalist:
            found = _latest_comparison(corpus, specialist, generalist, niche)
            if found is None and compare:
                from humortune.evaluator import Evaluator

                judge = evaluator or Evaluator(corpus, settings=settings)
                report = judge.compare(specialist, generalist, niche=niche)
                found = report.comparison.as_dict() if report.comparison else None
            if found is None:
                status.verdict = "not compared yet"
            else:
                status.comparison = found
                status.verdict = _verdict(found)
        out.append(status)
    return out


def train_niches(
    corpus: Corpus,
    *,
    settings: Settings | None = None,
    storage: Storage | None = None,
    client: GeminiClient | None = None,
    evaluator: Evaluator | Callable[[GeminiClient], Evaluator] | None = None,
    min_corrections: int | None = None,
    only: str | None = None,
    yes: bool = False,
    wait: bool = True,
    dry_run: bool = False,
    **policy: Any,
) -> dict[str, RetrainOutcome]:
    """Run the retrain policy for every eligible niche (or ``only`` one); returns each niche's outcome.

    A niche without a model yet needs ``min_corrections`` usable corrections (default
    ``settings.niche_min_corrections``); after that, the usual retrain triggers apply to its corrections.
    ``policy`` holds extra `RetrainPolicy` fields (budget_usd, start_from, epochs, …).
    """
    settings = settings or Settings()
    threshold = min_corrections or settings.niche_min_corrections
    outcomes: dict[str, RetrainOutcome] = {}
    for niche, (_total, usable) in niche_counts(corpus).items():
        if only is not None and niche != only:
            continue
        has_model = Stores.of(corpus.db).models.latest_for_niche(niche) is not None
        if not has_model and usable < threshold:
            continue
        overrides = {"niche": niche, **policy}
        if not has_model:
            overrides["min_new_corrections"] = threshold  # the first model: the niche threshold decides
        retrainer = Retrainer(
            corpus,
            RetrainPolicy.from_settings(settings, **overrides),
            settings=settings,
            storage=storage,
            client=client,
            evaluator=evaluator,
        )
        outcomes[niche] = retrainer.run(yes=yes, wait=wait, dry_run=dry_run)
    return outcomes
