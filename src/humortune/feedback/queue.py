"""The review queue: which model outputs the owner should look at next, and why.

An analysis waits for review until a review of it is in effect (edit, accept, skip or niche tag; an undo
puts it back). Each waiting analysis gets one reason, in this order of priority:

1. ``disagreement``: its record's category, quality or replicable differs from the owner's latest
   correction of the clip, or the analyses of the clip (by different models or prompts) disagree on them;
2. ``low_score``: the latest evaluation of its model scored this clip below the threshold;
3. ``new``: nothing else is known; the owner has simply not seen it.

The reasons come from one SQL walk over the analyses in clip order along the workspace's queue indexes (schema
v2: no sort, no automatic index, record keys read from the indexes) into an indexed TEMP table that a review
refreshes for its clip only, so pages and saves stay fast with tens of thousands of corrections and analyses
(see ``benchmarks/bench_review.py``).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from humortune.workspace import Corpus

__all__ = [
    "REASONS",
    "ClipRow",
    "QueueFilter",
    "QueueItem",
    "QueuePage",
    "Reason",
    "ReviewQueue",
    "is_base_model",
    "short_model",
]

Reason = Literal["disagreement", "low_score", "new"]
REASONS: tuple[Reason, ...] = ("disagreement", "low_score", "new")
"""Queue reasons, most urgent first."""

T = TypeVar("T")

DEFAULT_LOW_SCORE = 0.5
"""A judge or metric score below this (on a 0–1 scale) sends the clip to the queue as ``low_score``."""

RECORD_KEY = (
    "CASE WHEN json_valid(record_json) THEN json_extract(record_json, '$.category', '$.quality', '$.replicable') END"
)
"""A record's ``[category, quality, replicable]`` as JSON text (``NULL`` without a valid record).

Spelled exactly as in the workspace's ``corrections_clip`` and ``analyses_clip`` indexes (schema v2), so SQLite
reads it from those indexes instead of parsing ``record_json``."""


def _key(alias: str) -> str:
    return RECORD_KEY.replace("record_json", f"{alias}.record_json")


# The score of one evaluation item: the evaluator's overall score when present, else a judge pass/fail.
_SCORE = (
    "COALESCE(json_extract(i.scores_json, '$.overall'), json_extract(i.scores_json, '$.score'),"
    " json_extract(i.scores_json, '$.judge.score'), json_extract(i.scores_json, '$.mechanism.score'),"
    " json_extract(i.scores_json, '$.record.mean'), json_extract(i.scores_json, '$.judge.passed'),"
    " json_extract(i.scores_json, '$.mechanism_pass'))"
)

# All waiting analyses with their rank (index into REASONS). One walk over the analyses in clip order (the
# ``analyses_clip`` index), each joined to its clip's corrections (``corrections_clip``) and to their items in
# its model's latest evaluation, grouped per analysis as the walk goes: no sort, no automatic index, and the
# record keys come out of the indexes. Per analysis:
#   k      its record key; owner / niche: the clip's latest owner record key / niche (``updated_at``, then the
#          value, decides; ``char(31)`` separates them);
#   score  the lowest score of the clip's corrections in the latest evaluation of its model;
#   spread another analysis of the clip (other model or prompt) has a different record key.
# It waits unless its latest review (``reviews_analysis``) is anything but an undo. ``k`` is MAX() of the
# analysis's own key because SQLite reads an aggregate's argument from the index but would fetch a bare column's
# record_json from the table. The rank is computed once (a reason column derived from it would repeat the CASE).
# ``{a}`` restricts the analyses to one clip or one analysis when a review refreshes the snapshot.
_PENDING = f"""
WITH latest_eval AS (
    SELECT id, model, MAX(created_at) AS at FROM evaluations GROUP BY model
), w AS (
    SELECT a.id, a.video_sha256, a.model, a.created_at, MAX({_key("a")}) AS k,
        MAX(c.updated_at || char(31) || {_key("c")}) AS owner,
        MAX(c.updated_at || char(31) || c.niche) AS niche,
        MIN({_SCORE}) AS score
    FROM analyses a
    LEFT JOIN corrections c ON c.video_sha256 = a.video_sha256
    LEFT JOIN latest_eval e ON e.model = a.model
    LEFT JOIN evaluation_items i ON i.evaluation_id = e.id AND i.correction_id = c.id
    WHERE COALESCE((SELECT r.action FROM reviews r WHERE r.analysis_id = a.id ORDER BY r.id DESC LIMIT 1), 'undo')
        = 'undo' {{a}}
    GROUP BY a.video_sha256, a.id
)
SELECT id, video_sha256, model, created_at, k, substr(niche, instr(niche, char(31)) + 1) AS niche, score,
    CASE
        WHEN k IS NOT NULL AND (k != substr(owner, instr(owner, char(31)) + 1) OR EXISTS (
            SELECT 1 FROM analyses b WHERE b.video_sha256 = w.video_sha256 AND {_key("b")} != w.k
        )) THEN 0
        WHEN score < :low THEN 1
        ELSE 2
    END AS rank
