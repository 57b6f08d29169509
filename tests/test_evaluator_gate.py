"""The promotion gate's decisions, and registry aliases with their recorded lineage."""

from __future__ import annotations

import pytest

from humortune.errors import EvaluationError
from humortune.evaluator.calibration import CalibrationReport
from humortune.evaluator.gate import GatePolicy, decide
from humortune.evaluator.registry import AliasRegistry
from humortune.evaluator.stats import Outcome, PairedStats, paired_stats
from humortune.workspace import Corpus

TUNED = "projects/demo/locations/us-central1/models/101@1"
TUNED_2 = "projects/demo/locations/us-central1/models/202@1"


def _stats(wins: int, ties: int, losses: int, *, diff: float = 0.1, label: str = "all") -> PairedStats:
    win: Outcome = "win"
    tie: Outcome = "tie"
    loss: Outcome = "loss"
    outcomes = [win] * wins + [tie] * ties + [loss] * losses
    n = len(outcomes)
    return paired_stats([0.5 + diff] * n, [0.5] * n, outcomes, label=label, resamples=1000)


def _calibrated(kind: str = "pairwise", agreement: float = 0.9, n: int = 40) -> CalibrationReport:
    return CalibrationReport(
        kind=kind,  # type: ignore[arg-type]
        judge="gemini-2.5-flash@j-x",
        n=n,
        agreement=agreement,
        kappa=0.8,
        false_pass_rate=None,
        false_fail_rate=None,
        confusion={},
        min_agreement=0.8,
        min_labels=20,
    )


def _slices(**groups: PairedStats) -> dict[str, dict[str, PairedStats]]:
    return {"niche": dict(groups)}


CALIBRATED = {"pairwise": _calibrated(), "mechanism": _calibrated("pass_fail")}


def test_promote_when_every_check_passes() -> None:
    decision = decide(
        candidate=TUNED,
        incumbent="gemini-2.5-flash",
        stats=_stats(70, 10, 20),
        slices=_slices(pets=_stats(35, 5, 10), food=_stats(35, 5, 10)),
        judges=CALIBRATED,
    )
    assert decision.allowed
    assert [c.name for c in decision.checks] == ["win_rate", "slices", "judge"]
    assert decision.summary().startswith("promotion allowed")
    assert decision.as_dict()["checks"][0]["passed"]


def test_refuse_when_the_win_rate_ci_crosses_half() -> None:
    stats = _stats(12, 0, 8)  # 60% wins over 20 clips: the CI reaches below 50%
    assert stats.win_rate.estimate == pytest.approx(0.6) and stats.win_rate.low < 0.5
    decision = decide(candidate=TUNED, incumbent="base", stats=stats, slices={}, judges=CALIBRATED)
    assert not decision.allowed
    assert decision.reasons == [next(c.detail for c in decision.checks if c.name == "win_rate")]
    assert "not a clear win" in decision.summary()


def test_refuse_when_a_slice_regresses() -> None:
    decision = decide(
        candidate=TUNED,
        incumbent="base",
        stats=_stats(80, 5, 15),
        slices=_slices(food=_stats(70, 5, 5), pets=_stats(3, 0, 9, diff=-0.2)),
        judges=CALIBRATED,
    )
    assert not decision.allowed
    (reason,) = decision.reasons
    assert "niche=pets" in reason and "n=12" in reason and "food" not in reason


def test_mean_score_regression_also_blocks() -> None:
    slices = _slices(pets=_stats(6, 0, 6, diff=-0.08))  # win rate exactly 0.5, but scores fell by 0.08
    decision = decide(candidate=TUNED, incumbent="base", stats=_stats(80, 5, 15), slices=slices, judges=CALIBRATED)
    assert not decision.allowed and "mean score difference -0.080" in decision.reasons[0]


def test_small_slices_are_reported_not_gated() -> None:
    decision = decide(
        candidate=TUNED,
        incumbent="base",
        stats=_stats(80, 5, 15),
        slices=_slices(tiny=_stats(0, 0, 4, diff=-0.5)),
        judges=CALIBRATED,
        policy=GatePolicy(min_slice_size=10),
    )
    assert decision.allowed
    assert any("tiny (n=4)" in note for note in decision.notes)


@pytest.mark.parametrize(
    ("judges", "why"),
    [
        ({"pairwise": None}, "has no calibration"),
        ({"pairwise": _calibrated(agreement=0.7)}, "agreement 0.70 < 0.80"),
        ({"pairwise": _calibrated(n=12)}, "checked on 12 owner label(s), need 20"),
        ({"pairwise": _calibrated(), "mechanism": None}, "mechanism judge has no calibration"),
    ],
)
def test_refuse_with_an_uncalibrated_judge(judges: dict[str, CalibrationReport | None], why: str) -> None:
    kw = {"candidate": TUNED, "incumbent": "base", "stats": _stats(80, 5, 15), "slices": {}, "judges": judges}
    decision = decide(**kw)  # type: ignore[arg-type]
    assert not decision.allowed and why in decision.reasons[0]
    overridden = decide(**kw, override_judge=True)  # type: ignore[arg-type]
    assert overridden.allowed
    judge_check = next(c for c in overridden.checks if c.name == "judge")
    assert judge_check.overridden and not judge_check.passed
    assert "overridden" in overridden.summary()


