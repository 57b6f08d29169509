"""DatasetStore against a real workspace file, and parity with humortune.dataset.registry."""

from __future__ import annotations

from datetime import timedelta

from humortune.dataset import registry
from humortune.schema import CostEstimate, DatasetVersion, utcnow
from humortune.workspace import Corpus
from humortune.workspace.stores import DatasetExample, DatasetRecord, DatasetStore, JobRecord, JobStore, ModelStore
from tests._workspace_support import add_clip, sha, tuned

_ESTIMATE = CostEstimate(
    base_model="gemini-2.5-flash",
    epochs=4,
    media_resolution="MEDIA_RESOLUTION_LOW",
    examples=2,
    tokens_per_epoch_low=100,
    tokens_per_epoch_high=200,
    price_per_mtok_usd=5.0,
    price_source="test",
    usd_low=0.1,
    usd_high=0.2,
)


def _record(version_id: str, *, age_days: int = 0, prompt: str = "p-000000000001") -> DatasetRecord:
    return DatasetRecord(
        id=version_id,
        created_at=utcnow() - timedelta(days=age_days),
        prompt_version=prompt,
        target_format="narrative",
        media_resolution="MEDIA_RESOLUTION_LOW",
        settings={"prompt": {"text": "Beskriv klippet."}, "seed": "s"},
        manifest={"counts": {"train": 1, "test": 1}},
        estimate=_ESTIMATE,
        validation={"issues": []},
        valid=True,
        storage_prefix=f"file:///ds/{version_id}",
        train_uri=f"file:///ds/{version_id}/train.jsonl",
    )


def _examples() -> list[DatasetExample]:
    return [
        DatasetExample(correction_id="c1", video_sha256=sha(1), split="train", row_hash="r1"),
        DatasetExample(correction_id="c2", video_sha256=sha(2), split="test", row_hash="r2"),
    ]


def _save(store: DatasetStore, version_id: str, **kw: int) -> bool:
    return store.save(
        _record(version_id, **kw),
        _examples(),
        new_splits={"tiktok:7300000000000000001": "train", "tiktok:7300000000000000002": "test"},
        moved_splits={},
        seed="s",
    )


def test_save_is_recorded_once_with_its_examples_and_splits(corpus: Corpus) -> None:
    store = DatasetStore(corpus.db)
    assert _save(store, "ds-a") is True
    assert _save(store, "ds-a") is False  # another process won the race: nothing recorded twice
    got = store.get("ds-a")
    assert got is not None and got.estimate == _ESTIMATE and got.settings["prompt"] == {"text": "Beskriv klippet."}
    assert store.exists("ds-a") and not store.exists("ds-b") and not store.exists(None)
    assert store.examples("ds-a") == _examples()
    assert [e.correction_id for e in store.examples("ds-a", split="test")] == ["c2"]
    assert store.splits() == {"tiktok:7300000000000000001": "train", "tiktok:7300000000000000002": "test"}
    assert store.keys_in("test") == ["tiktok:7300000000000000002"]


def test_split_assignments_never_move_silently(corpus: Corpus) -> None:
    store = DatasetStore(corpus.db)
    assert store.assign("tiktok:1", "test", seed="s") is True
    assert store.assign("tiktok:1", "train", seed="s") is False
    assert store.splits() == {"tiktok:1": "test"}
    store.save(_record("ds-m"), [], new_splits={}, moved_splits={"tiktok:1": "validation"}, seed="s")
    assert store.splits() == {"tiktok:1": "validation"}  # only an explicit move changes it


def test_latest_matching_and_all(corpus: Corpus) -> None:
    store = DatasetStore(corpus.db)
    _save(store, "ds-abc1", age_days=2)
    _save(store, "ds-abc2", age_days=1)
    _save(store, "ds_x", age_days=3)
    latest = store.latest()
    assert latest is not None and latest.id == "ds-abc2"
    assert [r.id for r in store.all()] == ["ds-abc2", "ds-abc1", "ds_x"]
    assert [r.id for r in store.matching("ds-abc")] == ["ds-abc1", "ds-abc2"]
    assert [r.id for r in store.matching("ds_")] == ["ds_x"]  # "_" is literal, not a wildcard
    assert [r.id for r in store.with_prompt_version("p-000000000001")] == ["ds_x", "ds-abc1", "ds-abc2"]
    assert store.with_prompt_version("p-other") == []


def test_tuned_video_keys_and_leaked_examples(corpus: Corpus) -> None:
    add_clip(corpus, 1)
    add_clip(corpus, 2)
    store = DatasetStore(corpus.db)
    _save(store, "ds-a")
    assert store.tuned_video_keys() == set()  # built, but nothing tuned on it yet
    JobStore(corpus.db).record(
        JobRecord(name="projects/p/tuningJobs/1", dataset_id="ds-a", base_model="b", request_hash="h", state="S")
    )
    assert store.tuned_video_keys() == {"tiktok:7300000000000000001"}
    assert store.leaked_examples("ds-a") == []
    # the owner moves clip 1 to the frozen test split: its train example in ds-a now leaks
    store.save(_record("ds-b"), [], new_splits={}, moved_splits={"tiktok:7300000000000000001": "test"}, seed="s")
    assert [e.correction_id for e in store.leaked_examples("ds-a")] == ["c1"]
    ModelStore(corpus.db).register(tuned(1, dataset_id="ds-b"))
    assert store.tuned_video_keys() == {"tiktok:7300000000000000001"}  # ds-b has no train examples


def test_the_dataset_registry_reads_what_the_store_wrote(corpus: Corpus) -> None:
    store = DatasetStore(corpus.db)
    _save(store, "ds-a")
    version = registry.load_version(corpus, "ds-a")
    assert isinstance(version, DatasetVersion)
    assert (version.counts, version.estimate, version.valid) == ({"train": 1, "test": 1}, _ESTIMATE, True)
    assert [(e.correction_id, e.split, e.row_hash) for e in registry.load_examples(corpus, "ds-a")] == [
        (e.correction_id, e.split, e.row_hash) for e in store.examples("ds-a")
    ]
    assert registry.recorded_splits(corpus) == store.splits()
    manifest = registry.version_manifest(corpus, "ds-a")
    record = store.get("ds-a")
    assert record is not None
    assert (manifest["manifest"], manifest["settings"], manifest["validation"]) == (
        record.manifest,
        record.settings,
        record.validation,
    )
