"""What the service remembers between requests, so a repeated request costs no SQL and no thread hop (issue 13).

A cached ``POST /v1/analyze`` used to build an `Analyzer` (resolving the model and its training prompt: up to
eight SQL reads) and read the analysis row in a worker thread on every request, and a ``GET`` read and
re-validated its row the same way. With many requests in flight those worker threads and the event loop
handed the GIL back and forth around every read, so throughput fell as concurrency rose. `ServiceMemo` keeps:

* one built analyzer per (model, mode, fetch): the resolved model and its training prompt;
* per request (video, model, mode, fetch): the id of the analysis it was answered with;
* per analysis id (a bounded LRU): its JSON as stored (``GET``) and as a cache hit (``POST``).

An entry is trusted for ``recheck_s`` seconds from just before the workspace was read for it: the bounded
staleness. The first request after that goes the slow way (a worker thread reads the workspace again), so a
promotion or a refreshed analysis made by another process or machine (a shared PostgreSQL workspace) is
served at most ``recheck_s`` later, without a restart. What this process changes itself is seen at once: a
new or refreshed analysis makes the next request for its id read the row again, and
`ServiceMemo.models_changed` (a promotion through the mounted review UI, a ``/healthz`` that resolves another
model) drops everything that depends on the model.
``recheck_s=0`` trusts nothing: every request reads the workspace, as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from humortune.schema import Analysis, OutputMode

if TYPE_CHECKING:  # pragma: no cover
    from humortune.analyzer.analyzer import Analyzer
    from humortune.analyzer.resolve import ResolvedModel
    from humortune.feedback.router import ReviewContext

__all__ = ["DEFAULT_RECHECK_S", "AnswerKey", "Memo", "ServedAnalysis", "ServiceMemo"]

DEFAULT_RECHECK_S = 1.0
"""How long the service trusts what it read from the workspace (promotions, analyses) before reading again."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
AnswerKey = tuple[str, str | None, OutputMode | None, bool]
"""A ``POST /v1/analyze`` request as far as its answer goes: video, model, mode, and whether URLs are fetched."""
AnalyzerKey = tuple[str | None, OutputMode | None, bool]


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    seen_at: float
    """The clock just before the workspace was read for ``value``."""


