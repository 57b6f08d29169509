"""Where videos and datasets live: `LocalStorage` (embedded default) or `GCSStorage` (Vertex AI)."""

from __future__ import annotations

from humortune.storage.base import DATASET_PREFIX, VIDEO_PREFIX, ObjectInfo, Storage, dataset_key, video_key
from humortune.storage.local import LocalStorage

__all__ = [
    "DATASET_PREFIX",
    "VIDEO_PREFIX",
    "LocalStorage",
    "ObjectInfo",
    "Storage",
    "dataset_key",
    "open_storage",
    "video_key",
]


def open_storage(uri: str) -> Storage:
    """The backend for a storage URI: ``file://…`` → `LocalStorage`, ``gs://bucket/prefix`` → GCSStorage."""
    if uri.startswith("gs://"):
        from humortune.storage.gcs import GCSStorage  # google-cloud-storage loads only when used

        gcs: Storage = GCSStorage.from_uri(uri)
        return gcs
    return LocalStorage(uri)
