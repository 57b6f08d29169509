"""The review queue: which model outputs the owner should look at next, and why.

An analysis waits for review until a review of it is in effect (edit, accept, skip or niche tag; an undo
puts it back). Each waiting analysis gets one reason, in this order of priority:

1. ``disagreement``: its record's category, quality or replicable differs from the owner's latest
   correction of the clip, or the analyses of the clip (by different models or prompts) disagree on them;
2. ``low_score``: the latest evaluation of its model scored this clip below the threshold;
3. ``new``: nothing else is known; the owner has simply not seen it.

The reasons come from one SQL pass over the tables (one grouping per table, no per-row subqueries) into an
indexed TEMP table that a review refreshes for its clip only, so pages and saves stay fast with tens of
thousands of corrections and analyses (see ``benchmarks/bench_review.py``).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from humortune.workspace import Corpus

__all__ = ["REASONS", "QueueFilter", "QueueItem", "QueuePage", "Reason", "ReviewQueue", "short_model"]

Reason = Literal["disagreement", "low_score", "new"]
REASONS: tuple[Reason, ...] = ("disagreement", "low_score", "new")
"""Queue reasons, most urgent first."""

T = TypeVar("T")

DEFAULT_LOW_SCORE = 0.5
"""A judge or metric score below this (on a 0–1 scale) sends the clip to the queue as ``low_score``."""

# The score of one evaluation item: the evaluator's overall score when present, else a judge pass/fail.
_SCORE = (
    "COALESCE(json_extract(i.scores_json, '$.overall'), json_extract(i.scores_json, '$.score'),"
    " json_extract(i.scores_json, '$.judge.score'), json_extract(i.scores_json, '$.mechanism.score'),"
    " json_extract(i.scores_json, '$.record.mean'), json_extract(i.scores_json, '$.judge.passed'),"
    " json_extract(i.scores_json, '$.mechanism_pass'))"
)

# All waiting analyses with their reason, in one pass per table. The record's enum fields are compared as one
# JSON array ``k`` = [category, quality, replicable] (one JSON parse per row). ``{a}``, ``{c}`` and ``{r}``
# restrict the analyses, corrections and reviews read to one clip when a review refreshes the snapshot.
_PENDING = f"""
WITH last_review AS (
    SELECT analysis_id, action, MAX(id) AS last_id FROM reviews WHERE analysis_id IS NOT NULL {{r}}
    GROUP BY analysis_id
), ax AS MATERIALIZED (
    SELECT id, video_sha256, model, created_at,
        json_extract(record_json, '$.category', '$.quality', '$.replicable') AS k
    FROM analyses WHERE 1 {{a}}
), spread AS MATERIALIZED (
    SELECT video_sha256 FROM ax WHERE k IS NOT NULL AND video_sha256 IS NOT NULL
    GROUP BY video_sha256 HAVING MIN(k) != MAX(k)
), clip AS MATERIALIZED (
    SELECT video_sha256,
        MAX(CASE WHEN record_json IS NOT NULL THEN updated_at || char(31)
            || json_extract(record_json, '$.category', '$.quality', '$.replicable') END) AS owner,
        MAX(CASE WHEN niche IS NOT NULL THEN updated_at || char(31) || niche END) AS niche
    FROM corrections WHERE video_sha256 IS NOT NULL {{c}} GROUP BY video_sha256
), latest_eval AS (
    SELECT id, model, MAX(created_at) AS at FROM evaluations GROUP BY model
), score AS MATERIALIZED (
    SELECT e.model AS model, c.video_sha256 AS video_sha256, MIN({_SCORE}) AS score
    FROM latest_eval e JOIN evaluation_items i ON i.evaluation_id = e.id
    JOIN corrections c ON c.id = i.correction_id
    WHERE c.video_sha256 IS NOT NULL {{c}} GROUP BY e.model, c.video_sha256
)
SELECT w.id, w.video_sha256, w.model, w.created_at, w.k,
    substr(c.niche, instr(c.niche, char(31)) + 1) AS niche, s.score,
    CASE
        WHEN w.k IS NOT NULL AND c.owner IS NOT NULL AND w.k != substr(c.owner, instr(c.owner, char(31)) + 1)
            THEN 'disagreement'
        WHEN w.k IS NOT NULL AND w.video_sha256 IN (SELECT video_sha256 FROM spread) THEN 'disagreement'
        WHEN s.score < :low THEN 'low_score'
        ELSE 'new'
    END AS reason
