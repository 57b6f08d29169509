"""Probe a video file with PyAV: duration, size, container, codec, resolution, fps, audio.

PyAV bundles its own FFmpeg libraries, so no system ffmpeg/ffprobe is needed, and a probe takes about a
millisecond. Anything that is not a decodable video raises `ProbeError` (category ``not_video``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from humortune.errors import ProbeError

__all__ = ["ProbeInfo", "probe_video"]

# Container → (file extension, MIME type) for what we store.
_MIME = {
    "mp4": ("mp4", "video/mp4"),
    "mov": ("mov", "video/quicktime"),
    "webm": ("webm", "video/webm"),
    "matroska": ("mkv", "video/x-matroska"),
    "3gp": ("3gp", "video/3gpp"),
    "flv": ("flv", "video/x-flv"),
    "mpegts": ("ts", "video/mp2t"),
    "mpeg": ("mpg", "video/mpeg"),
    "avi": ("avi", "video/x-msvideo"),
    "asf": ("wmv", "video/x-ms-wmv"),
}


@dataclass(frozen=True, slots=True)
class ProbeInfo:
    """What a probe found in a video file."""

    size_bytes: int
    duration_s: float
    width: int
    height: int
    codec: str
    """Video codec (``h264``, ``hevc``, ``vp9``…)."""
    fps: float
    has_audio: bool
    audio_codec: str | None
    container: str
    """Short container name: ``mp4``, ``mov``, ``webm``, ``matroska``…"""
    mime: str
    ext: str
    """File extension to store it under (``mp4`` for MP4)."""


def probe_video(path: str | os.PathLike[str]) -> ProbeInfo:
    """Open ``path`` with PyAV, decode its first video frame, and describe it.

    Raises `ProbeError` when the file cannot be opened, has no video stream, or its first frame does not
    decode (truncated downloads, HTML pages, audio-only posts).
    """
    import av  # heavy: loaded on first probe only

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ProbeError(f"cannot read the file: {exc.strerror}", item=str(path)) from exc
    if size == 0:
        raise ProbeError("the file is empty", hint="the download produced no data; retry later")
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                kinds: list[str] = sorted({str(s.type) for s in container.streams}) or ["nothing"]
                raise ProbeError(
                    f"no video stream (found {', '.join(kinds)})",
                    hint="this is not a video (an audio-only post or slideshow?); link a video",
                )
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            stream.codec_context.thread_count = 1
            frame = next(iter(container.decode(stream)), None)
            if frame is None:
                raise ProbeError("the video stream holds no decodable frame", hint="the file is broken")
            width = int(stream.codec_context.width or frame.width)
            height = int(stream.codec_context.height or frame.height)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            duration = _duration(container, stream)
            audio = container.streams.audio
            audio_codec = audio[0].codec_context.name if audio else None
            container_name = _container_name(container.format.name, container.metadata, codec)
    except ProbeError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise ProbeError(
            f"not a decodable video ({_first_line(exc)})",
            hint="the file is truncated, or is not a video at all (e.g. a web page)",
        ) from exc
    ext, mime = _MIME.get(container_name, (container_name, f"video/{container_name}"))
    return ProbeInfo(
        size_bytes=size,
        duration_s=round(duration, 3),
        width=width,
        height=height,
        codec=codec,
        fps=round(fps, 3),
        has_audio=audio_codec is not None,
        audio_codec=audio_codec,
        container=container_name,
        mime=mime,
        ext=ext,
    )


def _duration(container: object, stream: object) -> float:
    duration = getattr(container, "duration", None)
    if duration:
        return float(duration) / 1_000_000  # container duration is in AV_TIME_BASE (µs)
    sdur, tbase = getattr(stream, "duration", None), getattr(stream, "time_base", None)
    return float(sdur * tbase) if sdur and tbase else 0.0


def _container_name(format_name: str, metadata: dict[str, str], codec: str) -> str:
    names = set(format_name.split(","))
    if "mp4" in names or "mov" in names:
        brand = metadata.get("major_brand", "").strip().lower()
        if brand.startswith("qt"):
            return "mov"
        return "3gp" if brand.startswith("3gp") else "mp4"
    if "webm" in names or "matroska" in names:
        # FFmpeg reports both as "matroska,webm"; WebM is Matroska restricted to these codecs.
        return "webm" if codec in {"vp8", "vp9", "av1"} else "matroska"
    return sorted(names)[0]


def _first_line(exc: BaseException) -> str:
    # FFmpeg errors carry the file name (a temp path); the reason alone is what the reader needs.
    reason = getattr(exc, "strerror", None)
    if isinstance(reason, str) and reason:
        return reason
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
