"""Poster frames: one JPEG still per stored video, for the review queue.

The still is taken with PyAV (a frame about a third into the clip, where the setup is usually on screen,
encoded with FFmpeg's MJPEG encoder, so no imaging library is needed) and stored beside the video under its
content hash, ``training/posters/<sha256>.jpg`` (a sibling of ``training/videos/``, so a listing of the videos
stays videos only). Storing is put-if-absent, so extracting twice (a rerun of
ingest, or two first requests for the same poster) writes once. Clips ingested before posters existed get
theirs on first request (`ensure_poster`).
"""

from __future__ import annotations

import logging
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humortune.errors import HumortuneError, ProbeError

if TYPE_CHECKING:
    from humortune.storage.base import Storage

__all__ = ["POSTER_PREFIX", "POSTER_WIDTH", "ensure_poster", "poster_jpeg", "poster_key", "store_poster"]

log = logging.getLogger(__name__)

POSTER_PREFIX = "training/posters/"
"""Where posters are stored, next to ``training/videos/``."""

POSTER_WIDTH = 180
"""Width of a poster in pixels (height follows the clip's aspect ratio): a queue thumbnail, not a preview."""


def poster_key(sha256: str) -> str:
    """``training/posters/<sha256>.jpg``: beside the videos, named by the video's content hash."""
    return f"{POSTER_PREFIX}{sha256}.jpg"


def _still(container: Any) -> Any:
    """The first frame at or after a third of the clip (the first frame for very short clips)."""
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
    target = duration / 3
    first = None
    for frame in container.decode(stream):
        first = first or frame
        if frame.time is None or frame.time >= target:
            return frame
    return first


def poster_jpeg(path: Path, *, width: int = POSTER_WIDTH) -> bytes:
    """A JPEG still of the video at ``path``. Raises `ProbeError` when no frame decodes."""
    import av  # heavy: loaded on first use only

    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise ProbeError("no video stream to take a poster frame from", item=str(path))
            frame = _still(container)
            if frame is None:
                raise ProbeError("the video holds no decodable frame for a poster", item=str(path))
            height = max(2, round(frame.height * width / max(1, frame.width)) // 2 * 2)
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height = width, height
            encoder.pix_fmt = "yuvj420p"
            encoder.time_base = Fraction(1, 25)  # one still: any time base will do
            still = frame.reformat(width=width, height=height, format="yuvj420p")
            still.pts = None
            packets = [*encoder.encode(still), *encoder.encode(None)]
    except av.FFmpegError as exc:
        raise ProbeError(f"cannot take a poster frame: {exc}", item=str(path)) from exc
    data = b"".join(bytes(p) for p in packets)
    if not data.startswith(b"\xff\xd8"):
        raise ProbeError("the poster frame did not encode as JPEG", item=str(path))
    return data


def ensure_poster(storage: Storage, video_key: str, sha256: str, *, local: Path | None = None) -> str:
    """Store the poster of a stored video if it is missing; returns its key. Idempotent.

    ``local`` is the video's file on this machine when the caller has it (ingest); otherwise the video is
    read back from storage into a temporary file.
    """
    key = poster_key(sha256)
    if storage.exists(key):
        return key
    if local is not None:
        data = poster_jpeg(local)
    else:
        with tempfile.TemporaryDirectory(prefix="humortune-poster-") as tmp:
            copy = Path(tmp) / "video.mp4"
            with storage.open_read(video_key) as src, copy.open("wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            data = poster_jpeg(copy)
    storage.put_bytes(key, data, content_type="image/jpeg")
    return key


def store_poster(storage: Storage, video_key: str, sha256: str) -> str | None:
    """`ensure_poster` for ingest: a clip whose poster cannot be made is still ingested (the queue shows it
    without a picture, and the review app tries again on first request). Returns the key or ``None``."""
    try:
        return ensure_poster(storage, video_key, sha256)
    except HumortuneError as exc:
        log.warning("no poster frame for %s: %s", sha256[:12], exc.message)
        return None
