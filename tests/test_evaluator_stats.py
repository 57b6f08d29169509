"""Paired statistics: sign test and bootstrap against known cases (fixed seed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from humortune.evaluator.stats import (
    bootstrap_ci,
    bootstrap_cis,
    outcome_from_scores,
    paired_stats,
    sign_test,
    slice_stats,
)


@pytest.mark.parametrize(
    ("wins", "losses", "expected"),
    [
        (9, 1, 2 * (1 + 10) / 1024),  # 2·P[X ≤ 1], X ~ Bin(10, ½)
        (1, 9, 2 * (1 + 10) / 1024),
        (10, 0, 2 / 1024),
        (0, 6, 2 / 64),
        (5, 5, 1.0),
        (0, 0, 1.0),
        (3, 2, 1.0),  # 2·P[X ≤ 2] = 2·16/32 = 1
    ],
)
def test_sign_test_exact(wins: int, losses: int, expected: float) -> None:
    assert sign_test(wins, losses) == pytest.approx(expected)


def test_sign_test_large_n_stays_finite() -> None:
    p = sign_test(1100, 900)
    assert 0 < p < 1e-5  # z ≈ 4.47
    assert sign_test(1000, 1000) == pytest.approx(1.0, abs=0.02)


def test_bootstrap_degenerate_cases() -> None:
    assert bootstrap_ci([1.0] * 30).as_dict() == {"estimate": 1.0, "low": 1.0, "high": 1.0}
    one = bootstrap_ci([0.25])
    assert (one.low, one.high) == (0.25, 0.25)
    assert math.isnan(bootstrap_ci([]).estimate)


def test_bootstrap_is_reproducible_and_matches_normal_theory() -> None:
    values = [1.0] * 120 + [0.0] * 80  # p̂ = 0.6, n = 200 → normal 95% CI 0.6 ± 0.068
    first = bootstrap_ci(values, seed=1)
    again = bootstrap_ci(values, seed=1)
    assert first == again
    assert first.estimate == pytest.approx(0.6)
    half_width = 1.96 * math.sqrt(0.6 * 0.4 / 200)
    assert first.low == pytest.approx(0.6 - half_width, abs=0.012)
    assert first.high == pytest.approx(0.6 + half_width, abs=0.012)
    other = bootstrap_ci(values, seed=2)
    assert other != first  # the seed matters …
    assert other.low == pytest.approx(first.low, abs=0.02)  # … but not much


def test_bootstrap_mean_difference_of_normal_data() -> None:
    rng = np.random.default_rng(0)
    diffs = rng.normal(0.1, 0.2, size=400)
    ci = bootstrap_ci(diffs)
    se = diffs.std(ddof=1) / math.sqrt(400)
    assert ci.low == pytest.approx(diffs.mean() - 1.96 * se, abs=0.006)
    assert ci.high == pytest.approx(diffs.mean() + 1.96 * se, abs=0.006)


def test_outcome_from_scores_tie_margin() -> None:
    assert outcome_from_scores(0.80, 0.70) == "win"
    assert outcome_from_scores(0.70, 0.80) == "loss"
    assert outcome_from_scores(0.705, 0.70) == "tie"
    assert outcome_from_scores(0.75, 0.70, tie_margin=0.1) == "tie"


def test_paired_stats_counts_ties_as_half() -> None:
    outcomes = ["win"] * 6 + ["tie"] * 2 + ["loss"] * 2
    stats = paired_stats([0.8] * 10, [0.6] * 10, outcomes)  # type: ignore[arg-type]
    assert (stats.wins, stats.ties, stats.losses) == (6, 2, 2)
    assert stats.win_rate.estimate == pytest.approx(0.7)
    assert stats.mean_difference.estimate == pytest.approx(0.2)
    assert stats.sign_test_p == pytest.approx(sign_test(6, 2))
    assert not stats.small
    small = paired_stats([1.0, 0.0], [0.0, 1.0], ["win", "loss"])
    assert small.small
    assert small.notes and "small sample" in small.notes[0]


def test_paired_stats_requires_aligned_inputs() -> None:
    with pytest.raises(ValueError, match="one entry per clip"):
        paired_stats([1.0], [1.0, 2.0], ["win"])


def test_slice_stats_groups_and_orders_by_size() -> None:
    keys = ["pets", "pets", "food", "pets", "food", "retail"]
    outcomes = ["win", "win", "loss", "tie", "loss", "win"]
    slices = slice_stats(keys, [1.0] * 6, [0.5] * 6, outcomes, small_below=3)  # type: ignore[arg-type]
    assert list(slices) == ["pets", "food", "retail"]
    assert slices["pets"].n == 3 and slices["pets"].win_rate.estimate == pytest.approx(2.5 / 3)
    assert slices["food"].losses == 2 and slices["food"].small
    assert slices["retail"].small and not slices["pets"].small


@pytest.mark.parametrize("n", [1, 2, 9, 250])
def test_intervals_sharing_their_resamples_equal_one_at_a_time(n: int) -> None:
    # paired_stats draws the bootstrap indices once for the win rate and the mean difference (issue 13)
    rng = np.random.default_rng(n)
    columns = [rng.random(n), rng.integers(-1, 2, n).astype(float), np.full(n, 0.5)]
    shared = bootstrap_cis(columns, resamples=300, seed=7)
    assert shared == [bootstrap_ci(c, resamples=300, seed=7) for c in columns]
    with pytest.raises(ValueError, match="same length"):
        bootstrap_cis([rng.random(n + 1), rng.random(n + 2)], resamples=10)
