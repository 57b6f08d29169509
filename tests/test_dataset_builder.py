"""Dataset versions: content-addressed ids, nothing rewritten, skipped corrections, diffs, crash safety."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import BinaryIO

import pytest

from humortune.dataset import DatasetBuilder, diff_versions, list_versions, resolve_version
from humortune.dataset import builder as builder_module
from humortune.dataset.registry import load_examples, version_manifest
from humortune.errors import CorpusError, DatasetError, DatasetValidationError
from humortune.prompts import Prompt
from humortune.schema import Correction
from humortune.settings import Settings
from humortune.storage import LocalStorage, ObjectInfo
from humortune.workspace import Corpus, Stores

from ._dataset_support import RECORD, add_clip


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.workspace / "storage")


def count(corpus: Corpus, table: str) -> int:
    row = corpus.db.query_one(f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


def snapshot(storage: LocalStorage, corpus: Corpus) -> tuple[object, ...]:
    files = sorted((p.relative_to(storage.root).as_posix(), p.stat().st_mtime_ns) for p in storage.root.rglob("*"))
    tables = [count(corpus, t) for t in ("dataset_versions", "dataset_examples", "split_assignments")]
    return tuple(files), tuple(tables)


def fill(corpus: Corpus, storage: LocalStorage, n: int = 12) -> None:
    for i in range(n):
        add_clip(corpus, storage, i, niche=("mat", "katter")[i % 2], record=RECORD if i % 3 else None)


def test_build_writes_files_manifest_and_records_the_version(
    corpus: Corpus, storage: LocalStorage, settings: Settings
) -> None:
    fill(corpus, storage)
    result = DatasetBuilder(corpus, storage, settings=settings).run()
    version = result.version
    assert result.created and version.valid and version.id.startswith("ds-")
    assert version.counts == {"train": 9, "validation": 2, "test": 1}
    prefix = f"training/datasets/{version.id}/"
    assert [o.key for o in storage.list(prefix)] == [
        prefix + "manifest.json",
        prefix + "test.jsonl",
        prefix + "train.jsonl",
        prefix + "validation.jsonl",
    ]
    assert version.train_uri == storage.uri(prefix + "train.jsonl")
    assert version.test_uri == storage.uri(prefix + "test.jsonl")
    assert version.storage_prefix == storage.uri(prefix + "manifest.json").rsplit("/", 1)[0] + "/"
    assert not version.in_gcs
    assert any("not submittable to Vertex until stored in GCS" in w for w in version.warnings)
    manifest = json.loads(storage.read_bytes(prefix + "manifest.json"))
    assert manifest["prompt"]["version"] == version.prompt_version
    assert manifest["files"]["train"]["rows"] == 9
    assert (
        manifest["files"]["train"]["sha256"] == hashlib.sha256(storage.read_bytes(prefix + "train.jsonl")).hexdigest()
    )
    assert len(manifest["examples"]["rows"]) == 12
    assert manifest["estimate"]["usd_high"] == version.estimate.usd_high  # type: ignore[union-attr]
    assert resolve_version(corpus, version.id) == version
    assert "Åäö" in storage.read_bytes(prefix + "train.jsonl").decode("utf-8")


def test_same_input_same_id_and_nothing_written(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    fill(corpus, storage)
    first = DatasetBuilder(corpus, storage, settings=settings).run()
    before = snapshot(storage, corpus)
    second = DatasetBuilder(corpus, storage, settings=settings).run()
    assert second.version.id == first.version.id and not second.created
    assert snapshot(storage, corpus) == before
    assert second.version.estimate == first.version.estimate


def test_build_settings_are_part_of_the_id(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    fill(corpus, storage)
    builder = DatasetBuilder(corpus, storage, settings=settings)
    ids = {
        builder.build().id,
        builder.build(media_resolution="MEDIA_RESOLUTION_MEDIUM").id,
        builder.build(target_format="narrative+record").id,
        builder.build(seed="other").id,
    }
    assert len(ids) == 4 and len(list_versions(corpus)) == 4


def test_changed_correction_gives_a_new_id_and_a_diff_naming_it(
    corpus: Corpus, storage: LocalStorage, settings: Settings
) -> None:
    fill(corpus, storage)
    builder = DatasetBuilder(corpus, storage, settings=settings)
    v1 = builder.build()
    changed = corpus.correction("c00004")
    assert changed is not None
    corpus.add_correction(changed.model_copy(update={"human_said": "Det roliga i detta klipp är något helt annat."}))
    add_clip(corpus, storage, 50)
    v2 = builder.build()
    assert v2.id != v1.id
    diff = diff_versions(corpus, v1.id, v2.id)
    assert [(old.correction_id, new.correction_id) for old, new in diff.changed] == [("c00004", "c00004")]
    assert [e.correction_id for e in diff.added] == ["c00050"]
    assert diff.removed == [] and diff.moved == [] and diff.unchanged == 11
    assert diff_versions(corpus, v2.id, v1.id).removed[0].correction_id == "c00050"
    assert diff_versions(corpus, v1.id, v1.id).empty


def test_uningested_and_recordless_corrections_are_skipped_with_the_fix(
    corpus: Corpus, storage: LocalStorage, settings: Settings
) -> None:
    fill(corpus, storage)
    add_clip(corpus, storage, 40, ingest=False)
    result = DatasetBuilder(corpus, storage, settings=settings).run(target_format="narrative+record")
    reasons = {s.correction_id: (s.reason, s.hint) for s in result.skipped}
    assert reasons["c00040"][1] == "run `humortune ingest`" and "video not ingested" in reasons["c00040"][0]
    assert reasons["c00000"] == (
        "no structured record for the narrative+record format",
        "add the owner's record to the correction, or build with --target narrative",
    )
    assert sum(result.version.counts.values()) == 8  # 12 clips, 4 without a record
    assert "1 correction(s) skipped: video not ingested — run `humortune ingest`" in result.version.warnings
    line = storage.read_bytes(result.version.train_uri.split("/storage/", 1)[1]).decode().splitlines()[0]
    target = json.loads(line)["contents"][1]["parts"][0]["text"]
    assert "```json\n{\n" in target and '"category": "comedy"' in target


def test_invalid_rows_fail_the_build_and_write_nothing(
    corpus: Corpus, storage: LocalStorage, settings: Settings
) -> None:
    fill(corpus, storage)
    add_clip(corpus, storage, 30, seconds=25 * 60)  # over 20 min at LOW
    add_clip(corpus, storage, 31, store=False)  # recorded but not in storage
    before = snapshot(storage, corpus)
    with pytest.raises(DatasetValidationError) as info:
        DatasetBuilder(corpus, storage, settings=settings).run()
    text = str(info.value)
    assert "clip is 25:00 long; at MEDIA_RESOLUTION_LOW Vertex drops examples over 20:00" in text
    assert "video not found in storage" in text and "7300000000000000031.mp4" in text
    assert "--drop-invalid" in text
    assert snapshot(storage, corpus) == before

    result = DatasetBuilder(corpus, storage, settings=settings).run(drop_invalid=True)
    dropped = {s.correction_id: s.reason for s in result.skipped}
    assert set(dropped) == {"c00030", "c00031"}
    assert dropped["c00030"].startswith("[video-duration] clip is 25:00 long")
    assert result.version.valid and sum(result.version.counts.values()) == 12


def test_gcs_storage_makes_file_uris_errors_and_gs_uris_valid(corpus: Corpus, settings: Settings) -> None:
    gcs = MemoryGCS()
    for i in range(4):
        add_clip(corpus, gcs, i)  # type: ignore[arg-type]
    version = DatasetBuilder(corpus, gcs, settings=settings).build()
    assert version.in_gcs and version.valid
    assert version.train_uri == f"gs://bkt/ht/training/datasets/{version.id}/train.jsonl"
    assert not any("uri-scheme" in w for w in version.warnings)
    # A clip stored locally cannot go into a Vertex dataset.
    local = LocalStorage(settings.workspace / "local")
    add_clip(corpus, local, 9)
    with pytest.raises(DatasetValidationError, match=r"is a local file; Vertex reads gs:// URIs only"):
        DatasetBuilder(corpus, gcs, settings=settings).build()


def test_crash_before_recording_is_completed_by_a_rerun(
    corpus: Corpus, storage: LocalStorage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(corpus, storage)

    def crash(*_a: object, **_k: object) -> bool:
        raise CorpusError("disk full")

    monkeypatch.setattr(builder_module, "save_version", crash)
    with pytest.raises(CorpusError):
        DatasetBuilder(corpus, storage, settings=settings).run()
    assert list_versions(corpus) == [] and count(corpus, "split_assignments") == 0
    monkeypatch.undo()
    result = DatasetBuilder(corpus, storage, settings=settings).run()
    assert result.created and len(load_examples(corpus, result.version.id)) == 12
    assert version_manifest(corpus, result.version.id)["settings"]["seed"] == "humortune"


def test_registry_resolves_prefixes_and_latest(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    with pytest.raises(DatasetError, match="no dataset version yet"):
        resolve_version(corpus)
    fill(corpus, storage)
    builder = DatasetBuilder(corpus, storage, settings=settings)
    a = builder.build()
    b = builder.build(seed="two")
    assert resolve_version(corpus, "latest").id == b.id
    assert resolve_version(corpus, a.id[:8]).id == a.id or a.id[:8] == b.id[:8]
    with pytest.raises(DatasetError, match="no dataset version 'ds-nope'"):
        resolve_version(corpus, "ds-nope")
    with pytest.raises(DatasetError, match="matches 2 versions"):
        resolve_version(corpus, "ds-")


def test_unknown_options_are_refused(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    builder = DatasetBuilder(corpus, storage, settings=settings)
    with pytest.raises(DatasetError, match="unknown target format 'record'"):
        builder.build(target_format="record")  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match="unknown media resolution 'MEDIA_RESOLUTION_ULTRA'"):
        builder.build(media_resolution="MEDIA_RESOLUTION_ULTRA")
    with pytest.raises(DatasetValidationError, match="no training examples"):
        builder.build()


def test_niche_filter_and_unknown_price(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    fill(corpus, storage)
    corpus.add_correction(
        Correction(id="x", video_url="https://www.tiktok.com/@u/video/1", human_said="h", niche="mat")
    )
    version = DatasetBuilder(corpus, storage, settings=settings).build(niche="mat", base_model="gemini-9-ultra")
    assert version.niche == "mat" and sum(version.counts.values()) == 6
    assert version.estimate is None
    assert any(w.startswith("no cost estimate: gemini-9-ultra: no training price known") for w in version.warnings)


class MemoryGCS:
    """A Storage with a gs:// root, in memory (enough for the builder)."""

    root_uri = "gs://bkt/ht"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def uri(self, key: str) -> str:
        return f"{self.root_uri}/{key}"

    def exists(self, key: str) -> bool:
        return key in self.objects

    def stat(self, key: str) -> ObjectInfo | None:
        data = self.objects.get(key)
        return None if data is None else ObjectInfo(key, len(data), hashlib.sha256(data).hexdigest())

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str = "") -> bool:
        return self.put_bytes(key, path.read_bytes())

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "") -> bool:
        if key in self.objects:
            return False
        self.objects[key] = data
        return True

    def open_read(self, key: str) -> BinaryIO:
        return io.BytesIO(self.objects[key])

    def read_bytes(self, key: str) -> bytes:
        return self.objects[key]

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        return [ObjectInfo(k, len(v)) for k, v in sorted(self.objects.items()) if k.startswith(prefix)]


