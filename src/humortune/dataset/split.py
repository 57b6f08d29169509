"""Stable, leak-free train/validation/test splits. Pure logic: the builder loads and saves assignments.

Rules:

* **Per video, never per row.** Every example of a clip lands in the same split. Clips are grouped by
  content hash *and* canonical key, so the same video reached through two URLs cannot straddle splits.
* **Assigned once, never moved.** An assignment is recorded (``split_assignments``) the first time a clip
  is split; later builds keep it, so adding examples never moves an old one. The held-out ``test`` split is
  frozen: a clip assigned to it never enters training in any later version. The one move allowed is into
  test: asking for a larger test share than recorded holds out clips no model was tuned on.
* **Deterministic.** New clips are visited in the order of a seeded hash of their canonical key, and each
  goes to the split furthest below its target share, counted both within its stratum (niche / category)
  and overall. Same corpus + same seed → same split, in any process.
* **Leakage guard.** If one video ended up under two keys with different recorded splits (e.g. a file and a
  TikTok URL that turned out to be the same bytes), the whole group goes to the most held-out split
  (test > validation > train) and the move is reported.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from humortune.errors import DatasetError

__all__ = [
    "DEFAULT_SPLIT",
    "SPLITS",
    "SplitItem",
    "SplitName",
    "SplitPlan",
    "assign_splits",
    "hash_unit",
    "normalise_fractions",
]

SplitName = Literal["train", "validation", "test"]
SPLITS: tuple[SplitName, ...] = ("train", "validation", "test")
_HELD_OUT_RANK = {"train": 0, "validation": 1, "test": 2}

DEFAULT_SPLIT: tuple[float, float, float] = (0.72, 0.18, 0.10)
"""Train / validation / test: 10% of the clips frozen as the held-out test set from the very first build, and
the rest split 80/20 into train and validation. A test set must exist before the first tuning job, because a
clip a model was tuned on can never be held out afterwards."""


@dataclass(frozen=True, slots=True)
class SplitItem:
    """One clip to split: its canonical key, content hash and stratum (``niche/category``)."""

    key: str
    sha256: str
    stratum: str = ""


@dataclass(slots=True)
class SplitPlan:
    """Where every clip goes, what is newly assigned (to record), and what the leakage guard moved."""

    assignments: dict[str, SplitName]
    """canonical key → split, for every item."""
    new: dict[str, SplitName] = field(default_factory=dict)
    """Assignments made now (to be recorded)."""
    moved: dict[str, tuple[SplitName, SplitName]] = field(default_factory=dict)
    """key → (recorded split, new split) moved by the leakage guard."""
    strata: dict[str, dict[str, int]] = field(default_factory=dict)
    """stratum → split → number of clips."""
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Clips per split."""
        out: dict[str, int] = dict.fromkeys(SPLITS, 0)
        for split in self.assignments.values():
            out[split] += 1
        return out


def normalise_fractions(fractions: Sequence[float]) -> dict[SplitName, float]:
    """``(train, validation[, test])`` → shares summing to 1. Raises `DatasetError` if impossible."""
    values = [float(f) for f in fractions]
    if not 1 <= len(values) <= 3 or any(v < 0 for v in values) or values[0] <= 0:
        raise DatasetError(
            f"invalid split {tuple(fractions)}",
            hint="give (train, validation) or (train, validation, test), e.g. 0.8,0.2 or 0.7,0.2,0.1",
        )
    values += [0.0] * (3 - len(values))
    total = sum(values)
    if abs(total - 1.0) > 0.011:
        raise DatasetError(
            f"split fractions {tuple(fractions)} add up to {total:g}, not 1",
            hint="e.g. --split 0.8,0.2 or 0.7,0.2,0.1",
        )
    return {name: v / total for name, v in zip(SPLITS, values, strict=True)}


