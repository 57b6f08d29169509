"""The ``analyses`` table: what a model said about a clip, keyed by (video, model, prompt version, mode).

The key → id rule (`analysis_id`, re-exported by ``humortune.analyzer.cache``) lives here with the table
it keys; this store upserts by id and reads back `humortune.schema.Analysis` values.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from humortune._util import short_hash
from humortune.schema import Analysis, HumorRecord, TokenUsage
from humortune.workspace.stores._base import Store, loads, parse_time, time_text

__all__ = ["STALE_RECORD", "AnalysisPair", "AnalysisStore", "analysis_id"]

STALE_RECORD = "stored record no longer validates"
"""The warning `AnalysisStore.answers` adds to an analysis whose stored record the schema now refuses."""

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


class AnalysisPair(BaseModel):
    """Two models' analyses of the same clip."""

    model_config = ConfigDict(frozen=True)

    video_sha256: str
    first_id: str
    second_id: str


class AnalysisStore(Store):
    """Read and write analyses (thread-safe: the database serialises writers)."""

    def get(self, analysis_id: str, *, lenient: bool = False) -> Analysis | None:
        """One analysis by id; ``lenient``: a stored record the schema now refuses reads as missing (flagged
        with `STALE_RECORD`) instead of raising."""
        row = self.db.query_one("SELECT * FROM analyses WHERE id = ?", (analysis_id,))
        return _analysis(row, lenient=lenient) if row is not None else None

    def put(self, analysis: Analysis) -> None:
        """Insert or replace the analysis under its id (which the caller derived from its key)."""
        if not analysis.id:
            raise ValueError("an analysis needs its id (analysis_id(...)) before it is stored")
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
        self.db.execute(
            f"INSERT INTO analyses ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
            f" ON CONFLICT(id) DO UPDATE SET {updates}",
            _values(analysis),
        )

    def recent(self, *, model: str | None = None, video_sha256: str | None = None, limit: int = 100) -> list[Analysis]:
        """Stored analyses, newest first, optionally of one model or one video."""
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
        return [_analysis(r) for r in rows]

    def count(self) -> int:
        """How many analyses are stored."""
        row = self.db.query_one("SELECT COUNT(*) FROM analyses")
        return int(row[0]) if row is not None else 0

    def answers(self, model: str, *, prompt_version: str, mode: str) -> list[Analysis]:
        """Every analysis by one model with one prompt version in one mode, oldest first (for evaluation)."""
        rows = self.db.query(
            "SELECT * FROM analyses WHERE model = ? AND prompt_version = ? AND mode = ? ORDER BY created_at, id",
            (model, prompt_version, mode),
        )
        # An old answer whose record no longer validates still counts (its narrative does); it is flagged.
        return [_analysis(r, lenient=True) for r in rows]

    def models(self) -> list[str]:
        """Every model that has analyses, sorted."""
        return [str(r[0]) for r in self.db.query("SELECT DISTINCT model FROM analyses ORDER BY model")]

    def latest_shared_models(self) -> tuple[str, str] | None:
        """The two models (sorted) that most recently both analysed one clip."""
        row = self.db.query_one(
            "SELECT a.model, b.model FROM analyses a JOIN analyses b"
            " ON b.video_sha256 = a.video_sha256 AND b.model > a.model"
            f" WHERE a.video_sha256 IS NOT NULL ORDER BY {self.db.dialect.greatest('a.created_at', 'b.created_at')}"
            " DESC LIMIT 1"
        )
        return (str(row[0]), str(row[1])) if row is not None else None

    def unjudged_pairs(
        self, first: str, second: str, *, pair_key: str, exclude: str | None = None, limit: int = 50
    ) -> list[AnalysisPair]:
        """Clips both models analysed with no pairwise owner label for ``pair_key`` yet, newest first."""
        pair_key_of = self.db.dialect.json_text("l.payload_json", "pair_key")
        rows = self.db.query(
            "SELECT a.video_sha256, a.id, b.id FROM analyses a JOIN analyses b"
            " ON b.video_sha256 = a.video_sha256 WHERE a.model = ? AND b.model = ? AND a.video_sha256 IS NOT NULL"
            " AND a.video_sha256 IS DISTINCT FROM ? AND NOT EXISTS (SELECT 1 FROM owner_labels l"
            f" WHERE l.kind = 'pairwise' AND l.video_sha256 = a.video_sha256 AND {pair_key_of} = ?)"
            " ORDER BY a.created_at DESC, a.id LIMIT ?",
            (first, second, exclude, pair_key, int(limit)),
        )
        return [AnalysisPair(video_sha256=r[0], first_id=r[1], second_id=r[2]) for r in rows]

    def pairs(self, first: str, second: str) -> list[AnalysisPair]:
        """Every clip both models analysed, by clip."""
        rows = self.db.query(
            "SELECT a.video_sha256, a.id, b.id FROM analyses a JOIN analyses b ON b.video_sha256 = a.video_sha256"
            " WHERE a.model = ? AND b.model = ? AND a.video_sha256 IS NOT NULL ORDER BY a.video_sha256, a.id",
            (first, second),
        )
        return [AnalysisPair(video_sha256=r[0], first_id=r[1], second_id=r[2]) for r in rows]


def _values(analysis: Analysis) -> tuple[Any, ...]:
    usage: dict[str, Any] = analysis.usage.model_dump()
    if analysis.record_model:
        usage["record_model"] = analysis.record_model  # no column for it; readers of usage_json ignore it
    return (
        analysis.id,
        analysis.video_sha256,
        analysis.video_uri,
        analysis.model,
        analysis.prompt_version,
        analysis.mode,
        analysis.narrative,
        analysis.record.model_dump_json() if analysis.record else None,
        json.dumps(usage),
        analysis.latency_s,
        analysis.cost_usd,
        json.dumps(analysis.warnings, ensure_ascii=False),
        time_text(analysis.created_at),
    )


def _record_of(row: Any, *, lenient: bool) -> tuple[HumorRecord | None, list[str]]:
    warnings: list[str] = loads(row["warnings_json"], [])
    if not row["record_json"]:
        return None, warnings
    try:
        return HumorRecord.model_validate_json(row["record_json"]), warnings
    except ValidationError:
        if not lenient:
            raise
        return None, [*warnings, STALE_RECORD]


def _analysis(row: Any, *, lenient: bool = False) -> Analysis:
    usage: dict[str, Any] = loads(row["usage_json"], {})
    record, warnings = _record_of(row, lenient=lenient)
    return Analysis(
        id=row["id"],
        video_sha256=row["video_sha256"],
        video_uri=row["video_uri"],
        narrative=row["narrative"],
        record=record,
        model=row["model"],
        record_model=usage.get("record_model"),
        prompt_version=row["prompt_version"],
        mode=row["mode"],
        usage=TokenUsage.model_validate(usage),
        latency_s=row["latency_s"],
        cost_usd=row["cost_usd"],
        warnings=warnings,
        created_at=parse_time(row["created_at"]),
    )
