"""The review queue: which model outputs the owner should look at next, and why.

An analysis waits for review until a review of it is in effect (edit, accept, skip or niche tag; an undo
puts it back). Each waiting analysis gets one reason, in this order of priority:

1. ``disagreement``: its record's category, quality or replicable differs from the owner's latest
   correction of the clip, or the analyses of the clip (by different models or prompts) disagree on them;
2. ``low_score``: the latest evaluation of its model scored this clip below the threshold;
3. ``new``: nothing else is known; the owner has simply not seen it.

The reasons come from one SQL walk over the analyses in clip order along the workspace's queue indexes (schema
v2 on SQLite: no sort, no automatic index, record keys read from the indexes; on PostgreSQL the record keys are
stored columns, schema v5) into an indexed TEMP table that a review
refreshes for its clip only, so pages and saves stay fast with tens of thousands of corrections and analyses
(see ``benchmarks/bench_review.py``). That SQL lives in `humortune.workspace.stores.review_queue`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from humortune.workspace import Corpus, Stores
from humortune.workspace.stores.review_queue import _ALL as _ALL  # the full ranking walk (tests read its plan)
from humortune.workspace.stores.review_queue import RECORD_KEY, TUNED_SQL, QueueRow, QueueScope, ReviewQueueStore

__all__ = [
    "REASONS",
    "RECORD_KEY",
    "TUNED_SQL",
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
    (nothing is added to the workspace), tagged with the database's change counters (SQLite: ``total_changes()``
    of this connection, ``PRAGMA data_version`` for other processes; PostgreSQL: the ``queue_changes`` counter
    that writes to the queue's tables bump, `ReviewQueueStore.signature`). Pages are indexed reads of that table
    while nothing changed; any write anywhere triggers a rebuild, except reviews made through `apply`, which
    refresh only the reviewed clip's rows, and writes made through `unaffected`.
    """

    def __init__(self, corpus: Corpus, *, low_score: float = DEFAULT_LOW_SCORE) -> None:
        self.corpus = corpus
        self.low_score = low_score
        self.table = ReviewQueueStore(corpus.db, low_score=low_score)
        self._stores = Stores.of(corpus.db)

    # -- the table --------------------------------------------------------------------------------

    @property
    def _built(self) -> tuple[int, int] | None:
        """The signature the table was last made current at (``None``: rebuilt before the next read)."""
        return self.table.built

    def _ensure(self) -> None:
        """Make the table current: rebuild it if anything changed since it was built."""
        self.table.ensure()

    def apply(self, action: Callable[[], T], affected: Callable[[T], str | None]) -> T:
        """Run a review ``action`` and refresh only the clip it touched (``affected(result)`` → analysis id).

        The action runs in one transaction with the refresh, so no other write can slip between them; if
        the table was already stale, it is simply rebuilt on the next read.
        """
        table = self.table
        with self.corpus.db.transaction():
            before = table.signature()
            result = action()
            analysis_id = affected(result)
            if table.built is None or table.built != before:
                table.built = None
                return result
            if analysis_id is None:  # nothing reviewed; keep the table only if nothing was written either
                if table.signature() != before:
                    table.built = None
                return result
            table.refresh(analysis_id)
            table.built = table.signature()
        return result

    def unaffected(self, action: Callable[[], T]) -> T:
        """Run a write that cannot change the queue (a blind A/B choice, a promotion) and keep the table."""
        table = self.table
        with self.corpus.db.transaction():
            before = table.signature()
            result = action()
            if table.built is not None and table.built == before:
                table.built = table.signature()
        return result

    # -- reading ----------------------------------------------------------------------------------

    @staticmethod
    def _scope(flt: QueueFilter, *, with_reason: bool = True) -> QueueScope:
        rank = None
        if with_reason and flt.reason is not None:
            rank = REASONS.index(flt.reason) if flt.reason in REASONS else -1
        return QueueScope(flt.niche, flt.model, not flt.base and flt.model is None, rank)

    def counts(self, flt: QueueFilter = QueueFilter()) -> dict[str, int]:
        """Waiting analyses per reason, under the niche/model part of the filter."""
        out: dict[str, int] = dict.fromkeys(REASONS, 0)
        for rank, n in self.table.counts(self._scope(flt, with_reason=False)).items():
            out[REASONS[rank]] = n
        return out

    def items(
        self, flt: QueueFilter = QueueFilter(), *, limit: int = 25, offset: int = 0, exclude: str | None = None
    ) -> list[QueueItem]:
        """Waiting analyses in queue order (most urgent reason first, newest first within a reason)."""
        rows = self.table.items(self._scope(flt), limit=limit, offset=offset, exclude=exclude)
        return [_item(r) for r in rows]

    def clip_rows(self, flt: QueueFilter = QueueFilter(), *, limit: int = 25, offset: int = 0) -> list[ClipRow]:
        """Waiting clips in queue order, one row per clip with its waiting outputs inside.

        A clip ranks by its most urgent output (reason, then newest): it is where the clip first appears in
        the order `items` and `next` use, so the clips are read off that index until the page is full.
        """
        scope = self._scope(flt)
        heads = self.table.page_clips(scope, limit=max(0, int(limit)), offset=max(0, int(offset)))
        if not heads:
            return []
        grouped: dict[str, list[QueueItem]] = {clip: [] for clip in heads}
        for r in self.table.clip_items(scope, heads):
            grouped[r.clip].append(_item(r))
        sources = self._sources([c for c in heads if grouped[c][0].video_sha256 is not None])
        return [ClipRow(clip, grouped[clip], *sources.get(clip, (None, None))) for clip in heads]

    def _sources(self, shas: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """video hash → (source link, latest correction id), from the clips' corrections and videos."""
        if not shas:
            return {}
        out: dict[str, tuple[str | None, str | None]] = {
            sha: (video.source_id, None) for sha, video in self._stores.videos.many(shas).items()
        }
        for c in self._stores.corrections.for_clips(shas):  # oldest change first: the latest correction wins
            if c.video_sha256 is not None:
                out[c.video_sha256] = (c.video_url, c.id)
        return out

    def clip_stats(self, flt: QueueFilter = QueueFilter()) -> tuple[int, int]:
        """(clips with a waiting output under ``flt``, waiting base-model outputs ``flt`` leaves out)."""
        scope = self._scope(flt)
        clips = self.table.clip_count(scope)
        if flt.base or flt.model is not None:
            return clips, 0
        return clips, self.table.hidden_base(scope)

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
            niches=self._stores.corrections.niches(),
            models=self._stores.analyses.models(),
            aliases=self.aliases(),
        )

    def aliases(self) -> dict[str, list[str]]:
        """model id → alias names."""
        out: dict[str, list[str]] = {}
        for alias in self._stores.aliases.all():
            out.setdefault(alias.model_id, []).append(alias.name)
        return out


def _item(r: QueueRow) -> QueueItem:
    return QueueItem(r.id, r.video_sha256, r.model, r.niche, REASONS[r.rank], r.score, r.created_at, r.record_key)
