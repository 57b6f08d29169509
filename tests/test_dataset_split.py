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
    examples = load_examples(corpus, version.id)
    # One clip, one example: the later correction of the same bytes replaces the earlier one, so the clip
    # can be in one split only.
    assert "zz-file" in {e.correction_id for e in examples} and "c00003" not in {e.correction_id for e in examples}
    assert len({e.video_sha256 for e in examples}) == len(examples) == 10


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


def test_unchanged_shares_never_move_a_clip_as_the_corpus_grows() -> None:
    for fractions in ((0.8, 0.2), (0.7, 0.2, 0.1), (0.6, 0.2, 0.2)):
        recorded: dict[str, str] = {}
        for size in (3, 7, 12, 20, 33, 50, 71):
            plan = assign_splits(
                [SplitItem(f"tiktok:{i}", f"{i:064x}", ("a/", "b/", "c/")[i % 3]) for i in range(size)],
                recorded,
                fractions=fractions,
            )
            assert plan.moved == {}, (fractions, size)
            assert {k: plan.assignments[k] for k in recorded} == recorded
            recorded = dict(plan.assignments)


def test_a_larger_test_share_holds_out_clips_no_model_was_tuned_on() -> None:
    first = assign_splits(items(12), {}, fractions=(0.8, 0.2))
    assert first.counts()["test"] == 0
    grown = assign_splits(items(12), first.assignments, fractions=(0.4, 0.1, 0.5))
    assert grown.counts()["test"] == 6 and len(grown.moved) == 6
    assert all(new == "test" for _, new in grown.moved.values())
    assert "6 clip(s) moved from train/validation into the held-out test split" in grown.warnings[0]
    tuned = {k for k, s in first.assignments.items() if s == "train"}  # a model was tuned on the train clips
    guarded = assign_splits(items(12), first.assignments, fractions=(0.4, 0.1, 0.5), tuned=tuned)
    assert guarded.counts()["test"] == 2 and not tuned & {k for k, s in guarded.assignments.items() if s == "test"}
    assert any("short of 6: the other clips were used to tune a model" in w for w in guarded.warnings)
    # Test clips stay test when a later build asks for no test share.
    later = assign_splits(items(12), grown.assignments, fractions=(0.8, 0.2))
    assert {k for k, s in later.assignments.items() if s == "test"} == {
        k for k, s in grown.assignments.items() if s == "test"
    }


def test_builder_holds_out_untuned_clips_when_asked_for_a_test_split(corpus: Corpus, settings: Settings) -> None:
    storage = LocalStorage(settings.workspace / "storage")
    for n in range(12):
        add_clip(corpus, storage, n)
    builder = DatasetBuilder(corpus, storage, settings=settings)
    first = builder.build(split=(0.8, 0.2))  # no test share: the trap the default split avoids
    now = "2026-11-25T00:00:00"
    corpus.db.execute(
        "INSERT INTO tuning_jobs (name, dataset_id, base_model, request_hash, hyperparams_json, state,"
        " created_at, updated_at) VALUES ('projects/p/locations/l/tuningJobs/1', ?, 'gemini-2.5-flash', 'h',"
        " '{}', 'RUNNING', ?, ?)",
        (first.id, now, now),
    )
    second = builder.build(split=(0.4, 0.1, 0.5))
    assert second.counts["test"] == 0  # every clip was in a dataset a job tuned on
    assert any("short of 6" in w for w in second.warnings)
    for n in range(12, 24):
        add_clip(corpus, storage, n)
    third = builder.build(split=(0.4, 0.1, 0.5))
    test_ids = {e.correction_id for e in load_examples(corpus, third.id) if e.split == "test"}
    assert len(test_ids) >= 6 and all(int(cid[1:]) >= 12 for cid in test_ids)


def test_where_a_clip_goes_does_not_depend_on_the_order_clips_are_given_in() -> None:
    items = [SplitItem(f"tiktok:{n}", f"sha-{n}", "gym/" if n % 3 else "food/") for n in range(300)]
    items.append(SplitItem("file:/same.mp4", "sha-7"))  # one video under two keys: one group
    first = assign_splits(items, {}, fractions=(0.7, 0.2, 0.1), seed="s")
    shuffled = items[::-1][150:] + items[::-1][:150]
    again = assign_splits(shuffled, {}, fractions=(0.7, 0.2, 0.1), seed="s")
    assert again.assignments == first.assignments and again.new == first.new
    assert again.strata == first.strata and first.counts() == {"train": 210, "validation": 61, "test": 30}
    assert first.assignments["file:/same.mp4"] == first.assignments["tiktok:7"]
