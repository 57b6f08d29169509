"""Re-importing a battery does only what changed (issue 13): an unchanged file writes nothing, a changed item is
the only one validated and written again, and nothing edited or deleted since the last import is hidden."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import humortune.workspace.battery as battery_module
from humortune.errors import BatteryError, CorpusError
from humortune.schema import Correction, VideoAsset
from humortune.workspace import Corpus
from humortune.workspace.stores import CorrectionStore
from humortune.workspace.stores.battery_imports import BatteryImportStore


def _items(n: int = 6) -> list[dict[str, Any]]:
    return [
        {
            "video_url": f"https://www.tiktok.com/@u/video/{7300 + i}",
            "gemini_said": f"Ett klipp {i}.",
            "human_said": f"Det roliga i detta klipp är {i}.",
            "niche": "mat" if i % 2 else None,
        }
        for i in range(n)
    ]


def _write(path: Path, items: list[Any]) -> Path:
    path.write_text(json.dumps(items, ensure_ascii=False), "utf-8")
    return path


def _tables(corpus: Corpus) -> dict[str, list[tuple[Any, ...]]]:
    order = {"corrections": "id", "battery_imports": "path", "battery_items": "path, item_hash"}
    return {t: [tuple(r) for r in corpus.db.query(f"SELECT * FROM {t} ORDER BY {o}")] for t, o in order.items()}


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The index of every item the parser validates in full."""
    seen: list[int] = []
    real = battery_module._check_item

    def spy(index: int, *args: Any) -> Any:
        seen.append(index)
        return real(index, *args)

    monkeypatch.setattr(battery_module, "_check_item", spy)
    return seen


def test_an_unchanged_file_is_neither_parsed_nor_written(
    corpus: Corpus, tmp_path: Path, validated: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [*_items(), _items()[0], {"video_url": "https://www.tiktok.com/@u/video/9", "human_said": ""}]
    path = _write(tmp_path / "b.json", items)
    first = corpus.import_battery(path)
    assert (first.added, first.duplicates, first.skipped) == (6, 1, 1) and first.problems
    before, validated[:] = _tables(corpus), []

    def no_write(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an unchanged battery must not be written again")

    monkeypatch.setattr(Corpus, "_upsert", no_write)
    monkeypatch.setattr(BatteryImportStore, "record", no_write)
    again = corpus.import_battery(path)
    assert validated == []
    assert _tables(corpus) == before
    assert (again.added, again.updated, again.unchanged) == (0, 0, 6)
    assert (again.shape, again.duplicates, again.skipped, again.problems) == (
        first.shape,
        first.duplicates,
        first.skipped,
        first.problems,
    )
    with pytest.raises(BatteryError) as refused:  # --strict still refuses the file it refused before
        corpus.import_battery(path, strict=True)
    assert refused.value.problems == first.problems


def test_one_changed_item_is_the_only_one_validated_and_written(
    corpus: Corpus, tmp_path: Path, validated: list[int]
) -> None:
    items = _items()
    path = _write(tmp_path / "b.json", items)
    corpus.import_battery(path)
    stamps = {r["id"]: r["updated_at"] for r in corpus.db.query("SELECT id, updated_at FROM corrections")}
    items[3]["human_said"] = "Det roliga är egentligen tajmingen."
    validated[:] = []
    report = corpus.import_battery(_write(path, items))
    assert validated == [3]
    assert (report.added, report.updated, report.unchanged, report.problems) == (0, 1, 5, [])
    after = {r["id"]: r["updated_at"] for r in corpus.db.query("SELECT id, updated_at FROM corrections")}
    assert [cid for cid in after if after[cid] != stamps[cid]] == [corpus.corrections()[3].id]
    assert corpus.corrections()[3].human_said == "Det roliga är egentligen tajmingen."


def test_added_and_removed_items_only_validate_the_new_one(
    corpus: Corpus, tmp_path: Path, validated: list[int]
) -> None:
    items = _items()
    path = _write(tmp_path / "b.json", items)
    corpus.import_battery(path)
    validated[:] = []
    shorter = [*items[1:], _items(8)[7]]
    report = corpus.import_battery(_write(path, shorter))
    assert validated == [5]  # the new item, at its position in the new file
    assert (report.added, report.unchanged) == (1, 5)
    validated[:] = []
    assert corpus.import_battery(path).unchanged == 6 and validated == []


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda items: items[4].update(video_url=items[1]["video_url"]), id="conflicting-video"),
        pytest.param(lambda items: items.__setitem__(4, dict(items[1])), id="exact-duplicate"),
        pytest.param(lambda items: items[2].update(id="same"), id="one-explicit-id"),
        pytest.param(lambda items: [items[i].update(id="same") for i in (2, 5)], id="clashing-ids"),
        pytest.param(lambda items: items[0].update(human_said=7), id="bad-type"),
        pytest.param(lambda items: items.append("not an object"), id="not-an-object"),
    ],
)
def test_a_reimport_reports_what_a_fresh_import_of_the_same_file_reports(
    corpus: Corpus, tmp_path: Path, edit: Any
) -> None:
    items = _items()
    path = _write(tmp_path / "b.json", items)
    corpus.import_battery(path)
    edit(items)
    _write(path, items)
    again = corpus.import_battery(path)
    with Corpus.open(tmp_path / "fresh.db") as fresh:
        clean = fresh.import_battery(path)
        expected = sorted((c.id, c.human_said, c.video_url) for c in fresh.corrections())
    assert (again.problems, again.duplicates, again.skipped, again.imported) == (
        clean.problems,
        clean.duplicates,
        clean.skipped,
        clean.imported,
    )
    assert clean.problems or clean.duplicates or clean.imported == 6
    kept = {e[0] for e in expected}
    assert sorted((c.id, c.human_said, c.video_url) for c in corpus.corrections() if c.id in kept) == expected


