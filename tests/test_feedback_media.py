"""Range parsing and storage-key resolution for the review UI's video streaming."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from humortune.feedback.media import ByteRange, Unsatisfiable, iter_range, parse_range, resolve_video
from humortune.schema import VideoAsset
from humortune.storage import LocalStorage


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-0", ByteRange(0, 0, 1000)),
        ("bytes=0-99", ByteRange(0, 99, 1000)),
        ("bytes=500-", ByteRange(500, 999, 1000)),
        ("bytes=900-5000", ByteRange(900, 999, 1000)),  # clipped to the end
        ("bytes=-100", ByteRange(900, 999, 1000)),
        ("bytes=-5000", ByteRange(0, 999, 1000)),  # suffix longer than the object: all of it
        ("BYTES = 1-2", None),  # malformed: ignored
        ("items=0-9", None),  # unknown unit: ignored
        ("bytes=0-9,20-29", None),  # multi-range: whole object
        ("bytes=9-0", None),  # end before start: invalid, ignored
        ("bytes=a-b", None),
        ("bytes=5", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-1001", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


def test_byte_range_headers() -> None:
    r = ByteRange(10, 19, 100)
    assert r.length == 10 and r.content_range == "bytes 10-19/100"


def _asset(uri: str, sha: str = "a" * 64) -> VideoAsset:
    return VideoAsset(
        sha256=sha,
        source_id="x",
        size_bytes=10,
        duration_s=1,
        width=1,
        height=1,
        codec="h264",
        fps=1,
        has_audio=False,
        uri=uri,
    )


def test_resolve_and_stream_from_local_storage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    payload = bytes(range(256)) * 40
    storage.put_bytes("training/videos/clip one.mp4", payload)
    source = resolve_video(storage, _asset(storage.uri("training/videos/clip one.mp4")))
    assert source is not None and source.key == "training/videos/clip one.mp4" and source.size == len(payload)
    assert source.mime == "video/mp4"
    assert b"".join(iter_range(storage, source.key, 100, 5000, chunk=777)) == payload[100:5100]
    assert b"".join(iter_range(storage, source.key, 0, 10**6)) == payload  # stops at the end


def test_resolve_refuses_anything_outside_storage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    storage.put_bytes("training/videos/a.mp4", b"x")
    (tmp_path / "outside.mp4").write_bytes(b"secret")
    root = storage.root_uri
    for uri in [
        (tmp_path / "outside.mp4").as_uri(),
        f"{root}/../outside.mp4",
        f"{root}/%2E%2E/outside.mp4",
        f"{root}/training/videos/missing.mp4",
        f"{root}extra/training/videos/a.mp4",
        "gs://bucket/training/videos/a.mp4",
        "https://example.com/a.mp4",
    ]:
        assert resolve_video(storage, _asset(uri)) is None, uri


def test_ranged_backends_are_read_piece_by_piece(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    payload = bytes(range(256)) * 10
    storage.put_bytes("v.mp4", payload)
    calls: list[tuple[int, int]] = []

    class Ranged(LocalStorage):
        def read_range(self, key: str, start: int, end: int) -> bytes:
            calls.append((start, end))
            return self.path(key).read_bytes()[start : end + 1]

        def open_read(self, key: str) -> Any:
            raise AssertionError("a ranged backend must not be read whole")

    ranged = Ranged(tmp_path / "store")
    assert b"".join(iter_range(ranged, "v.mp4", 10, 1000, chunk=300)) == payload[10:1010]
    assert calls == [(10, 309), (310, 609), (610, 909), (910, 1009)]