FROM w
"""
_ALL = _PENDING.format(a="")
_CLIP = _PENDING.format(a="AND a.video_sha256 = :sha")
_ONE = _PENDING.format(a="AND a.id = :id")


TUNED_SQL = "((instr(model, '/models/') > 0 OR instr(model, '/endpoints/') > 0) AND instr(model, 'publishers/') = 0)"
"""True for a tuned model's resource name (``…/models/123@1``, ``…/endpoints/9``); a base model
(``gemini-2.5-flash``, ``publishers/google/models/…``) is anything else. Spelled as `is_base_model`."""


def is_base_model(model: str) -> bool:
    """Whether ``model`` names a base (untuned) model rather than one of the owner's tuned models."""
    tuned = ("/models/" in model or "/endpoints/" in model) and "publishers/" not in model
    return not tuned


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
    base: bool = True
    """Include base-model outputs (e.g. from ``humortune eval``). The review page leaves them out unless the
    owner asks; naming a base model in ``model`` always shows it."""


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


@dataclass(frozen=True, slots=True)
class ClipRow:
    """One clip in the queue page, with every waiting model output for it (most urgent first)."""

    clip: str
    """The clip's video hash (or the analysis id of an output without a stored video)."""
    items: list[QueueItem]
    source: str | None = None
    """Where the clip came from: the owner's latest correction's link (TikTok URL, file) or the video's id."""
    correction_id: str | None = None
    """The latest correction of the clip (a battery id like ``q017`` for imported items)."""

    @property
    def head(self) -> QueueItem:
        """The most urgent output: it decides the row's reason and is what opening the row opens."""
        return self.items[0]

    @property
    def video_sha256(self) -> str | None:
        """The clip's video hash, when it has a stored video."""
        return self.head.video_sha256

    @property
    def niche(self) -> str | None:
        """The clip's niche (from the owner's latest correction)."""
        return self.head.niche


