"""The review queue: which model outputs the owner should look at next, and why.

An analysis waits for review until a review of it is in effect (edit, accept, skip or niche tag; an undo
puts it back). Each waiting analysis gets one reason, in this order of priority:

1. ``disagreement``: its record's category, quality or replicable differs from the owner's latest
   correction of the clip, or from another model's analysis of the same clip;
2. ``low_score``: the latest evaluation of its model scored this clip below the threshold;
3. ``new``: nothing else is known; the owner has simply not seen it.

Everything is one SQL statement over indexed tables, paged with ``LIMIT``/``OFFSET``, so a page stays fast
with tens of thousands of corrections and analyses (see ``benchmarks/bench_review.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from humortune.workspace import Corpus

__all__ = ["REASONS", "QueueFilter", "QueueItem", "QueuePage", "Reason", "ReviewQueue", "short_model"]

Reason = Literal["disagreement", "low_score", "new"]
REASONS: tuple[Reason, ...] = ("disagreement", "low_score", "new")
"""Queue reasons, most urgent first."""

DEFAULT_LOW_SCORE = 0.5
"""A judge or metric score below this (on a 0–1 scale) sends the clip to the queue as ``low_score``."""

# The score of one evaluation item: the evaluator's overall score when present, else a judge pass/fail.
_SCORE = (
    "COALESCE(json_extract(i.scores_json, '$.overall'), json_extract(i.scores_json, '$.score'),"
    " json_extract(i.scores_json, '$.judge.score'), json_extract(i.scores_json, '$.mechanism.score'),"
    " json_extract(i.scores_json, '$.record.mean'), json_extract(i.scores_json, '$.judge.passed'),"
    " json_extract(i.scores_json, '$.mechanism_pass'))"
)

_DIFFERS = (
    "(json_extract({a}.record_json, '$.category') IS NOT json_extract({b}.record_json, '$.category')"
    " OR json_extract({a}.record_json, '$.quality') IS NOT json_extract({b}.record_json, '$.quality')"
    " OR json_extract({a}.record_json, '$.replicable') IS NOT json_extract({b}.record_json, '$.replicable'))"
)

_BASE = f"""
WITH last_review AS (
    SELECT analysis_id, MAX(id) AS last_id FROM reviews WHERE analysis_id IS NOT NULL GROUP BY analysis_id
), settled AS (
    SELECT l.analysis_id FROM last_review l JOIN reviews r ON r.id = l.last_id WHERE r.action != 'undo'
), owner AS (
    SELECT video_sha256, record_json, MAX(updated_at) AS at FROM corrections
    WHERE video_sha256 IS NOT NULL AND record_json IS NOT NULL GROUP BY video_sha256
), niche AS (
    SELECT video_sha256, niche, MAX(updated_at) AS at FROM corrections
    WHERE video_sha256 IS NOT NULL AND niche IS NOT NULL GROUP BY video_sha256
), latest_eval AS (
    SELECT id, model, MAX(created_at) AS at FROM evaluations GROUP BY model
), score AS (
    SELECT e.model AS model, c.video_sha256 AS video_sha256, MIN({_SCORE}) AS score
    FROM latest_eval e JOIN evaluation_items i ON i.evaluation_id = e.id
    JOIN corrections c ON c.id = i.correction_id
    WHERE c.video_sha256 IS NOT NULL GROUP BY e.model, c.video_sha256
), pending AS (
    SELECT a.id, a.video_sha256, a.model, a.created_at, a.record_json, n.niche AS niche, s.score AS score,
        CASE
            WHEN o.record_json IS NOT NULL AND a.record_json IS NOT NULL AND {_DIFFERS.format(a="a", b="o")}
                THEN 'disagreement'
            WHEN a.record_json IS NOT NULL AND a.video_sha256 IS NOT NULL AND EXISTS (
                SELECT 1 FROM analyses b WHERE b.video_sha256 = a.video_sha256 AND b.model != a.model
                AND b.record_json IS NOT NULL AND {_DIFFERS.format(a="a", b="b")})
                THEN 'disagreement'
            WHEN s.score IS NOT NULL AND s.score < :low THEN 'low_score'
            ELSE 'new'
        END AS reason
    FROM analyses a
    LEFT JOIN owner o ON o.video_sha256 = a.video_sha256
    LEFT JOIN niche n ON n.video_sha256 = a.video_sha256
    LEFT JOIN score s ON s.video_sha256 = a.video_sha256 AND s.model = a.model
    WHERE a.id NOT IN (SELECT analysis_id FROM settled)
)
"""
_RANK = "CASE reason WHEN 'disagreement' THEN 0 WHEN 'low_score' THEN 1 ELSE 2 END"


def short_model(model: str) -> str:
    """A readable model name: ``projects/p/locations/l/models/123@2`` → ``models/123@2``."""
    if "/models/" in model:
        return "models/" + model.rsplit("/models/", 1)[1]
    if "/endpoints/" in model:
        return "endpoints/" + model.rsplit("/endpoints/", 1)[1]
    return model


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which part of the queue to show. ``None`` means any."""

    niche: str | None = None
    model: str | None = None
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One model output waiting for the owner."""

    analysis_id: str
    video_sha256: str | None
    model: str
    niche: str | None
    reason: Reason
    score: float | None
    created_at: str
    category: str | None
    quality: str | None

    @property
    def model_label(self) -> str:
        """`short_model` of the model."""
        return short_model(self.model)


@dataclass(slots=True)
class QueuePage:
    """One page of the queue, with the counts and choices the filters need."""

    items: list[QueueItem]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)
    """Waiting analyses per reason (under the niche/model filters)."""
    niches: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    """model id → the aliases pointing at it (``current``, ``niche:…``)."""

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


class ReviewQueue:
    """Read the queue. Cheap to construct; holds no state besides the corpus and the threshold."""

    def __init__(self, corpus: Corpus, *, low_score: float = DEFAULT_LOW_SCORE) -> None:
        self.corpus = corpus
        self.low_score = low_score

    def _where(self, flt: QueueFilter) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {"low": self.low_score}
        if flt.niche is not None:
            clauses.append("niche = :niche")
            params["niche"] = flt.niche
        if flt.model is not None:
            clauses.append("model = :model")
            params["model"] = flt.model
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def counts(self, flt: QueueFilter = QueueFilter()) -> dict[str, int]:
        """Waiting analyses per reason, under the niche/model part of the filter."""
        where, params = self._where(flt)
        rows = self.corpus.db.query(_BASE + f"SELECT reason, COUNT(*) AS n FROM pending{where} GROUP BY reason", params)
        out: dict[str, int] = dict.fromkeys(REASONS, 0)
        out.update({str(r["reason"]): int(r["n"]) for r in rows})
        return out

    def items(
        self, flt: QueueFilter = QueueFilter(), *, limit: int = 25, offset: int = 0, exclude: str | None = None
    ) -> list[QueueItem]:
        """Waiting analyses in queue order (most urgent reason first, newest first within a reason)."""
        where, params = self._where(flt)
        extra = []
        if flt.reason is not None:
            extra.append("reason = :reason")
            params["reason"] = flt.reason
        if exclude is not None:
            extra.append("id != :exclude")
            params["exclude"] = exclude
        if extra:
            where = (where + " AND " if where else " WHERE ") + " AND ".join(extra)
        params.update(limit=int(limit), offset=int(offset))
        sql = (
            _BASE + "SELECT id, video_sha256, model, niche, reason, score, created_at,"
            " json_extract(record_json, '$.category') AS category, json_extract(record_json, '$.quality') AS quality"
            f" FROM pending{where} ORDER BY {_RANK}, created_at DESC, id LIMIT :limit OFFSET :offset"
        )
        return [
            QueueItem(
                analysis_id=r["id"],
                video_sha256=r["video_sha256"],
                model=r["model"],
                niche=r["niche"],
                reason=r["reason"],
                score=float(r["score"]) if r["score"] is not None else None,
                created_at=r["created_at"],
                category=r["category"],
                quality=r["quality"],
            )
            for r in self.corpus.db.query(sql, params)
        ]

    def next(self, flt: QueueFilter = QueueFilter(), *, exclude: str | None = None) -> str | None:
        """The analysis id at the head of the queue (optionally not ``exclude``), or ``None`` when empty."""
        head = self.items(flt, limit=1, exclude=exclude)
        return head[0].analysis_id if head else None

    def page(self, flt: QueueFilter = QueueFilter(), *, page: int = 1, per_page: int = 25) -> QueuePage:
        """One page of the queue with counts, filter choices and aliases."""
        page = max(1, int(page))
        per_page = max(1, min(int(per_page), 200))
        counts = self.counts(flt)
        total = counts[flt.reason] if flt.reason is not None else sum(counts.values())
        db = self.corpus.db
        return QueuePage(
            items=self.items(flt, limit=per_page, offset=(page - 1) * per_page),
            total=total,
            page=page,
            per_page=per_page,
            counts=counts,
            niches=[
                str(r[0])
                for r in db.query("SELECT DISTINCT niche FROM corrections WHERE niche IS NOT NULL ORDER BY niche")
            ],
            models=[str(r[0]) for r in db.query("SELECT DISTINCT model FROM analyses ORDER BY model")],
            aliases=self.aliases(),
        )

    def aliases(self) -> dict[str, list[str]]:
        """model id → alias names."""
        out: dict[str, list[str]] = {}
        for row in self.corpus.db.query("SELECT name, model_id FROM aliases ORDER BY name"):
            out.setdefault(str(row["model_id"]), []).append(str(row["name"]))
        return out