class Memo(Generic[K, V]):
    """A bounded LRU whose entries are trusted for ``ttl`` seconds. Thread-safe: its lock guards dict
    operations only, never a read of the workspace."""

    def __init__(self, *, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value if it is still trusted, else ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self.clock() - entry.seen_at >= self.ttl:
                return None
            self._entries.move_to_end(key)
            return entry.value

    def peek(self, key: K) -> V | None:
        """The value, trusted or not (to compare with what was read again)."""
        with self._lock:
            entry = self._entries.get(key)
            return entry.value if entry is not None else None

    def put(self, key: K, value: V, *, seen_at: float) -> None:
        """Remember ``value`` as read at ``seen_at``, unless what is there was read later (a slow reader
        finishing after a writer must not put back what the writer replaced)."""
        if self.ttl <= 0:
            return
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.seen_at > seen_at:
                return
            self._entries[key] = _Entry(value, seen_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def items(self) -> list[tuple[K, V]]:
        """Every entry, trusted or not."""
        with self._lock:
            return [(key, entry.value) for key, entry in self._entries.items()]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


@dataclass(frozen=True, slots=True)
class ServedAnalysis:
    """One analysis serialised once: as stored (``GET``) and as a cache hit (``POST``, ``cached: true``)."""

    stored: bytes
    hit: bytes

    @classmethod
    def of(cls, analysis: Analysis) -> ServedAnalysis:
        stored = analysis.model_copy(update={"cached": False})
        hit = analysis.model_copy(update={"cached": True})
        return cls(stored.model_dump_json().encode(), hit.model_dump_json().encode())


class ServiceMemo:
    """The service's analyzers and answers between requests (see the module's docstring)."""

    def __init__(
        self,
        *,
        recheck_s: float = DEFAULT_RECHECK_S,
        max_analyses: int = 1024,
        max_answers: int = 4096,
        max_analyzers: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.analyzers: Memo[AnalyzerKey, tuple[Analyzer, float]] = Memo(
            ttl=recheck_s, max_entries=max_analyzers, clock=clock
        )
        self.answers: Memo[AnswerKey, str] = Memo(ttl=recheck_s, max_entries=max_answers, clock=clock)
        self.analyses: Memo[str, ServedAnalysis | None] = Memo(ttl=recheck_s, max_entries=max_analyses, clock=clock)

    # -- the fast path: the event loop, no SQL -----------------------------------------------------------

    def answer(self, key: AnswerKey) -> bytes | None:
        """The JSON a cached ``POST`` with this key gets, if every part of it is still trusted."""
        analysis_id = self.answers.get(key)
        served = self.analyses.get(analysis_id) if analysis_id is not None else None
        return served.hit if served is not None else None

    def analysis(self, analysis_id: str) -> bytes | None:
        """The JSON ``GET /v1/analyses/{analysis_id}`` answers, if it is still trusted."""
        served = self.analyses.get(analysis_id)
        return served.stored if served is not None else None

    # -- the slow path: a worker thread that has just read the workspace --------------------------------

    def remember(
        self, analysis: Analysis, *, seen_at: float, key: AnswerKey | None = None, resolved_at: float | None = None
    ) -> ServedAnalysis:
        """Serialise a stored ``analysis`` (read at ``seen_at``) once and remember it, and that ``key`` was
        answered with it by a model resolved at ``resolved_at`` (the answer is trusted as long as the older)."""
        if analysis.id is None:
            raise RuntimeError("an analysis without an id cannot be served")
        served = ServedAnalysis.of(analysis)
        self.analyses.put(analysis.id, served, seen_at=seen_at)
        if key is not None:
            answered_at = min(seen_at, resolved_at if resolved_at is not None else seen_at)
            self.answers.put(key, analysis.id, seen_at=answered_at)
        return served

    def forget(self, analysis_id: str) -> None:
        """The row of ``analysis_id`` was just written: the next request reads it (and a slower reader that
        started before the write cannot put the old one back)."""
        self.analyses.put(analysis_id, None, seen_at=self.clock())

    def analyzer(self, key: AnalyzerKey, build: Callable[[], Analyzer]) -> tuple[Analyzer, float]:
        """The analyzer for ``key`` and when its model was resolved: the remembered one while trusted, else
        ``build()`` (which resolves the model again). A model that resolves differently drops every answer."""
        trusted = self.analyzers.get(key)
        if trusted is not None:
            return trusted
        seen_at = self.clock()
        built = build()
        previous = self.analyzers.peek(key)
        if previous is not None and _identity(previous[0].model) != _identity(built.model):
            self.answers.clear()
        self.analyzers.put(key, (built, seen_at), seen_at=seen_at)
        return built, seen_at

    def served(self, resolved: ResolvedModel) -> None:
        """What the default model resolves to now (``/healthz`` asks): if a remembered analyzer for requests
        that name no model says otherwise, a promotion happened, and everything model-dependent goes."""
        for (model, _, _), (analyzer, _) in self.analyzers.items():
            if model is None and _identity(analyzer.model) != _identity(resolved):
                self.models_changed()
                return

    def watch_promotions(self, ctx: ReviewContext) -> None:
        """A promotion decided in the review UI mounted on the same app is served from the next request on."""
        decide = ctx.on_promotion
        if decide is None:
            return

        def decide_and_forget(event_id: int, confirm: bool) -> str:
            try:
                return decide(event_id, confirm)
            finally:
                self.models_changed()

        ctx.on_promotion = decide_and_forget

    def models_changed(self) -> None:
        """A promotion or alias change: forget the analyzers and which analysis answered which request."""
        self.analyzers.clear()
        self.answers.clear()


def _identity(model: ResolvedModel) -> tuple[str, str, str | None, str | None, str | None]:
    """What an analysis depends on in a resolution (not how it was asked for)."""
    return (model.model_id, model.call_name, model.prompt_version, model.media_resolution, model.base_model)
