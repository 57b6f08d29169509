"""Small, real test videos made with PyAV: H.264 video plus an AAC tone, each one distinct.

Used by the test suite, the benchmarks and ``scripts/make_sample_videos.py``. Deterministic for a given
``seed`` (single-threaded encoder, fixed settings), so the same call gives the same bytes.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

__all__ = ["make_test_video"]


def make_test_video(
    path: str | Path,
    *,
    seconds: float = 2.0,
    width: int = 160,
    height: int = 284,
    fps: int = 12,
    audio: bool = True,
    seed: int = 0,
    bitrate: int | None = None,
) -> Path:
    """Write an mp4 (H.264 + AAC) with a moving square whose colour and tone depend on ``seed``.

    ``bitrate`` (bits/s) forces a larger file, e.g. for memory benchmarks; by default the clip is a few KB.
    """
    import av  # heavy: imported only when a video is made
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    colour = rng.integers(40, 255, size=3, dtype=np.uint8)
    background = rng.integers(0, 60, size=3, dtype=np.uint8)
    tone = 220.0 + 40.0 * (seed % 12)
    n_frames = max(1, round(seconds * fps))
    with av.open(str(path), mode="w", format="mp4") as container:
        vstream = container.add_stream("libx264", rate=fps)
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = "yuv420p"
        vstream.codec_context.thread_count = 1  # deterministic output
        vstream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        if bitrate:
            vstream.bit_rate = bitrate
            vstream.options = {"preset": "ultrafast", "crf": "0"}
        astream = None
        if audio:
            astream = container.add_stream("aac", rate=22050)
            astream.layout = "mono"
        side = max(8, min(width, height) // 4)
        for i in range(n_frames):
            frame = np.empty((height, width, 3), dtype=np.uint8)
            frame[:] = background
            if bitrate:  # noise defeats compression so the file really is large
                frame[:] = rng.integers(0, 255, size=frame.shape, dtype=np.uint8)
            x = int((width - side) * (0.5 + 0.5 * math.sin(2 * math.pi * i / max(n_frames, 1))))
            y = int((height - side) * i / max(n_frames - 1, 1))
            frame[y : y + side, x : x + side] = colour
            for packet in vstream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in vstream.encode():
            container.mux(packet)
        if astream is not None:
            rate = 22050
            total = int(seconds * rate)
            t = np.arange(total, dtype=np.float32) / rate
            samples = (0.2 * np.sin(2 * math.pi * tone * t)).astype(np.float32)
            pts = 0
            for start in range(0, total, 1024):
                chunk = samples[start : start + 1024]
                aframe = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
                aframe.sample_rate = rate
                aframe.pts = pts
                aframe.time_base = Fraction(1, rate)
                pts += chunk.shape[0]
                for packet in astream.encode(aframe):
                    container.mux(packet)
            for packet in astream.encode():
                container.mux(packet)
    return path