@dataclass(slots=True)
class QueuePage:
    """One page of the queue, with the counts and choices the filters need."""

    items: list[QueueItem]
    total: int
    page: int
    per_page: int
    rows: list[ClipRow] = field(default_factory=list)
    """The page's clips, one row each, with their waiting outputs inside (``items`` flattened)."""
    clips: int = 0
    """Clips with at least one waiting output under the filters (what ``pages`` counts)."""
    hidden_base: int = 0
    """Waiting base-model outputs left out because the filter excludes them."""
    counts: dict[str, int] = field(default_factory=dict)
    """Waiting analyses per reason (under the niche/model filters)."""
    niches: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    """model id → the aliases pointing at it (``current``, ``niche:…``)."""

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-(self.clips or self.total) // self.per_page))


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
            f"INSERT INTO {self._table} SELECT id, video_sha256, model, created_at, k, niche, score, rank,"
            f" COALESCE(video_sha256, id), {TUNED_SQL} FROM ({sql})",
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
                " niche TEXT, score REAL, rank INTEGER, clip TEXT, tuned INTEGER)"  # rank: index into REASONS
            )
            self._fill(conn, _ALL, {})
            # tuned and clip ride along so counts, clip counts and the page's clip order read the index only.
            conn.execute(f"CREATE INDEX {self._table}_order ON {self._table} (rank, created_at DESC, id, tuned, clip)")
            conn.execute(f"CREATE INDEX {self._table}_clip ON {self._table} (clip, tuned, rank)")
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
                conn.execute(f"DELETE FROM {self._table} WHERE clip = ?", (sha,))
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
        if not flt.base and flt.model is None:
            clauses.append("tuned = 1")
        if with_reason and flt.reason is not None:
            clauses.append("rank = ?")
            params.append(REASONS.index(flt.reason) if flt.reason in REASONS else -1)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def counts(self, flt: QueueFilter = QueueFilter()) -> dict[str, int]:
        """Waiting analyses per reason, under the niche/model part of the filter."""
        self._ensure()
        where, params = self._where(flt, with_reason=False)
        out: dict[str, int] = dict.fromkeys(REASONS, 0)
        for row in self.corpus.db.query(f"SELECT rank, COUNT(*) FROM {self._table}{where} GROUP BY rank", params):
            out[REASONS[int(row[0])]] = int(row[1])
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
            f"SELECT id, video_sha256, model, niche, rank, score, created_at, k FROM {self._table}{where}"
            " ORDER BY rank, created_at DESC, id LIMIT ? OFFSET ?",
            [*params, max(0, int(limit)), max(0, int(offset))],
        )
        return [QueueItem(r[0], r[1], r[2], r[3], REASONS[int(r[4])], r[5], r[6], r[7]) for r in rows]

    def clip_rows(self, flt: QueueFilter = QueueFilter(), *, limit: int = 25, offset: int = 0) -> list[ClipRow]:
        """Waiting clips in queue order, one row per clip with its waiting outputs inside.

        A clip ranks by its most urgent output (reason, then newest): it is where the clip first appears in
        the order `items` and `next` use, so the clips are read off that index until the page is full.
        """
        heads = self._page_clips(flt, max(0, int(limit)), max(0, int(offset)))
        if not heads:
            return []
        where, params = self._where(flt)
        marks = ",".join("?" * len(heads))
        rows = self.corpus.db.query(
            f"SELECT id, video_sha256, model, niche, rank, score, created_at, k, clip FROM {self._table}{where}"
            + (" AND" if where else " WHERE")
            + f" clip IN ({marks}) ORDER BY rank, created_at DESC, id",
            [*params, *heads],
        )
        grouped: dict[str, list[QueueItem]] = {clip: [] for clip in heads}
        for r in rows:
            grouped[str(r[8])].append(QueueItem(r[0], r[1], r[2], r[3], REASONS[int(r[4])], r[5], r[6], r[7]))
        sources = self._sources([c for c in heads if grouped[c][0].video_sha256 is not None])
        return [ClipRow(clip, grouped[clip], *sources.get(clip, (None, None))) for clip in heads]

    def _page_clips(self, flt: QueueFilter, limit: int, offset: int) -> list[str]:
        self._ensure()
        where, params = self._where(flt)
        sql = f"SELECT clip FROM {self._table}{where} ORDER BY rank, created_at DESC, id LIMIT ? OFFSET ?"
        wanted, seen, start, chunk = offset + limit, dict[str, None](), 0, max(64, 3 * (offset + limit))
        while len(seen) < wanted:
            rows = self.corpus.db.query(sql, [*params, chunk, start])
            for row in rows:
                seen.setdefault(str(row[0]), None)
            if len(rows) < chunk:
                break
            start, chunk = start + chunk, chunk * 2
        return list(seen)[offset:wanted]

    def _sources(self, shas: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """video hash → (source link, latest correction id), from the clips' corrections and videos."""
        if not shas:
            return {}
        marks = ",".join("?" * len(shas))
        out: dict[str, tuple[str | None, str | None]] = {}
        for row in self.corpus.db.query(f"SELECT sha256, source_id FROM videos WHERE sha256 IN ({marks})", shas):
            out[str(row[0])] = (str(row[1]), None)
        for row in self.corpus.db.query(
            f"SELECT video_sha256, id, video_url FROM corrections WHERE video_sha256 IN ({marks})"
            " ORDER BY updated_at, id",
            shas,
        ):
            out[str(row[0])] = (str(row[2]), str(row[1]))  # the latest correction wins
        return out

    def clip_stats(self, flt: QueueFilter = QueueFilter()) -> tuple[int, int]:
        """(clips with a waiting output under ``flt``, waiting base-model outputs ``flt`` leaves out)."""
        self._ensure()
        db = self.corpus.db
        where, params = self._where(flt)
        # Grouped along the clip index: no sort and no temporary b-tree (COUNT(DISTINCT) would build one).
        row = db.query_one(f"SELECT COUNT(*) FROM (SELECT 1 FROM {self._table}{where} GROUP BY clip)", params)
        clips = int(row[0]) if row else 0
        if flt.base or flt.model is not None:
            return clips, 0
        where, params = self._where(replace(flt, base=True))
        row = db.query_one(
            f"SELECT COUNT(*) FROM {self._table}{where}" + (" AND" if where else " WHERE") + " tuned = 0", params
        )
        return clips, int(row[0]) if row else 0

    def clip_count(self, flt: QueueFilter = QueueFilter()) -> int:
        """Clips with at least one waiting output under the filter."""
        return self.clip_stats(flt)[0]

    def hidden_base(self, flt: QueueFilter) -> int:
        """Waiting base-model outputs that ``flt`` leaves out (0 when it includes them)."""
        return self.clip_stats(flt)[1]

    def snapshot(self) -> list[QueueItem]:
        """Every waiting analysis, in queue order."""
        return self.items(limit=1 << 62)

    def next(self, flt: QueueFilter = QueueFilter(), *, exclude: str | None = None) -> str | None:
        """The analysis id at the head of the queue (optionally not ``exclude``), or ``None`` when empty."""
        head = self.items(flt, limit=1, exclude=exclude)
        return head[0].analysis_id if head else None

    def page(self, flt: QueueFilter = QueueFilter(), *, page: int = 1, per_page: int = 25) -> QueuePage:
        """One page of the queue (``per_page`` clips, one row each) with counts, filter choices and aliases."""
        page = max(1, int(page))
        per_page = max(1, min(int(per_page), 200))
        counts = self.counts(flt)
        total = counts[flt.reason] if flt.reason is not None else sum(counts.values())
        db = self.corpus.db
        rows = self.clip_rows(flt, limit=per_page, offset=(page - 1) * per_page)
        clips, hidden_base = self.clip_stats(flt)
        return QueuePage(
            items=[item for row in rows for item in row.items],
            total=total,
            page=page,
            per_page=per_page,
            rows=rows,
            clips=clips,
            hidden_base=hidden_base,
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
