"""Hashes are canonical; atomic writes never leave half-written files."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from humortune._util import atomic_write, canonical_json, content_hash, cyclic_gc_paused, file_sha256


def test_canonical_json_ignores_key_order() -> None:
    assert canonical_json({"b": 1, "a": "å"}) == '{"a":"å","b":1}'
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})


def test_file_sha256_matches_content_hash(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 3_000_000)
    assert file_sha256(path) == content_hash(b"x" * 3_000_000)


def test_atomic_write_failure_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target, "w") as fh:
        fh.write("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_write_replaces(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "sub" / "out.txt", "w") as fh:
        fh.write("new")
    assert (tmp_path / "sub" / "out.txt").read_text() == "new"


def test_cyclic_gc_paused_pauses_and_resumes_once_even_on_error() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():  # nested: the inner one does not resume it
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

    @cyclic_gc_paused()
    def fails() -> None:
        assert not gc.isenabled()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fails()
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # paused by someone else before: left as it was
    finally:
        gc.enable()