def test_a_correction_deleted_or_edited_since_is_restored_and_relinked(
    corpus: Corpus, tmp_path: Path, validated: list[int]
) -> None:
    items = _items(3)
    path = _write(tmp_path / "b.json", items)
    corpus.import_battery(path)
    first, second = corpus.corrections()[:2]
    # the clip of the first correction is stored and a review correction points at it
    video = VideoAsset(
        sha256="a" * 64, source_id="7300", size_bytes=10, duration_s=1.0, width=2, height=2, codec="h264", fps=30.0,
        has_audio=False, uri="file:///v.mp4",
    )  # fmt: skip
    corpus.add_video(video)
    review = Correction(id="r-1", video_url=first.video_url, human_said="Från granskningen.", source="review")
    corpus.add_correction(review)
    corpus.link_video(corpus.entries()[0].video_key, video.sha256)
    CorrectionStore(corpus.db).delete(first.id)
    corpus.add_correction(second.model_copy(update={"human_said": "Ändrad någon annanstans."}))
    validated[:] = []
    report = corpus.import_battery(path)
    assert sorted(validated) == [0, 1]
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    restored = {e.correction.id: e for e in corpus.entries()}
    assert restored[first.id].video is not None and restored[first.id].video.sha256 == video.sha256
    assert restored[second.id].correction.human_said == second.human_said


def test_the_same_bytes_elsewhere_or_under_another_source_are_imported_again(
    corpus: Corpus, tmp_path: Path, validated: list[int]
) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "clip.mp4").write_bytes(b"x")
    items = [{"video_url": "clip.mp4", "human_said": "Roligt."}]  # relative to the battery file
    corpus.import_battery(_write(tmp_path / "a" / "b.json", items))
    validated[:] = []
    moved = corpus.import_battery(_write(tmp_path / "b" / "b.json", items))
    assert validated == [0] and moved.added == 1
    assert {c.video_url for c in corpus.corrections()} == {
        (tmp_path / folder / "clip.mp4").resolve().as_uri() for folder in ("a", "b")
    }
    validated[:] = []
    retagged = corpus.import_battery(tmp_path / "b" / "b.json", source="export")
    assert validated == [0] and retagged.unchanged == 1  # parsed again; the source tag is not part of a revision


