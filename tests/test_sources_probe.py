"""PyAV probing: real files made with PyAV; anything that is not a decodable video fails clearly."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from humortune.errors import ProbeError
from humortune.sources import probe_video
from humortune.testing.videos import make_test_video


def _encode(path: Path, codec: str, fmt: str, *, audio: str | None = None, frames: int = 12) -> Path:
    import av
    import numpy as np

    with av.open(str(path), mode="w", format=fmt) as out:
        stream: Any = out.add_stream(codec, rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if codec == "libx265":
            stream.options = {"x265-params": "log-level=none"}
        astream: Any = out.add_stream(audio, rate=48000) if audio else None
        for i in range(frames):
            img = np.full((48, 64, 3), i * 10, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if astream is not None:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), dtype=np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, 0, Fraction(1, 48000)
            for packet in [*astream.encode(frame), *astream.encode()]:
                out.mux(packet)
    return path


def _audio_only(path: Path) -> Path:
    import av
    import numpy as np

    with av.open(str(path), mode="w", format="mp4") as out:
        stream: Any = out.add_stream("aac", rate=22050)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 22050, 0, Fraction(1, 22050)
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return path


def test_probe_reports_what_the_clip_is(tmp_path: Path) -> None:
    clip = make_test_video(tmp_path / "clip.mp4", seconds=3.0, width=160, height=284, fps=12, audio=True, seed=3)
    info = probe_video(clip)
    assert info.size_bytes == clip.stat().st_size
    assert info.duration_s == pytest.approx(3.0, abs=0.15)
    assert (info.width, info.height) == (160, 284)
    assert info.codec == "h264"
    assert info.fps == pytest.approx(12.0)
    assert info.has_audio is True and info.audio_codec == "aac"
    assert (info.container, info.mime, info.ext) == ("mp4", "video/mp4", "mp4")


def test_probe_without_audio(tmp_path: Path) -> None:
    info = probe_video(make_test_video(tmp_path / "silent.mp4", audio=False, seconds=1.0))
    assert info.has_audio is False and info.audio_codec is None


def test_probe_hevc_and_webm(tmp_path: Path) -> None:
    hevc = probe_video(_encode(tmp_path / "h.mp4", "libx265", "mp4"))
    assert hevc.codec == "hevc" and hevc.container == "mp4" and hevc.duration_s == pytest.approx(1.0, abs=0.1)
    webm = probe_video(_encode(tmp_path / "v.webm", "libvpx-vp9", "webm", audio="libopus"))
    assert (webm.codec, webm.container, webm.mime, webm.ext) == ("vp9", "webm", "video/webm", "webm")
    assert webm.has_audio is True and webm.audio_codec == "opus"


def test_truncated_file_is_not_a_video(tmp_path: Path) -> None:
    clip = make_test_video(tmp_path / "clip.mp4", seconds=2.0)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(ProbeError) as info:
        probe_video(broken)
    assert info.value.category == "not_video"
    assert "not a decodable video" in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    "content",
    [b"<!DOCTYPE html><html><body>Log in to TikTok</body></html>", b"\x00" * 4096, b"ID3" + b"\x01" * 500],
)
def test_non_video_bytes_fail_clearly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "download.mp4"
    path.write_bytes(content)
    with pytest.raises(ProbeError, match="not a decodable video"):
        probe_video(path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ProbeError, match="empty"):
        probe_video(tmp_path / "empty.mp4")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="cannot read"):
        probe_video(tmp_path / "nope.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match=r"no video stream \(found audio\)"):
        probe_video(_audio_only(tmp_path / "slideshow.m4a"))
