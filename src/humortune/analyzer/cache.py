"""The analysis cache: the corpus's ``analyses`` table, keyed by (video, model, prompt version, mode).

A rerun over the same clips costs nothing: `AnalysisCache.get` returns the stored analysis, and
`AnalysisCache.put` upserts. The key's video part is the content sha256 when known, else the video URI. An
analysis's id is derived from its key (``an-`` + 16 hex digits), so a refreshed analysis keeps its id and
anything that points at it (reviews, corrections) stays valid; the row then holds the newest answer.
"""

from __future__ import annotations

from humortune.schema import Analysis
from humortune.workspace.db import Database
from humortune.workspace.stores.analyses import AnalysisStore, analysis_id

__all__ = ["AnalysisCache", "analysis_id"]


class AnalysisCache:
    """Read and write analyses in the corpus database (thread-safe: the database serialises writers)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._store = AnalysisStore(db)

    def get(
        self, *, video_sha256: str | None, video_uri: str, model: str, prompt_version: str, mode: str
    ) -> Analysis | None:
        """The cached analysis for this key, marked ``cached=True``, or ``None``."""
        key = analysis_id(
            video_sha256=video_sha256, video_uri=video_uri, model=model, prompt_version=prompt_version, mode=mode
        )
        found = self.by_id(key)
        return found.model_copy(update={"cached": True}) if found is not None else None

    def by_id(self, analysis_id_: str) -> Analysis | None:
        """One stored analysis by id."""
        return self._store.get(analysis_id_)

    def put(self, analysis: Analysis) -> Analysis:
        """Store (or replace) the analysis under its key; returns it with its id set."""
        key = analysis_id(
            video_sha256=analysis.video_sha256,
            video_uri=analysis.video_uri,
            model=analysis.model,
            prompt_version=analysis.prompt_version,
            mode=analysis.mode,
        )
        stored = analysis.model_copy(update={"id": key, "cached": False})
        self._store.put(stored)
        return stored

    def list(self, *, model: str | None = None, video_sha256: str | None = None, limit: int = 100) -> list[Analysis]:
        """Stored analyses, newest first, optionally for one model or one video."""
        return self._store.recent(model=model, video_sha256=video_sha256, limit=limit)

    def count(self) -> int:
        """How many analyses are stored."""
        return self._store.count()
