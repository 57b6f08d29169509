"""Lookups on the ``videos`` table that `humortune.workspace.Corpus` does not offer (by URI, by source id)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from humortune.schema import VideoAsset
from humortune.workspace.stores._base import Store

__all__ = ["VideoFacts", "VideoStore"]

_CHUNK = 500  # bound parameters per query: well under SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class VideoFacts:
    """What the probe recorded about a stored video, keyed by its URI (for validating JSONL rows)."""

    uri: str
    size_bytes: int
    duration_s: float
    has_audio: bool


class VideoStore(Store):
    """Find stored videos by where they live or where they came from."""

    def exists(self, sha256: str) -> bool:
        """Whether a video with this content hash is stored."""
        return self.db.query_one("SELECT 1 FROM videos WHERE sha256 = ?", (sha256,)) is not None

    def get(self, sha256: str) -> VideoAsset | None:
        """A stored video by content hash."""
        row = self.db.query_one("SELECT * FROM videos WHERE sha256 = ?", (sha256,))
        return _video(row) if row is not None else None

    def by_uri(self, uri: str) -> VideoAsset | None:
        """The stored video at ``uri`` (file://… or gs://…)."""
        row = self.db.query_one("SELECT * FROM videos WHERE uri = ? ORDER BY sha256 LIMIT 1", (uri,))
        return _video(row) if row is not None else None

    def by_source_id(self, source_id: str) -> VideoAsset | None:
        """A stored video from this source (TikTok id, or content hash for local files)."""
        row = self.db.query_one(
            "SELECT * FROM videos WHERE source_id = ? ORDER BY created_at, sha256 LIMIT 1", (source_id,)
        )
        return _video(row) if row is not None else None

    def many(self, sha256s: Iterable[str]) -> dict[str, VideoAsset]:
        """The stored videos among ``sha256s``, by content hash (one query per 500 hashes)."""
        wanted, found = sorted(set(sha256s)), {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self.db.query(f"SELECT * FROM videos WHERE sha256 IN ({marks})", chunk):
                found[row["sha256"]] = _video(row)
        return found

    def not_analysed_by(self, model: str, *, limit: int = 50) -> list[tuple[str, str]]:
        """Stored videos ``model`` has no analysis of: (sha256, source id), newest stored first."""
        rows = self.db.query(
            "SELECT v.sha256, v.source_id FROM videos v WHERE NOT EXISTS (SELECT 1 FROM analyses a"
            " WHERE a.video_sha256 = v.sha256 AND a.model = ?) ORDER BY v.created_at DESC, v.sha256 LIMIT ?",
            (model, int(limit)),
        )
        return [(str(r[0]), str(r[1])) for r in rows]

    def facts(self) -> dict[str, VideoFacts]:
        """Probe facts of every stored video, by URI."""
        rows = self.db.query("SELECT uri, size_bytes, duration_s, has_audio FROM videos")
        return {r[0]: VideoFacts(r[0], r[1], r[2], bool(r[3])) for r in rows}


def _video(row: Any) -> VideoAsset:
    data = {k: row[k] for k in row.keys() if k != "created_at"}
    data["has_audio"] = bool(data["has_audio"])
    return VideoAsset(**data)
