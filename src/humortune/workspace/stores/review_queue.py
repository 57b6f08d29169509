"""The review queue's SQL: the ranking walk over analyses, corrections, evaluations and reviews, and the
connection-private TEMP table it is materialised into (``humortune.feedback.queue.ReviewQueue`` reads it).

One SQL walk over the analyses in clip order along the workspace's queue indexes (SQLite, schema v2: no sort, no
automatic index, record keys read from the indexes) into an indexed TEMP table that a review refreshes for its
clip only. Ranks are indexes into the queue's reasons (0 disagreement, 1 low score, 2 new).

The walk is written once and spelled per engine through `humortune.workspace.dialect` (JSON, code-point order,
the latest row per group); on PostgreSQL the record keys are stored generated columns and JSON scores are read
by ``humortune_json_number`` (schema v5). Both engines give the same rows in the same order. One difference for
data humortune never writes: a score stored as a JSON string counts on SQLite (as text) and not on PostgreSQL.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from humortune.workspace.dialect import SQLITE, Dialect
from humortune.workspace.stores._base import Store

__all__ = ["RECORD_KEY", "TUNED_SQL", "QueueRow", "QueueScope", "ReviewQueueStore", "tuned_sql"]

_RECORD_KEYS = ("category", "quality", "replicable")
_SCORE_PATHS = ("overall", "score", "judge.score", "mechanism.score", "record.mean", "judge.passed", "mechanism_pass")
_SEPARATOR = 31  # the unit separator, between a tag (updated_at) and its value

RECORD_KEY = SQLITE.json_values("record_json", *_RECORD_KEYS)
"""A record's ``[category, quality, replicable]`` as JSON text (``NULL`` without a valid record), SQLite's spelling.

Spelled exactly as in the workspace's ``corrections_clip`` and ``analyses_clip`` indexes (schema v2), so SQLite
reads it from those indexes instead of parsing ``record_json``. PostgreSQL stores the same text, computed by
``humortune_json_values`` (`Dialect.json_values`), in the generated column ``record_key`` (schema v5)."""


def _pending(d: Dialect) -> str:
    """All waiting analyses with their rank, in ``d``'s spelling.

    One walk over the analyses in clip order (the ``analyses_clip`` index), each joined to its clip's
    corrections (``corrections_clip``) and to their items in its model's latest evaluation, grouped per analysis
    as the walk goes: on SQLite no sort, no automatic index, and the record keys come out of the indexes.
    Per analysis:
      k      its record key; owner / niche: the clip's latest owner record key / niche (``updated_at``, then the
             value, decides, compared bytewise; the unit separator char(31) separates them);
      score  the lowest score of the clip's corrections in the latest evaluation of its model;
      spread another analysis of the clip (other model or prompt) has a different record key.
    It waits unless its latest review (``reviews_analysis``) is anything but an undo. ``k`` is MAX() of the
    analysis's own key because SQLite reads an aggregate's argument from the index but would fetch a bare
    column's record_json from the table. The rank is computed once (a reason column derived from it would repeat
    the CASE). ``{a}`` restricts the analyses to one clip or one analysis when a review refreshes the snapshot.
    """

    def key(alias: str) -> str:
        if d.name == "postgresql":  # stored when the row is written (schema v5), like SQLite's index expression
            return f"{alias}.record_key"
        return d.json_values(f"{alias}.record_json", *_RECORD_KEYS)

    sep = d.char(_SEPARATOR)

    def value(tagged: str) -> str:
        return f"substr({tagged}, {d.position(sep, tagged)} + 1)"

    latest_eval = d.latest_per_group("id, model", "evaluations", "model", "created_at")
    return f"""
WITH latest_eval AS (
    {latest_eval}
), w AS (
    SELECT a.id, a.video_sha256, a.model, a.created_at, MAX({key("a")}) AS k,
        MAX({d.bytewise(f"c.updated_at || {sep} || {key('c')}")}) AS owner,
        MAX({d.bytewise(f"c.updated_at || {sep} || c.niche")}) AS niche,
        MIN({d.json_number("i.scores_json", *_SCORE_PATHS)}) AS score
    FROM analyses a
    LEFT JOIN corrections c ON c.video_sha256 = a.video_sha256
    LEFT JOIN latest_eval e ON e.model = a.model
    LEFT JOIN evaluation_items i ON i.evaluation_id = e.id AND i.correction_id = c.id
    WHERE COALESCE((SELECT r.action FROM reviews r WHERE r.analysis_id = a.id ORDER BY r.id DESC LIMIT 1), 'undo')
        = 'undo' {{a}}
    GROUP BY a.video_sha256, a.id
)
SELECT id, video_sha256, model, created_at, k, {value("niche")} AS niche, score,
    CASE
        WHEN k IS NOT NULL AND (k != {value("owner")} OR EXISTS (
            SELECT 1 FROM analyses b WHERE b.video_sha256 = w.video_sha256 AND {key("b")} != w.k
        )) THEN 0
        WHEN score < :low THEN 1
        ELSE 2
    END AS rank