def test_no_judge_means_no_judge_check() -> None:
    decision = decide(candidate=TUNED, incumbent="base", stats=_stats(80, 5, 15), slices={}, judges={})
    assert decision.allowed and [c.name for c in decision.checks] == ["win_rate", "slices"]
    assert any("reference metrics only" in n for n in decision.notes)


# -- registry ----------------------------------------------------------------------------------------


def _register(corpus: Corpus, *ids: str) -> None:
    for model_id in ids:
        corpus.db.execute(
            "INSERT INTO models (id, base_model, created_at) VALUES (?, 'gemini-2.5-flash', '2026-11-25')", (model_id,)
        )


def test_promote_and_rollback_keep_lineage(corpus: Corpus) -> None:
    _register(corpus, TUNED, TUNED_2)
    registry = AliasRegistry(corpus)
    assert registry.current() is None
    first = registry.promote("gemini-2.5-flash", evidence={"why": "baseline"})  # base models register on the fly
    assert first.previous_id is None and registry.has_model("gemini-2.5-flash")
    registry.promote(TUNED, evidence={"gate": {"allowed": True}})
    registry.promote(TUNED_2)
    assert registry.current() == TUNED_2 and registry.previous() == TUNED

    back = registry.rollback(evidence={"reason": "owner saw worse answers"})
    assert (back.action, back.model_id, back.previous_id) == ("rollback", TUNED, TUNED_2)
    assert back.evidence == {"rolled_back": TUNED_2, "reason": "owner saw worse answers"}
    assert registry.current() == TUNED
    assert registry.rollback().model_id == "gemini-2.5-flash"  # the model before TUNED was promoted
    with pytest.raises(EvaluationError, match="first model promoted"):
        registry.rollback()

    history = registry.history("current")
    assert [(e.action, e.model_id) for e in history] == [
        ("rollback", "gemini-2.5-flash"),
        ("rollback", TUNED),
        ("promote", TUNED_2),
        ("promote", TUNED),
        ("promote", "gemini-2.5-flash"),
    ]
    assert history[3].evidence == {"gate": {"allowed": True}}


def test_rollback_to_a_named_model(corpus: Corpus) -> None:
    _register(corpus, TUNED, TUNED_2)
    registry = AliasRegistry(corpus)
    for model in ("gemini-2.5-flash", TUNED, TUNED_2):
        registry.promote(model)
    assert registry.rollback(to="gemini-2.5-flash").model_id == "gemini-2.5-flash"
    with pytest.raises(EvaluationError, match="was never"):
        registry.rollback(to="gemini-2.5-pro")


def test_registry_refuses_what_it_cannot_alias(corpus: Corpus) -> None:
    registry = AliasRegistry(corpus)
    with pytest.raises(EvaluationError, match="not in the registry"):
        registry.promote("projects/demo/locations/us-central1/models/999@1")
    with pytest.raises(EvaluationError, match="never promoted"):
        registry.rollback()
    registry.promote("gemini-2.5-flash")
    with pytest.raises(EvaluationError, match="already"):
        registry.promote("gemini-2.5-flash")


def test_aliases_are_independent_and_decisions_are_recorded(corpus: Corpus) -> None:
    _register(corpus, TUNED)
    registry = AliasRegistry(corpus)
    registry.promote("gemini-2.5-flash")
    registry.promote(TUNED, alias="niche:restaurant")
    registry.record("refuse", model_id=TUNED, previous_id="gemini-2.5-flash", evidence={"gate": {"allowed": False}})
    assert registry.aliases() == {"current": "gemini-2.5-flash", "niche:restaurant": TUNED}
    assert registry.resolve("niche:restaurant") == TUNED and registry.resolve("unknown-name") == "unknown-name"
    refused = registry.history("current")[0]
    assert refused.action == "refuse" and registry.current() == "gemini-2.5-flash"


def test_first_promotion_records_what_it_replaced(corpus: Corpus) -> None:
    _register(corpus, TUNED)
    registry = AliasRegistry(corpus)
    event = registry.promote(TUNED, replacing="gemini-2.5-flash")
    assert event.previous_id == "gemini-2.5-flash" and registry.has_model("gemini-2.5-flash")
    assert registry.rollback().model_id == "gemini-2.5-flash"
