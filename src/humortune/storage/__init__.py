"""Where videos and datasets live: `LocalStorage` (embedded default) or `GCSStorage` (Vertex AI)."""

from __future__ import annotations

from humortune.settings import Settings
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


def open_storage(uri: str | None = None, *, settings: Settings | None = None) -> Storage:
    """The backend for a storage URI: ``file://…`` → `LocalStorage`, ``gs://bucket/prefix`` → GCSStorage.

    Without ``uri``, the effective ``settings.storage_uri``; GCS project and credentials come from ``settings``.
    """
    if uri is None:
        uri = (settings or Settings()).storage_uri
    if uri.startswith("gs://"):
        from humortune.storage.gcs import GCSStorage  # google-cloud-storage loads only when used

        gcs: Storage = GCSStorage.from_uri(uri, settings=settings)
        return gcs
    return LocalStorage(uri)
