"""Video bytes for the review UI: HTTP range requests over any `Storage`, never over raw paths.

A clip is requested by its content sha256 only. The sha256 names a `VideoAsset` in the corpus, whose
``uri`` must lie under the configured storage's root; the object key derived from it is checked by the
storage backend (`LocalStorage` refuses keys that would leave its root). So no request can name a file.

Bytes are proxied through the storage backend (a local file, or a GCS object read with ranged downloads),
which keeps the token requirement in force for video too; a signed URL would hand the browser a second,
unauthenticated way in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from humortune.errors import StorageError
from humortune.schema import VideoAsset
from humortune.storage.base import Storage

__all__ = ["ByteRange", "Unsatisfiable", "VideoSource", "iter_range", "parse_range", "resolve_video"]

CHUNK = 256 * 1024
"""Bytes read from storage per chunk while streaming."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive byte range ``start``–``end`` of an object of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        """Bytes in the range."""
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` header value."""
        return f"bytes {self.start}-{self.end}/{self.size}"


class Unsatisfiable(Exception):
    """The requested range lies outside the object (HTTP 416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range a ``Range`` header asks for, or ``None`` to send the whole object.

    Follows RFC 9110: unknown units, malformed values and multi-range requests are ignored (the whole
    object is sent); a range starting past the end raises `Unsatisfiable`.
    """
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.strip()[6:].strip()
    if "," in spec or "-" not in spec:
        return None
    first, _, last = (part.strip() for part in spec.partition("-"))
    if first == "":
        if not last.isdigit():
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - suffix), size - 1, size)
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    start = int(first)
    if last and int(last) < start:
        return None  # syntactically invalid: ignored
    if start >= size:
        raise Unsatisfiable
    end = int(last) if last else size - 1
    return ByteRange(start, min(end, size - 1), size)


@dataclass(frozen=True, slots=True)
class VideoSource:
    """A stored clip that may be streamed: its storage key, size and type."""

    key: str
    size: int
    mime: str
    sha256: str


def resolve_video(storage: Storage, video: VideoAsset) -> VideoSource | None:
    """Map a video's URI to its key in ``storage``; ``None`` if it is not stored there (or is missing)."""
    root = storage.root_uri.rstrip("/") + "/"
    if not video.uri.startswith(root):
        return None
    key = unquote(video.uri[len(root) :])
    try:
        if storage.uri(key) != video.uri:  # the round trip must be exact: no '..', no encoded tricks
            return None
        info = storage.stat(key)
    except StorageError:
        return None
    if info is None:
        return None
    mime = video.mime if video.mime.startswith("video/") else "video/mp4"
    return VideoSource(key=key, size=info.size, mime=mime, sha256=video.sha256)


def iter_range(storage: Storage, key: str, start: int, length: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """Yield ``length`` bytes of an object from ``start``, in chunks; closes the stream when done.

    A backend with ``read_range(key, start, end)`` (end inclusive) is asked for each chunk, so a remote object
    is fetched piece by piece; otherwise the stream from ``open_read`` is seeked and read.
    """
    ranged = getattr(storage, "read_range", None)
    if callable(ranged):
        position, stop = start, start + length
        while position < stop:
            data = ranged(key, position, min(stop, position + chunk) - 1)
            if not data:
                break
            position += len(data)
            yield bytes(data)
        return
    stream = storage.open_read(key)
    try:
        if start:
            stream.seek(start)
        remaining = length
        while remaining > 0:
            data = stream.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        stream.close()