def hash_unit(key: str, seed: str) -> float:
    """A number in [0, 1) from a seeded sha256 of the key: same key and seed → same number, everywhere."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_splits(
    items: Iterable[SplitItem],
    recorded: Mapping[str, str],
    *,
    fractions: Sequence[float] = DEFAULT_SPLIT,
    seed: str = "humortune",
    tuned: Collection[str] = (),
) -> SplitPlan:
    """Split clips, keeping every ``recorded`` assignment (canonical key → split) and adding the rest.

    When the requested test share is clearly above what is recorded (e.g. a first build without a test
    split, then one with), clips are moved *into* the test split, in seeded hash order, until it reaches
    its share; clips a model was tuned on (``tuned``: their canonical keys) are never moved there.
    """
    targets = normalise_fractions(fractions)
    items = list(items)
    groups = _group(items)
    assignments: dict[str, SplitName] = {}
    plan = SplitPlan(assignments=assignments)
    stratum_of = {item.key: item.stratum for item in items}
    per_stratum: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SPLITS, 0))
    overall: dict[str, int] = dict.fromkeys(SPLITS, 0)
    # New clips as (seeded hash, index into groups): the hash-ordered pass below then touches only numbers
    # and a few counters, not 100k keys in random memory order (the old form made the 100k split ×15 a 10k).
    pending: list[tuple[float, int]] = []
    group_strata: list[str] = []

    for index, keys in enumerate(groups):
        group_strata.append(stratum_of[keys[0]])
        if len(keys) == 1:  # nearly every clip: one key, at most one recorded split
            only = recorded.get(keys[0])
            known = [] if only is None else [_as_split(only)]
        else:
            found = {recorded[k] for k in keys if k in recorded}
            known = sorted(map(_as_split, found), key=_rank)
        if not known:
            unit = hash_unit(keys[0], seed) if len(keys) == 1 else min(hash_unit(k, seed) for k in keys)
            pending.append((unit, index))
            continue
        split = known[-1]  # most held-out wins: a test clip never leaks into training
        if len(known) > 1:
            plan.warnings.append(
                f"the same video is recorded in {' and '.join(known)} under {', '.join(keys)}; "
                f"all of its examples now go to {split}"
            )
        for k in keys:
            assignments[k] = split
            if k not in recorded:
                plan.new[k] = split
            elif recorded[k] != split:
                plan.moved[k] = (_as_split(recorded[k]), split)
        per_stratum[group_strata[index]][split] += 1
        overall[split] += 1

    open_splits = [(s, targets[s]) for s in SPLITS if targets[s] > 0]  # least held-out first: wins a tie
    n_all = sum(overall.values())
    pending.sort()
    chosen: list[SplitName | None] = [None] * len(groups)
    for _, index in pending:
        local = per_stratum[group_strata[index]]
        n_local = sum(local.values())
        split, most = open_splits[0][0], -math.inf
        for name, share in open_splits:
            # How far below its target share the split would be, within the stratum and overall.
            shortfall = (share * (n_local + 1) - local[name]) + (share * (n_all + 1) - overall[name])
            if shortfall > most:
                split, most = name, shortfall
        n_all += 1
        chosen[index] = split
        local[split] += 1
        overall[split] += 1
    for keys, picked in zip(groups, chosen, strict=True):  # groups' order: keys are visited in memory order
        if picked is not None:
            for k in keys:
                assignments[k] = picked
                plan.new[k] = picked

    _hold_out(plan, groups, targets, recorded, set(tuned), seed, stratum_of, per_stratum, overall)
    plan.strata = {s: dict(c) for s, c in sorted(per_stratum.items())}
    plan.warnings.extend(_imbalance(plan, targets))
    return plan


def _hold_out(
    plan: SplitPlan,
    groups: list[list[str]],
    targets: Mapping[SplitName, float],
    recorded: Mapping[str, str],
    tuned: set[str],
    seed: str,
    stratum_of: Mapping[str, str],
    per_stratum: Mapping[str, dict[str, int]],
    overall: dict[str, int],
) -> None:
    """Grow the test split to its share from clips no model was tuned on (never shrink it)."""
    total = sum(overall.values())
    wanted = round(targets["test"] * total)
    # Rounding slack: with unchanged shares, adding clips keeps test within ±1 of its share and moves nothing.
    if wanted == 0 or overall["test"] >= wanted - max(1, round(0.1 * wanted)):
        return
    candidates = sorted(
        (hash_unit(keys[0], seed + ":test"), keys)
        for keys in groups
        if plan.assignments[keys[0]] != "test" and not tuned.intersection(keys)
    )
    moved = 0
    for _, keys in candidates:
        if overall["test"] >= wanted:
            break
        old = plan.assignments[keys[0]]
        for k in keys:
            plan.assignments[k] = "test"
            if k in recorded:
                plan.moved[k] = (_as_split(recorded[k]), "test")
            else:
                plan.new[k] = "test"
        per_stratum[stratum_of[keys[0]]][old] -= 1
        per_stratum[stratum_of[keys[0]]]["test"] += 1
        overall[old] -= 1
        overall["test"] += 1
        moved += 1
    if moved:
        plan.warnings.append(
            f"{moved} clip(s) moved from train/validation into the held-out test split to reach its "
            f"{targets['test']:.0%} share (no model was tuned on them)"
        )
    if overall["test"] < wanted:
        plan.warnings.append(
            f"the test split holds {overall['test']} clip(s), short of {wanted}: the other clips were used to "
            "tune a model and cannot be held out; add clips"
        )


def _rank(split: SplitName) -> int:
    return _HELD_OUT_RANK[split]


def _as_split(value: str) -> SplitName:
    if value not in _HELD_OUT_RANK:
        raise DatasetError(f"unknown split {value!r} in split_assignments", hint="expected train, validation or test")
    return value  # type: ignore[return-value]


def _group(items: list[SplitItem]) -> list[list[str]]:
    """Keys that share a content hash or a canonical key, as groups of sorted keys (union-find over both)."""
    parent: dict[str, str] = {}  # only keys joined to another: nearly every clip is a group of one

    def find(x: str) -> str:
        while (up := parent.get(x, x)) != x:
            parent[x] = x = parent.get(up, up)  # path halving
        return x

    by_sha: dict[str, str] = {}
    for item in items:
        first = by_sha.setdefault(item.sha256, item.key)
        if first != item.key:
            a, b = find(first), find(item.key)
            if a != b:
                parent[max(a, b)] = min(a, b)
    keys = dict.fromkeys(item.key for item in items)  # a key listed twice is still one clip
    if not parent:
        return [[key] for key in keys]
    members: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        members[find(key)].append(key)
    # In the items' order, not sorted: where a clip goes depends on its seeded hash alone, never on this order.
    return [group if len(group) == 1 else sorted(group) for group in members.values()]


def _imbalance(plan: SplitPlan, targets: Mapping[SplitName, float]) -> list[str]:
    counts = plan.counts()
    total = sum(counts.values())
    warnings: list[str] = []
    if total == 0:
        return warnings
    for split in SPLITS:
        share = counts[split] / total
        if targets[split] > 0 and abs(share - targets[split]) > 0.05 and total >= 20:
            warnings.append(
                f"{split} holds {share:.0%} of the clips (target {targets[split]:.0%}): recorded assignments "
                "are kept so examples never move between versions"
            )
    if targets["validation"] > 0 and counts["validation"] == 0:
        warnings.append("the validation split is empty: add clips so Vertex can report validation loss")
    for stratum, split_counts in plan.strata.items():
        n = sum(split_counts.values())
        if stratum and targets["validation"] > 0 and n * targets["validation"] >= 2 and split_counts["validation"] == 0:
            warnings.append(f"stratum {stratum!r} ({n} clips) has no validation clips")
    return warnings
