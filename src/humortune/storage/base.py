"""The `Storage` protocol every backend implements, and the object key layout.

Keys are relative, ``/``-separated paths (``training/videos/<id>.mp4``); a backend maps them under its root
(a directory, or ``gs://bucket/prefix``). Writes are put-if-absent: an object, once stored under a key, is
never overwritten, which is what makes ingest and dataset builds idempotent and crash-safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

__all__ = ["DATASET_PREFIX", "VIDEO_PREFIX", "ObjectInfo", "Storage", "dataset_key", "video_key"]

VIDEO_PREFIX = "training/videos/"
DATASET_PREFIX = "training/datasets/"


def video_key(video_id: str, ext: str = "mp4") -> str:
    """``training/videos/<id>.mp4``: the TikTok video id when known, else the content hash."""
    return f"{VIDEO_PREFIX}{video_id}.{ext}"


def dataset_key(version: str, filename: str) -> str:
    """``training/datasets/<version>/<filename>``, beside the videos."""
    return f"{DATASET_PREFIX}{version}/{filename}"


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a backend knows about one stored object."""

    key: str
    size: int
    sha256: str | None = None
    """Content sha256 when the backend recorded it (metadata), else ``None``."""
    md5_b64: str | None = None
    content_type: str | None = None


@runtime_checkable
class Storage(Protocol):
    """Where videos and datasets live. `LocalStorage` is the embedded default; `GCSStorage` is for Vertex."""

    @property
    def root_uri(self) -> str:
        """URI of the storage root (``file:///…/storage`` or ``gs://bucket/prefix``)."""
        ...

    def uri(self, key: str) -> str:
        """The URI an object is (or would be) stored at."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def stat(self, key: str) -> ObjectInfo | None:
        """Size and checksums of an object, or ``None`` if absent."""
        ...

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str = "application/octet-stream") -> bool:
        """Store a local file under ``key`` unless something is already there.

        Returns ``True`` if this call wrote the object, ``False`` if it was already present. The upload is
        verified against ``sha256`` (and the backend's own checksum); a partial object is never visible.
        """
        ...

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> bool:
        """Like `put_file` for small in-memory payloads (JSONL, manifests)."""
        ...

    def open_read(self, key: str) -> BinaryIO:
        """A binary stream of the object's bytes. Raises `StorageError` if it is absent."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """The whole object (for small objects only)."""
        ...

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Objects whose key starts with ``prefix``, sorted by key."""
        ...