FROM ax w
LEFT JOIN last_review l ON l.analysis_id = w.id
LEFT JOIN clip c ON c.video_sha256 = w.video_sha256
LEFT JOIN score s ON s.video_sha256 = w.video_sha256 AND s.model = w.model
WHERE l.analysis_id IS NULL OR l.action = 'undo'
"""
_ALL = _PENDING.format(a="", c="", r="")
_CLIP = _PENDING.format(
    a="AND video_sha256 = :sha",
    c="AND video_sha256 = :sha",
    r="AND analysis_id IN (SELECT id FROM analyses WHERE video_sha256 = :sha)",
)
_ONE = _PENDING.format(a="AND id = :id", c="AND 0", r="AND analysis_id = :id")


def short_model(model: str) -> str:
    """A readable model name: ``projects/p/locations/l/models/123@2`` → ``models/123@2``."""
    if "/models/" in model:
        return "models/" + model.rsplit("/models/", 1)[1]
    if "/endpoints/" in model:
        return "endpoints/" + model.rsplit("/endpoints/", 1)[1]
    return model


def _key_part(key: str | None, index: int) -> str | None:
    if key is None:
        return None
    value = json.loads(key)[index]
    return str(value) if value is not None else None


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
    record_key: str | None = None
    """``[category, quality, replicable]`` of the model's record as JSON text, or ``None`` without a record."""

    @property
    def category(self) -> str | None:
        """The model's category, if it gave a record."""
        return _key_part(self.record_key, 0)

    @property
    def quality(self) -> str | None:
        """The model's quality, if it gave a record."""
        return _key_part(self.record_key, 1)

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
    """Read the queue.

    The waiting analyses and their reasons are computed in one SQL pass into a connection-private TEMP table
    (nothing is added to the workspace file), tagged with the database's change counters (``total_changes()``
    of this connection, ``PRAGMA data_version`` for other processes). Pages are indexed reads of that table
    while nothing changed; any write anywhere triggers a rebuild, except reviews made through `apply`, which
    refresh only the reviewed clip's rows, and writes made through `unaffected`.
    """

    def __init__(self, corpus: Corpus, *, low_score: float = DEFAULT_LOW_SCORE) -> None:
        self.corpus = corpus
        self.low_score = low_score
        self._table = f"review_queue_{secrets.token_hex(6)}"  # one table per queue: no cross-talk
        self._built: tuple[int, int] | None = None
        """The signature the table was last made current at (``None``: rebuild before reading)."""

    # -- the table --------------------------------------------------------------------------------

    def _signature(self) -> tuple[int, int]:
        row = self.corpus.db.query_one("SELECT total_changes()")
        version = self.corpus.db.query_one("PRAGMA data_version")
        return (int(row[0]) if row else 0, int(version[0]) if version else 0)

    def _fill(self, conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> None:
        conn.execute(
            f"INSERT INTO {self._table} SELECT id, video_sha256, model, created_at, k, niche, score, reason,"
            f" CASE reason WHEN 'disagreement' THEN 0 WHEN 'low_score' THEN 1 ELSE 2 END FROM ({sql})",
            {"low": self.low_score, **params},
        )

    def _ensure(self) -> None:
        """Make the table current: rebuild it if anything changed since it was built."""
        if self._built is not None and self._built == self._signature():
            return
        with self.corpus.db.transaction() as conn:  # no other write can land between the rows and the tag
            if self._built is not None and self._built == self._signature():
                return
            # Dropped and re-created: a bulk load followed by index builds beats updating indexes row by row.
            conn.execute(f"DROP TABLE IF EXISTS temp.{self._table}")
            conn.execute(
                f"CREATE TEMP TABLE {self._table} (id TEXT, video_sha256 TEXT, model TEXT, created_at TEXT, k TEXT,"
                " niche TEXT, score REAL, reason TEXT, rank INTEGER)"
            )
            self._fill(conn, _ALL, {})
            conn.execute(f"CREATE INDEX {self._table}_order ON {self._table} (rank, created_at DESC, id)")
            conn.execute(f"CREATE INDEX {self._table}_clip ON {self._table} (video_sha256)")
            self._built = self._signature()

    def apply(self, action: Callable[[], T], affected: Callable[[T], str | None]) -> T:
        """Run a review ``action`` and refresh only the clip it touched (``affected(result)`` → analysis id).

        The action runs in one transaction with the refresh, so no other write can slip between them; if
        the table was already stale, it is simply rebuilt on the next read.
        """
        with self.corpus.db.transaction() as conn:
            before = self._signature()
            result = action()
            analysis_id = affected(result)
            if self._built is None or self._built != before:
                self._built = None
                return result
            if analysis_id is None:  # nothing reviewed; keep the table only if nothing was written either
                if self._signature() != before:
                    self._built = None
                return result
            row = conn.execute("SELECT video_sha256 FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
            sha = row["video_sha256"] if row is not None else None
            if sha is not None:
                conn.execute(f"DELETE FROM {self._table} WHERE video_sha256 = ?", (sha,))
                self._fill(conn, _CLIP, {"sha": sha})
            else:
                conn.execute(f"DELETE FROM {self._table} WHERE id = ?", (analysis_id,))
                self._fill(conn, _ONE, {"id": analysis_id})
            self._built = self._signature()
        return result

    def unaffected(self, action: Callable[[], T]) -> T:
        """Run a write that cannot change the queue (a blind A/B choice, a promotion) and keep the table."""
        with self.corpus.db.transaction():
            before = self._signature()
            result = action()
            if self._built is not None and self._built == before:
                self._built = self._signature()
        return result

    # -- reading ----------------------------------------------------------------------------------

    def _where(self, flt: QueueFilter, *, with_reason: bool = True) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("niche", flt.niche), ("model", flt.model)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if with_reason and flt.reason is not None:
            clauses.append("reason = ?")
            params.append(flt.reason)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def counts(self, flt: QueueFilter = QueueFilter()) -> dict[str, int]:
        """Waiting analyses per reason, under the niche/model part of the filter."""
        self._ensure()
        where, params = self._where(flt, with_reason=False)
        out: dict[str, int] = dict.fromkeys(REASONS, 0)
        for row in self.corpus.db.query(f"SELECT reason, COUNT(*) FROM {self._table}{where} GROUP BY reason", params):
            out[str(row[0])] = int(row[1])
        return out

    def items(
        self, flt: QueueFilter = QueueFilter(), *, limit: int = 25, offset: int = 0, exclude: str | None = None
    ) -> list[QueueItem]:
        """Waiting analyses in queue order (most urgent reason first, newest first within a reason)."""
        self._ensure()
        where, params = self._where(flt)
        if exclude is not None:
            where += (" AND" if where else " WHERE") + " id != ?"
            params.append(exclude)
        rows = self.corpus.db.query(
            f"SELECT id, video_sha256, model, niche, reason, score, created_at, k FROM {self._table}{where}"
            " ORDER BY rank, created_at DESC, id LIMIT ? OFFSET ?",
            [*params, max(0, int(limit)), max(0, int(offset))],
        )
        return [QueueItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    def snapshot(self) -> list[QueueItem]:
        """Every waiting analysis, in queue order."""
        return self.items(limit=1 << 62)

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
