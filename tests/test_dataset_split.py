"""Splits: stable when examples are added, leak-free by video, deterministic across processes, stratified."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from humortune.dataset import DatasetBuilder, SplitItem, assign_splits
from humortune.dataset.registry import load_examples, recorded_splits
from humortune.dataset.split import hash_unit, normalise_fractions
from humortune.errors import DatasetError
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus

from ._dataset_support import add_clip, tiktok_id


def items(n: int, start: int = 0, stratum: str = "") -> list[SplitItem]:
    return [SplitItem(f"tiktok:{i}", f"{i:064x}", stratum) for i in range(start, start + n)]


def test_fractions_are_exact_for_a_fresh_corpus() -> None:
    plan = assign_splits(items(50), {}, fractions=(0.8, 0.2))
    assert plan.counts() == {"train": 40, "validation": 10, "test": 0}
    plan = assign_splits(items(50), {}, fractions=(0.7, 0.2, 0.1))
    assert plan.counts() == {"train": 35, "validation": 10, "test": 5}


def test_adding_twenty_examples_moves_no_old_one() -> None:
    first = assign_splits(items(60), {}, fractions=(0.7, 0.2, 0.1), seed="s")
    recorded = dict(first.assignments)
    second = assign_splits(items(80), recorded, fractions=(0.7, 0.2, 0.1), seed="s")
    assert {k: second.assignments[k] for k in recorded} == recorded
    assert set(second.new) == {f"tiktok:{i}" for i in range(60, 80)}
    assert not second.moved
    assert second.counts() == {"train": 56, "validation": 16, "test": 8}


def test_builder_keeps_every_split_when_twenty_are_added(corpus: Corpus, settings: Settings) -> None:
    storage = LocalStorage(settings.workspace / "storage")
    for n in range(30):
        add_clip(corpus, storage, n, niche=("mat", "katter", None)[n % 3])
    builder = DatasetBuilder(corpus, storage, settings=settings)
    v1 = builder.build(split=(0.7, 0.2, 0.1))
    before = {e.correction_id: e.split for e in load_examples(corpus, v1.id)}
    for n in range(30, 50):
        add_clip(corpus, storage, n, niche=("mat", "katter", None)[n % 3])
    v2 = builder.build(split=(0.7, 0.2, 0.1))
    after = {e.correction_id: e.split for e in load_examples(corpus, v2.id)}
    assert v2.id != v1.id
    assert {cid: after[cid] for cid in before} == before
    assert len(after) == 50 and v2.counts["test"] >= 4
    # The frozen test set never enters training, even when a later build asks for no test split.
    v3 = builder.build(split=(0.8, 0.2))
    final = {e.correction_id: e.split for e in load_examples(corpus, v3.id)}
    assert {c for c, s in after.items() if s == "test"} == {c for c, s in final.items() if s == "test"}
    assert recorded_splits(corpus)[f"tiktok:{tiktok_id(0)}"] == before["c00000"]


def test_no_video_in_two_splits_by_key_or_by_content_hash() -> None:
    shared = "ab" * 32
    group = [SplitItem("tiktok:1", shared), SplitItem("file:/clips/one.mp4", shared), SplitItem("tiktok:2", "cd" * 32)]
    plan = assign_splits(group, {}, fractions=(0.5, 0.5))
    assert plan.assignments["tiktok:1"] == plan.assignments["file:/clips/one.mp4"]
    # Recorded in different splits (learned to be the same bytes only later): the most held-out wins.
    plan = assign_splits(group, {"tiktok:1": "train", "file:/clips/one.mp4": "test"}, fractions=(0.8, 0.1, 0.1))
    assert plan.assignments["tiktok:1"] == plan.assignments["file:/clips/one.mp4"] == "test"
    assert plan.moved == {"tiktok:1": ("train", "test")}
    assert any("same video is recorded in train and test" in w for w in plan.warnings)


def test_builder_guards_leakage_between_urls_of_the_same_bytes(corpus: Corpus, settings: Settings) -> None:
    storage = LocalStorage(settings.workspace / "storage")
    for n in range(10):
        add_clip(corpus, storage, n)
    # A second correction reaches clip 3's bytes through a file path: same content hash, other key.
    from humortune.schema import Correction

    corpus.add_correction(Correction(id="zz-file", video_url="/clips/three.mp4", human_said="Samma klipp, ny text."))
    sha = corpus.video_for_key(f"tiktok:{tiktok_id(3)}").sha256  # type: ignore[union-attr]
    corpus.link_video("file:/clips/three.mp4", sha)
    version = DatasetBuilder(corpus, storage, settings=settings).build(split=(0.5, 0.5))
    splits = {e.correction_id: e.split for e in load_examples(corpus, version.id)}
    assert splits["zz-file"] == splits["c00003"]


def test_stratified_by_niche() -> None:
    mixed = items(20, 0, "mat/") + items(20, 100, "katter/") + items(5, 200, "gym/")
    plan = assign_splits(mixed, {}, fractions=(0.8, 0.2))
    assert plan.strata["mat/"] == {"train": 16, "validation": 4, "test": 0}
    assert plan.strata["katter/"] == {"train": 16, "validation": 4, "test": 0}
    assert plan.strata["gym/"]["validation"] == 1


def test_imbalance_is_reported() -> None:
    recorded = {f"tiktok:{i}": "train" for i in range(30)}
    plan = assign_splits(items(30), recorded, fractions=(0.8, 0.2))
    assert "the validation split is empty: add clips so Vertex can report validation loss" in plan.warnings
    assert any("train holds 100% of the clips (target 80%)" in w for w in plan.warnings)


def test_determinism_across_processes() -> None:
    code = (
        "import json; from humortune.dataset import SplitItem, assign_splits; "
        "its=[SplitItem(f'tiktok:{i}', f'{i:064x}', ('a','b','c')[i%3]) for i in range(200)]; "
        "print(json.dumps(assign_splits(its, {}, fractions=(0.7,0.2,0.1), seed='s1').assignments, sort_keys=True))"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
        for env in ({**os.environ, "PYTHONHASHSEED": "1"}, {**os.environ, "PYTHONHASHSEED": "2"})
    ]
    assert runs[0] == runs[1]
    here = assign_splits(
        [SplitItem(f"tiktok:{i}", f"{i:064x}", ("a", "b", "c")[i % 3]) for i in range(200)],
        {},
        fractions=(0.7, 0.2, 0.1),
        seed="s1",
    )
    assert json.loads(runs[0]) == here.assignments
    other_seed = assign_splits(items(200), {}, fractions=(0.7, 0.2, 0.1), seed="s2").assignments
    assert Counter(other_seed.values()) == Counter(here.assignments.values())
    assert other_seed != here.assignments


def test_hash_unit_is_stable() -> None:
    assert hash_unit("tiktok:1", "humortune") == hash_unit("tiktok:1", "humortune")
    assert 0 <= hash_unit("tiktok:1", "x") < 1
    assert hash_unit("tiktok:1", "a") != hash_unit("tiktok:1", "b")


@pytest.mark.parametrize(
    ("fractions", "message"),
    [((0.8, 0.3), "add up to 1.1"), ((0.0, 1.0), "invalid split"), ((0.5, -0.5, 1.0), "invalid split")],
)
def test_bad_fractions_are_refused(fractions: tuple[float, ...], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        normalise_fractions(fractions)
