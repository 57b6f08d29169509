"""Poster frames: a small JPEG still taken with PyAV, stored once beside the video under its content hash."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from humortune._util import file_sha256
from humortune.errors import ProbeError
from humortune.schema import Correction
from humortune.settings import Settings
from humortune.sources.poster import POSTER_PREFIX, POSTER_WIDTH, ensure_poster, poster_jpeg, poster_key, store_poster
from humortune.storage import LocalStorage, video_key
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus


def _size(jpeg: bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(jpeg), format="image2pipe") as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def test_poster_is_a_jpeg_with_the_clip_aspect(tmp_path: Path) -> None:
    clip = make_test_video(tmp_path / "c.mp4", seconds=2.0, seed=3)
    jpeg = poster_jpeg(clip)
    assert jpeg[:2] == b"\xff\xd8" and 500 < len(jpeg) < 50_000
    width, height = _size(jpeg)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        expected = round(stream.height * POSTER_WIDTH / stream.width / 2) * 2
    assert width == POSTER_WIDTH and abs(height - expected) <= 2


def test_ensure_poster_writes_once_beside_the_video(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    clip = make_test_video(tmp_path / "c.mp4", seconds=1.0, seed=4)
    sha = file_sha256(clip)
    storage.put_file(video_key(sha), clip, sha256=sha, content_type="video/mp4")
    key = ensure_poster(storage, video_key(sha), sha)
    assert key == poster_key(sha) == f"training/posters/{sha}.jpg"
    first = storage.stat(key)
    assert first is not None and first.size > 0
    assert ensure_poster(storage, video_key(sha), sha) == key and storage.stat(key) == first


def test_a_broken_video_gets_no_poster_and_does_not_raise_for_ingest(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"<html>not a video</html>")
    sha = file_sha256(junk)
    storage.put_file(video_key(sha), junk, sha256=sha, content_type="video/mp4")
    with pytest.raises(ProbeError):
        ensure_poster(storage, video_key(sha), sha)
    assert store_poster(storage, video_key(sha), sha) is None
    assert not storage.exists(poster_key(sha))


def test_ingest_stores_each_poster_once(corpus: Corpus, settings: Settings, tmp_path: Path) -> None:
    from humortune.ingest import Ingestor

    clips = [make_test_video(tmp_path / f"c{i}.mp4", seconds=1.0, seed=10 + i) for i in range(2)]
    for i, clip in enumerate(clips):
        corpus.add_correction(Correction(id=f"p{i}", video_url=clip.as_uri(), human_said="roligt"))
    storage = LocalStorage(settings.workspace / "storage")
    assert Ingestor(corpus, storage, settings=settings).run().counts["ok"] == 2
    posters = {o.key: o for o in storage.list(POSTER_PREFIX)}
    assert sorted(posters) == sorted(poster_key(file_sha256(c)) for c in clips)
    assert Ingestor(corpus, storage, settings=settings).run().counts["present"] == 2
    assert {o.key: o for o in storage.list(POSTER_PREFIX)} == posters  # a rerun writes nothing
