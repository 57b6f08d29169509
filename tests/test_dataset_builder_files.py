"""A built version is only "already built" when its files are there; build errors name the correction
and the real cause (issue 15, dataset items)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from humortune.cli import main
from humortune.dataset import DatasetBuilder, list_versions
from humortune.dataset.registry import verify_files
from humortune.errors import DatasetError, DatasetValidationError, StorageError
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus

from ._dataset_support import RECORD, add_clip


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.workspace / "storage")


def _fill(corpus: Corpus, storage: LocalStorage, n: int = 10) -> None:
    for i in range(n):
        add_clip(corpus, storage, i, record=RECORD)


def test_a_deleted_split_file_is_restored_byte_for_byte(
    corpus: Corpus, storage: LocalStorage, settings: Settings
) -> None:
    _fill(corpus, storage)
    first = DatasetBuilder(corpus, storage, settings=settings).run()
    train = storage.path(first.version.train_uri.split("/storage/", 1)[1])
    original = train.read_bytes()
    train.unlink()
    assert verify_files(corpus, storage, first.version.id) == {"train": f"{first.version.train_uri} is missing"}
    again = DatasetBuilder(corpus, storage, settings=settings).run()
    assert (again.created, again.restored, again.version.id) == (False, ["train"], first.version.id)
    assert train.read_bytes() == original and verify_files(corpus, storage, first.version.id) == {}
    assert DatasetBuilder(corpus, storage, settings=settings).run().restored == []


def test_a_file_changed_in_place_is_refused(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    _fill(corpus, storage)
    version = DatasetBuilder(corpus, storage, settings=settings).run().version
    train = storage.path(version.train_uri.split("/storage/", 1)[1])
    train.write_bytes(train.read_bytes()[:-10] + b"\n")
    with pytest.raises(DatasetError, match="not the file that was built") as excinfo:
        DatasetBuilder(corpus, storage, settings=settings).run()
    assert excinfo.value.hint is not None and "delete" in excinfo.value.hint


def test_datasets_show_reports_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    storage = LocalStorage(ws / "storage")
    with Corpus.open(settings=Settings(workspace=ws)) as corpus:
        _fill(corpus, storage)
    assert main(["-w", str(ws), "build"]) == 0
    with Corpus.open(settings=Settings(workspace=ws)) as corpus:
        (version,) = list_versions(corpus)
    storage.path(version.train_uri.split("/storage/", 1)[1]).unlink()
    capsys.readouterr()
    assert main(["-w", str(ws), "datasets", "show", version.id]) == 0
    out = capsys.readouterr().out
    assert "train: " in out and "is missing" in out and "humortune build" in out
    assert main(["-w", str(ws), "build"]) == 0
    assert "restored its missing train.jsonl" in capsys.readouterr().out


def test_huge_human_said_names_the_correction_and_the_text(
    corpus: Corpus, storage: LocalStorage, settings: Settings
) -> None:
    _fill(corpus, storage, 12)
    add_clip(corpus, storage, 99, text="ha" * 400_000, record=RECORD, correction_id="huge-one")
    with pytest.raises(DatasetValidationError) as excinfo:
        DatasetBuilder(corpus, storage, settings=settings).run()
    line = next(p for p in excinfo.value.problems if "tokens-per-example" in p)
    assert line.startswith("correction huge-one (") and ".jsonl:" in line
    assert "human_said" in line and "shorten correction huge-one" in line
    assert "shorten the clip" not in line  # the video is not the problem


def test_unwritable_storage_is_one_error_with_a_permission_hint(
    corpus: Corpus, storage: LocalStorage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(corpus, storage)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(StorageError) as excinfo:
        DatasetBuilder(corpus, storage, settings=settings).run()
    assert "Permission denied" in excinfo.value.message
    assert (
        excinfo.value.hint is not None and "writable" in excinfo.value.hint and "disk space" not in excinfo.value.hint
    )
    assert list_versions(corpus) == []
