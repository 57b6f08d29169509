"""Paired comparison statistics: is the candidate really better than the incumbent, clip for clip?

Every figure is paired over the same held-out clips. A clip's *outcome* is a win, tie or loss for the
candidate (from the pairwise judge, or from the score difference when no judge ran); the *win rate*
counts a tie as half a win, so 0.5 means parity. Uncertainty comes from a percentile bootstrap over clips
with a fixed seed (reproducible), and from an exact two-sided sign test on wins vs losses (ties dropped).
Slices (per niche, per category) carry their sizes; slices smaller than ``small_below`` are labelled small,
never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_SEED",
    "SMALL_SAMPLE",
    "Interval",
    "Outcome",
    "PairedStats",
    "bootstrap_ci",
    "bootstrap_cis",
    "outcome_from_scores",
    "paired_stats",
    "sign_test",
    "slice_stats",
]

Outcome = Literal["win", "tie", "loss"]
"""One clip's result for the candidate."""

DEFAULT_BOOTSTRAP = 2000
"""Bootstrap resamples: enough for stable 95% percentile bounds (±0.01) on hundreds of clips."""
DEFAULT_SEED = 20240611
"""Fixed seed so the same data always gives the same interval."""
SMALL_SAMPLE = 10
"""Below this many clips a figure is labelled a small sample."""

_OUTCOME_VALUE: dict[str, float] = {"win": 1.0, "tie": 0.5, "loss": 0.0}


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a 95% confidence interval."""

    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def outcome_from_scores(candidate: float, incumbent: float, *, tie_margin: float = 0.01) -> Outcome:
    """Win/tie/loss from two scores: differences within ``tie_margin`` are ties."""
    diff = candidate - incumbent
    if diff > tie_margin:
        return "win"
    if diff < -tie_margin:
        return "loss"
    return "tie"


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign-test p-value for ``wins`` vs ``losses`` (ties excluded beforehand).

    Under H0 each non-tied clip is a fair coin: p = min(1, 2·P[X ≤ min(wins, losses)]), X ~ Bin(n, ½).
    Computed with exact integers, so it stays correct for thousands of clips.
    """
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


def bootstrap_ci(
    values: Sequence[float] | npt.NDArray[np.float64],
    *,
    resamples: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> Interval:
    """Percentile bootstrap CI of the mean of ``values`` (resampling items with replacement)."""
    return bootstrap_cis([values], resamples=resamples, seed=seed, level=level)[0]


def bootstrap_cis(
    columns: Sequence[Sequence[float] | npt.NDArray[np.float64]],
    *,
    resamples: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> list[Interval]:
    """`bootstrap_ci` of each column (all of one length), drawing the resampled indices once for all of them.

    Each interval equals ``bootstrap_ci(column, resamples=…, seed=…)`` exactly: every column is resampled with
    the indices one generator seeded with ``seed`` draws, which is what drawing them per column would give.
    """
    data = [np.asarray(c, dtype=np.float64) for c in columns]
    out: list[Interval | None] = [None] * len(data)
    live: list[int] = []
    for i, col in enumerate(data):
        if col.size == 0:
            out[i] = Interval(math.nan, math.nan, math.nan)
        elif col.size == 1 or np.all(col == col[0]):
            out[i] = Interval(float(col.mean()), float(col.mean()), float(col.mean()))
        else:
            live.append(i)
    if live:
        size = data[live[0]].size
        if any(data[i].size != size for i in live):
            raise ValueError("bootstrap_cis: every column must have the same length")
        rng = np.random.default_rng(seed)
        means = {i: np.empty(resamples, dtype=np.float64) for i in live}
        # Chunked so 1,000 clips × 2,000 resamples never holds more than ~16 MB of indices at once.
        chunk = max(1, 2_000_000 // size)
        for start in range(0, resamples, chunk):
            stop = min(resamples, start + chunk)
            idx = rng.integers(0, size, size=(stop - start, size))
            for i in live:
                means[i][start:stop] = data[i][idx].mean(axis=1)
        alpha = (1 - level) / 2
        for i in live:
            low, high = np.quantile(means[i], [alpha, 1 - alpha])
            out[i] = Interval(float(data[i].mean()), float(low), float(high))
    return [interval for interval in out if interval is not None]


@dataclass(slots=True)
class PairedStats:
    """Paired comparison over n clips (or one slice of them)."""

    n: int
    wins: int
    ties: int
    losses: int
    win_rate: Interval
    mean_difference: Interval
    mean_candidate: float
    mean_incumbent: float
    sign_test_p: float
    small: bool
    label: str = "all"
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "label": self.label,
            "n": self.n,
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "win_rate": self.win_rate.as_dict(),
            "mean_difference": self.mean_difference.as_dict(),
            "mean_candidate": self.mean_candidate,
            "mean_incumbent": self.mean_incumbent,
            "sign_test_p": self.sign_test_p,
            "small": self.small,
            "notes": list(self.notes),
        }


def paired_stats(
    candidate: Sequence[float],
    incumbent: Sequence[float],
    outcomes: Sequence[Outcome],
    *,
    label: str = "all",
    resamples: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    small_below: int = SMALL_SAMPLE,
) -> PairedStats:
    """Win/tie/loss, win rate and mean score difference with bootstrap CIs, and the sign test.

    ``candidate[i]``, ``incumbent[i]`` and ``outcomes[i]`` describe the same clip.
    """
    if not len(candidate) == len(incumbent) == len(outcomes):
        raise ValueError("candidate, incumbent and outcomes must have one entry per clip")
    n = len(outcomes)
    cand = np.asarray(candidate, dtype=np.float64)
    inc = np.asarray(incumbent, dtype=np.float64)
    wins = sum(1 for o in outcomes if o == "win")
    losses = sum(1 for o in outcomes if o == "loss")
    ties = n - wins - losses
    values = np.fromiter((_OUTCOME_VALUE[o] for o in outcomes), dtype=np.float64, count=n)
    notes = []
    small = n < small_below
    if small:
        notes.append(f"small sample: n={n} < {small_below}; treat these figures as anecdotes")
    win_rate, mean_difference = bootstrap_cis([values, cand - inc], resamples=resamples, seed=seed)
    return PairedStats(
        n=n,
        wins=wins,
        ties=ties,
        losses=losses,
        win_rate=win_rate,
        mean_difference=mean_difference,
        mean_candidate=float(cand.mean()) if n else math.nan,
        mean_incumbent=float(inc.mean()) if n else math.nan,
        sign_test_p=sign_test(wins, losses),
        small=small,
        label=label,
        notes=notes,
    )


def slice_stats(
    keys: Sequence[str],
    candidate: Sequence[float],
    incumbent: Sequence[float],
    outcomes: Sequence[Outcome],
    *,
    resamples: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    small_below: int = SMALL_SAMPLE,
) -> dict[str, PairedStats]:
    """`paired_stats` per slice key (e.g. each clip's niche), largest slice first."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    ordered: Mapping[str, list[int]] = dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))
    return {
        key: paired_stats(
            [candidate[i] for i in idx],
            [incumbent[i] for i in idx],
            [outcomes[i] for i in idx],
            label=key,
            resamples=resamples,
            seed=seed,
            small_below=small_below,
        )
        for key, idx in ordered.items()
    }
