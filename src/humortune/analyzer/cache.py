"""The analysis cache: the corpus's ``analyses`` table, keyed by (video, model, prompt version, mode).

A rerun over the same clips costs nothing: `AnalysisCache.get` returns the stored analysis, and
`AnalysisCache.put` upserts. The key's video part is the content sha256 when known, else the video URI. An
analysis's id is derived from its key (``an-`` + 16 hex digits), so a refreshed analysis keeps its id and
anything that points at it (reviews, corrections) stays valid; the row then holds the newest answer.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from humortune._util import short_hash
from humortune.schema import Analysis, HumorRecord, TokenUsage
from humortune.workspace.db import Database

__all__ = ["AnalysisCache", "analysis_id"]

_COLUMNS = (
    "id",
    "video_sha256",
    "video_uri",
    "model",
    "prompt_version",
    "mode",
    "narrative",
    "record_json",
    "usage_json",
    "latency_s",
    "cost_usd",
    "warnings_json",
    "created_at",
)


def analysis_id(*, video_sha256: str | None, video_uri: str, model: str, prompt_version: str, mode: str) -> str:
    """The stable id of the analysis of one video by one model with one prompt version in one mode."""
    video = f"sha256:{video_sha256}" if video_sha256 else f"uri:{video_uri}"
    return "an-" + short_hash([video, model, prompt_version, mode], 16)


class AnalysisCache:
    """Read and write analyses in the corpus database (thread-safe: the database serialises writers)."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        row = self.db.query_one("SELECT * FROM analyses WHERE id = ?", (analysis_id_,))
        return _row_to_analysis(row) if row is not None else None

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
        usage: dict[str, Any] = stored.usage.model_dump()
        if stored.record_model:
            usage["record_model"] = stored.record_model  # no column for it; readers of usage_json ignore it
        values = (
            key,
            stored.video_sha256,
            stored.video_uri,
            stored.model,
            stored.prompt_version,
            stored.mode,
            stored.narrative,
            stored.record.model_dump_json() if stored.record else None,
            json.dumps(usage),
            stored.latency_s,
            stored.cost_usd,
            json.dumps(stored.warnings, ensure_ascii=False),
            stored.created_at.isoformat(timespec="microseconds"),
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
        self.db.execute(
            f"INSERT INTO analyses ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
            f" ON CONFLICT(id) DO UPDATE SET {updates}",
            values,
        )
        return stored

    def list(self, *, model: str | None = None, video_sha256: str | None = None, limit: int = 100) -> list[Analysis]:
        """Stored analyses, newest first, optionally for one model or one video."""
        clauses, params = [], []
        if model is not None:
            clauses.append("model = ?")
            params.append(model)
        if video_sha256 is not None:
            clauses.append("video_sha256 = ?")
            params.append(video_sha256)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.query(
            f"SELECT * FROM analyses{where} ORDER BY created_at DESC, id LIMIT ?", (*params, int(limit))
        )
        return [_row_to_analysis(r) for r in rows]

    def count(self) -> int:
        """How many analyses are stored."""
        row = self.db.query_one("SELECT COUNT(*) FROM analyses")
        return int(row[0]) if row is not None else 0


def _row_to_analysis(row: sqlite3.Row) -> Analysis:
    usage: dict[str, Any] = json.loads(row["usage_json"] or "{}")
    return Analysis(
        id=row["id"],
        video_sha256=row["video_sha256"],
        video_uri=row["video_uri"],
        narrative=row["narrative"],
        record=HumorRecord.model_validate_json(row["record_json"]) if row["record_json"] else None,
        model=row["model"],
        record_model=usage.get("record_model"),
        prompt_version=row["prompt_version"],
        mode=row["mode"],
        usage=TokenUsage.model_validate(usage),
        latency_s=row["latency_s"],
        cost_usd=row["cost_usd"],
        warnings=json.loads(row["warnings_json"] or "[]"),
        created_at=datetime.fromisoformat(row["created_at"]),
    )