def test_owner_latest_correction_of_a_clip_wins(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    """A review correction of a clip replaces the battery's in training: one target per video, the latest."""
    fill(corpus, storage)
    battery = corpus.correction("c00003")
    assert battery is not None
    review = battery.model_copy(
        update={"id": "rv-3", "source": "review", "human_said": "Det roliga i detta klipp är ägarens nya läsning."}
    )
    corpus.add_correction(review)
    corpus.db.execute(
        "UPDATE corrections SET video_sha256 = (SELECT video_sha256 FROM corrections WHERE id = 'c00003')"
        " WHERE id = 'rv-3'"
    )
    result = DatasetBuilder(corpus, storage, settings=settings).run()
    ids = [e.correction_id for e in load_examples(corpus, result.version.id)]
    assert "rv-3" in ids and "c00003" not in ids
    assert len(ids) == 12
    assert any(s.correction_id == "c00003" and "superseded by rv-3" in s.reason for s in result.skipped)


def test_build_records_its_prompt_for_inference(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    fill(corpus, storage)
    prompt = Prompt("Beskriv humorn i klippet.", "Svara på svenska.")
    version = DatasetBuilder(corpus, storage, settings=settings, prompt=prompt).run().version
    stored = Stores.of(corpus.db).prompts.get(version.prompt_version)
    assert version.prompt_version == prompt.version
    assert stored is not None and (stored.text, stored.system_instruction) == (prompt.text, prompt.system_instruction)
