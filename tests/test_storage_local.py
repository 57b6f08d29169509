"""LocalStorage: atomic put-if-absent, checksums beside objects, and cleanup after crashed writers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from humortune.errors import StorageError
from humortune.storage import LocalStorage, Storage, open_storage, video_key


def _file(path: Path, data: bytes) -> tuple[Path, str]:
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_put_is_put_if_absent(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    assert isinstance(storage, Storage)
    first, sha1 = _file(tmp_path / "a.mp4", b"first video")
    second, sha2 = _file(tmp_path / "b.mp4", b"another encode of it")
    key = video_key("123")
    assert storage.put_file(key, first, sha256=sha1) is True
    assert storage.put_file(key, second, sha256=sha2) is False
    assert storage.read_bytes(key) == b"first video"
    info = storage.stat(key)
    assert info is not None and info.sha256 == sha1 and info.size == len(b"first video")  # sidecar untouched
    assert storage.exists(key) and not storage.exists(video_key("456"))
    assert storage.uri(key) == (tmp_path / "store" / "training/videos/123.mp4").as_uri()
    assert storage.root_uri == (tmp_path / "store").as_uri()


def test_checksum_mismatch_stores_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    path, _ = _file(tmp_path / "a.mp4", b"data")
    with pytest.raises(StorageError, match="checksum mismatch"):
        storage.put_file("x/a.mp4", path, sha256="0" * 64)
    assert not storage.exists("x/a.mp4")
    assert list((tmp_path / "store" / "x").iterdir()) == []  # no temp file left either


def test_concurrent_writers_of_one_key_have_one_winner(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    sources = [_file(tmp_path / f"{i}.mp4", f"encode {i}".encode() * 1000) for i in range(8)]
    results: list[bool] = []
    barrier = threading.Barrier(len(sources))

    def put(path: Path, sha: str) -> None:
        barrier.wait()
        results.append(storage.put_file("training/videos/7.mp4", path, sha256=sha))

    threads = [threading.Thread(target=put, args=s) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    info = storage.stat("training/videos/7.mp4")
    assert info is not None
    assert info.sha256 == hashlib.sha256(storage.read_bytes("training/videos/7.mp4")).hexdigest()
    assert [p.name for p in (tmp_path / "store/training/videos").iterdir() if p.name.startswith(".")] == []


def test_list_by_prefix_skips_sidecars_and_temp_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    for key in ("training/videos/b.mp4", "training/videos/a.mp4", "training/datasets/v1/train.jsonl"):
        storage.put_bytes(key, key.encode())
    (tmp_path / "store/training/videos/.c.mp4.1.ab.upload.tmp").write_bytes(b"partial")
    assert [o.key for o in storage.list("training/videos/")] == ["training/videos/a.mp4", "training/videos/b.mp4"]
    assert len(storage.list()) == 3
    assert storage.put_bytes("training/videos/a.mp4", b"other") is False
    assert LocalStorage(tmp_path / "nothing-here").list() == []


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../escape.mp4", "a/../../b", "a\\b"])
def test_keys_cannot_escape_the_root(tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError, match="invalid object key"):
        LocalStorage(tmp_path).uri(key)


def test_reading_a_missing_object(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no such object"):
        LocalStorage(tmp_path).open_read("training/videos/none.mp4")
    assert LocalStorage(tmp_path).stat("training/videos/none.mp4") is None


def test_sweep_removes_temp_files_of_dead_writers_only(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    folder = tmp_path / "store/training/videos"
    folder.mkdir(parents=True)
    dead = folder / f".9.mp4.{_dead_pid()}.deadbeef.upload.tmp"
    alive = folder / f".8.mp4.{os.getpid()}.cafebabe.upload.tmp"
    old = folder / ".x.mp4.sha256.q1w2e3.tmp"  # an atomic_write leftover without a pid
    for path in (dead, alive, old):
        path.write_bytes(b"partial")
    os.utime(old, (1, 1))
    assert storage.sweep_temp() == 2
    assert sorted(p.name for p in folder.iterdir()) == [alive.name]


def test_a_crash_between_publish_and_sidecar_heals_on_stat(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    storage.put_bytes("training/videos/1.mp4", b"video bytes")
    sidecar = tmp_path / "store/training/videos/1.mp4.sha256"
    sidecar.unlink()  # as if killed right after os.link
    info = storage.stat("training/videos/1.mp4")
    assert info is not None and info.sha256 == hashlib.sha256(b"video bytes").hexdigest()
    assert sidecar.read_text() == info.sha256


def test_open_storage_picks_the_backend(tmp_path: Path) -> None:
    local = open_storage((tmp_path / "s").as_uri())
    assert isinstance(local, LocalStorage) and local.root == (tmp_path / "s").resolve()
    from humortune.settings import Settings

    default = open_storage(settings=Settings(workspace=tmp_path / "ws"))
    assert isinstance(default, LocalStorage) and default.root == (tmp_path / "ws" / "storage").resolve()