def test_a_strict_import_that_refuses_records_nothing(corpus: Corpus, tmp_path: Path, validated: list[int]) -> None:
    path = _write(tmp_path / "b.json", [*_items(2), {"video_url": "https://www.tiktok.com/@u/video/1"}])
    with pytest.raises(BatteryError):
        corpus.import_battery(path, strict=True)
    assert _tables(corpus) == {"corrections": [], "battery_imports": [], "battery_items": []}
    validated[:] = []
    assert corpus.import_battery(path).added == 2 and validated == [0, 1, 2]


def _battery_items_reads(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement that reads ``battery_items`` from now on."""
    seen: list[str] = []
    real = type(corpus.db).query

    def spy(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        if "battery_items" in sql:
            seen.append(sql)
        return real(self, sql, *args, **kwargs)

    monkeypatch.setattr(type(corpus.db), "query", spy)
    return seen


def test_an_unchanged_reimport_reads_no_item_while_no_correction_changed(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "b.json", _items())
    corpus.import_battery(path)
    reads = _battery_items_reads(corpus, monkeypatch)
    assert corpus.import_battery(path).unchanged == 6
    assert reads == []  # the counter alone says nothing drifted
    corpus.add_correction(
        Correction(id="r-new", video_url="https://www.tiktok.com/@u/video/1", human_said="Ny.", source="review")
    )
    assert corpus.import_battery(path).unchanged == 6
    assert len(reads) == 1  # the counter moved: every item checked once, the file found intact and stamped
    assert corpus.import_battery(path).unchanged == 6
    assert len(reads) == 1


def test_the_counter_moves_with_what_the_check_reads_and_not_with_a_video_link(corpus: Corpus, tmp_path: Path) -> None:
    store = BatteryImportStore(corpus.db)
    corpus.import_battery(_write(tmp_path / "b.json", _items(2)))
    first = corpus.corrections()[0]
    video = VideoAsset(
        sha256="b" * 64, source_id="7300", size_bytes=10, duration_s=1.0, width=2, height=2, codec="h264", fps=30.0,
        has_audio=False, uri="file:///v.mp4",
    )  # fmt: skip
    corpus.add_video(video)
    start = store.changes()
    corpus.link_video(corpus.entries()[0].video_key, video.sha256)
    assert store.changes() == start  # linking a clip changes no content hash
    corpus.add_correction(first.model_copy(update={"human_said": "Ändrad."}))
    edited = store.changes()
    assert edited != start
    CorrectionStore(corpus.db).delete(first.id)
    assert store.changes() not in (start, edited)


def test_a_correction_changed_while_an_import_ran_is_checked_next_time(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _items(3)
    path = _write(tmp_path / "b.json", items)
    corpus.import_battery(path)
    victim = corpus.corrections()[0]
    real = BatteryImportStore.known

    def known_then_edited(self: BatteryImportStore, where: str) -> Any:
        found = real(self, where)  # the import now believes the victim is current
        corpus.add_correction(victim.model_copy(update={"human_said": "Ändrad under importen."}))
        return found

    monkeypatch.setattr(BatteryImportStore, "known", known_then_edited)
    items[2]["human_said"] = "Det roliga är något annat."
    corpus.import_battery(_write(path, items))
    monkeypatch.setattr(BatteryImportStore, "known", real)
    assert corpus.correction(victim.id).human_said == "Ändrad under importen."  # type: ignore[union-attr]
    report = corpus.import_battery(path)  # the same bytes: only the per-item check can see the edit
    assert (report.updated, report.unchanged) == (1, 2)
    assert corpus.correction(victim.id).human_said == victim.human_said  # type: ignore[union-attr]


def test_a_missing_counter_row_is_an_error_not_a_free_pass(corpus: Corpus, tmp_path: Path) -> None:
    path = _write(tmp_path / "b.json", _items(2))
    corpus.import_battery(path)
    corpus.db.execute("DELETE FROM correction_changes")
    with pytest.raises(CorpusError, match="correction_changes counter row is missing"):
        corpus.import_battery(path)