FROM w
"""


_ALL = _pending(SQLITE).format(a="")  # SQLite's full walk (tests read its plan)


def tuned_sql(d: Dialect) -> str:
    """True (1) for a tuned model's resource name (``…/models/123@1``, ``…/endpoints/9``); a base model
    (``gemini-2.5-flash``, ``publishers/google/models/…``) is anything else (``feedback.queue.is_base_model``)."""
    parts = ("/models/", "/endpoints/", "publishers/")
    models, endpoints, publishers = (d.position(f"'{part}'", "model") for part in parts)
    test = f"(({models} > 0 OR {endpoints} > 0) AND {publishers} = 0)"
    return f"(CASE WHEN {test} THEN 1 ELSE 0 END)" if d.name == "postgresql" else test


TUNED_SQL = tuned_sql(SQLITE)
"""`tuned_sql` in SQLite's spelling."""


@dataclass(frozen=True, slots=True)
class QueueScope:
    """Which waiting analyses a read covers. ``None`` means any."""

    niche: str | None = None
    model: str | None = None
    tuned_only: bool = False
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One waiting analysis as the queue table holds it (a slotted dataclass: a page reads many)."""

    id: str
    video_sha256: str | None
    model: str
    niche: str | None
    rank: int
    score: float | None
    created_at: str
    record_key: str | None
    clip: str


class ReviewQueueStore(Store):
    """The queue table of one `ReviewQueue`: built, refreshed per clip, and read in queue order.

    The table is TEMP (private to the write connection; nothing is added to the workspace) and tagged with the
    database's change counters (`signature`); `ensure` rebuilds it when they moved.
    """

    def __init__(self, db: Any, *, low_score: float) -> None:
        super().__init__(db)
        self.low_score = low_score
        self._table = f"review_queue_{secrets.token_hex(6)}"  # one table per queue: no cross-talk
        dialect: Dialect = db.dialect
        self._dialect = dialect
        pending = _pending(dialect)
        self._all, self._clip, self._one = (
            pending.format(a=a) for a in ("", "AND a.video_sha256 = :sha", "AND a.id = :id")
        )
        self._tuned = tuned_sql(dialect)
        self.built: tuple[int, int] | None = None
        """The signature the table was last made current at (``None``: rebuild before reading)."""

    def signature(self) -> tuple[int, int]:
        """What moves when the queue's data may have changed.

        SQLite: this connection's ``total_changes()`` and ``PRAGMA data_version`` (other processes' writes).
        PostgreSQL: the write connection's backend (a reconnect loses the TEMP table) and the ``queue_changes``
        counter that every statement writing a table the queue reads bumps in its own transaction (schema v5),
        so commits from other processes and machines count too.
        """
        if self._dialect.name == "postgresql":
            [counter] = self.db.session_query("SELECT pg_backend_pid(), n FROM queue_changes")
            return (int(counter[0]), int(counter[1]))
        row = self.db.query_one("SELECT total_changes()")
        version = self.db.query_one("PRAGMA data_version")
        return (int(row[0]) if row else 0, int(version[0]) if version else 0)

    def _fill(self, sql: str, params: dict[str, Any]) -> None:
        self.db.execute(
            f"INSERT INTO {self._table} SELECT id, video_sha256, model, created_at, k, niche, score, rank,"
            f" COALESCE(video_sha256, id), {self._tuned} FROM ({sql}) AS q",
            {"low": self.low_score, **params},
        )

    def ensure(self) -> None:
        """Make the table current: rebuild it if anything changed since it was built."""
        if self.built is not None and self.built == self.signature():
            return
        d = self._dialect
        with self.db.transaction() as conn:  # no other write can land between the rows and the tag
            if self.built is not None and self.built == self.signature():
                return
            # Dropped and re-created: a bulk load followed by index builds beats updating indexes row by row.
            conn.execute(f"DROP TABLE IF EXISTS {d.temp_table(self._table)}")
            text = 'TEXT COLLATE "C"' if d.name == "postgresql" else "TEXT"  # order by code point, as SQLite does
            conn.execute(
                f"CREATE TEMP TABLE {self._table} (id {text}, video_sha256 TEXT, model TEXT, created_at {text},"
                f" k TEXT, niche TEXT, score {d.real}, rank INTEGER, clip {text}, tuned INTEGER)"  # rank: REASONS
            )
            self._fill(self._all, {})
            # tuned and clip ride along so counts, clip counts and the page's clip order read the index only.
            conn.execute(f"CREATE INDEX {self._table}_order ON {self._table} (rank, created_at DESC, id, tuned, clip)")
            conn.execute(f"CREATE INDEX {self._table}_clip ON {self._table} (clip, tuned, rank)")
            self.built = self.signature()

    def refresh(self, analysis_id: str) -> None:
        """Recompute the rows of the clip ``analysis_id`` belongs to (or of that analysis alone, without a video).

        Call inside the transaction of the review that touched it.
        """
        row = self.db.query_one("SELECT video_sha256 FROM analyses WHERE id = ?", (analysis_id,))
        sha = row["video_sha256"] if row is not None else None
        if sha is not None:
            self.db.execute(f"DELETE FROM {self._table} WHERE clip = ?", (sha,))
            self._fill(self._clip, {"sha": sha})
        else:
            self.db.execute(f"DELETE FROM {self._table} WHERE id = ?", (analysis_id,))
            self._fill(self._one, {"id": analysis_id})

    # -- reading ----------------------------------------------------------------------------------

    @staticmethod
    def _where(scope: QueueScope) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("niche", scope.niche), ("model", scope.model)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if scope.tuned_only:
            clauses.append("tuned = 1")
        if scope.rank is not None:
            clauses.append("rank = ?")
            params.append(scope.rank)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def counts(self, scope: QueueScope) -> dict[int, int]:
        """Waiting analyses per rank (the scope's rank is ignored)."""
        self.ensure()
        where, params = self._where(QueueScope(scope.niche, scope.model, scope.tuned_only))
        rows = self.db.session_query(f"SELECT rank, COUNT(*) FROM {self._table}{where} GROUP BY rank", params)
        return {int(r[0]): int(r[1]) for r in rows}

    def items(self, scope: QueueScope, *, limit: int, offset: int = 0, exclude: str | None = None) -> list[QueueRow]:
        """Waiting analyses in queue order (most urgent rank first, newest first within a rank)."""
        self.ensure()
        where, params = self._where(scope)
        if exclude is not None:
            where += (" AND" if where else " WHERE") + " id != ?"
            params.append(exclude)
        rows = self.db.session_query(
            f"SELECT id, video_sha256, model, niche, rank, score, created_at, k, clip FROM {self._table}{where}"
            " ORDER BY rank, created_at DESC, id LIMIT ? OFFSET ?",
            [*params, max(0, int(limit)), max(0, int(offset))],
        )
        return [_row(r) for r in rows]

    def page_clips(self, scope: QueueScope, *, limit: int, offset: int) -> list[str]:
        """The clips of one page, in the order their most urgent output appears in the queue."""
        self.ensure()
        where, params = self._where(scope)
        sql = f"SELECT clip FROM {self._table}{where} ORDER BY rank, created_at DESC, id LIMIT ? OFFSET ?"
        wanted, seen, start, chunk = offset + limit, dict[str, None](), 0, max(64, 3 * (offset + limit))
        while len(seen) < wanted:
            rows = self.db.session_query(sql, [*params, chunk, start])
            for row in rows:
                seen.setdefault(str(row[0]), None)
            if len(rows) < chunk:
                break
            start, chunk = start + chunk, chunk * 2
        return list(seen)[offset:wanted]

    def clip_items(self, scope: QueueScope, clips: list[str]) -> list[QueueRow]:
        """The waiting outputs of these clips, in queue order."""
        if not clips:
            return []
        where, params = self._where(scope)
        marks = ",".join("?" * len(clips))
        rows = self.db.session_query(
            f"SELECT id, video_sha256, model, niche, rank, score, created_at, k, clip FROM {self._table}{where}"
            + (" AND" if where else " WHERE")
            + f" clip IN ({marks}) ORDER BY rank, created_at DESC, id",
            [*params, *clips],
        )
        return [_row(r) for r in rows]

    def clip_count(self, scope: QueueScope) -> int:
        """Clips with at least one waiting output in the scope."""
        self.ensure()
        where, params = self._where(scope)
        # Grouped along the clip index: no sort and no temporary b-tree (COUNT(DISTINCT) would build one).
        [row] = self.db.session_query(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {self._table}{where} GROUP BY clip) AS g", params
        )
        return int(row[0])

    def hidden_base(self, scope: QueueScope) -> int:
        """Waiting base-model outputs in the scope once base models are let in (what ``tuned_only`` hides)."""
        self.ensure()
        where, params = self._where(QueueScope(scope.niche, scope.model, False, scope.rank))
        [row] = self.db.session_query(
            f"SELECT COUNT(*) FROM {self._table}{where}" + (" AND" if where else " WHERE") + " tuned = 0", params
        )
        return int(row[0])


def _row(r: Any) -> QueueRow:
    return QueueRow(r[0], r[1], r[2], r[3], int(r[4]), r[5], r[6], r[7], str(r[8]))
