"""Add clips to review from the UI: links or stored clips → ingest → the current model analyses → the queue.

The owner pastes TikTok links (or picks stored clips that the current model has not analysed); a job runs
in a background thread of the server process, one item after another, so the request returns at once and
the page polls the job's status. Each item ends ``done`` (or ``cached`` when the model had already
analysed that clip) or ``failed`` with one line saying why. The analyzer does the work: it downloads a link
that was never ingested (the ingest layer's downloader), stores the video content-addressed, and caches
its analysis per (clip, model, prompt, mode), so adding the same link twice analyses once. A TikTok link
is also downloaded once (its video id finds the stored clip); a plain http link is fetched again, stored
under the same hash, and served from the analysis cache.

Jobs live in memory: a restart forgets their status lines, not their results (those are in the corpus).
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from humortune.errors import FeedbackError, HumortuneError
from humortune.settings import Settings
from humortune.sources.base import Downloader
from humortune.storage.base import Storage
from humortune.workspace import Corpus, Stores

__all__ = ["AddItem", "AddJob", "ClipAdder", "current_model", "parse_links"]

ItemStatus = Literal["waiting", "running", "done", "cached", "failed"]
MAX_ITEMS = 100
"""Links or clips per job: a day's worth of new clips, and a bound on what one request can start."""
_KEEP_JOBS = 50


def parse_links(text: str) -> list[str]:
    """The links in pasted text: one per line (or separated by spaces), duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for word in text.split():
        word = word.strip().strip(",;")
        if word:
            seen.setdefault(word, None)
    return list(seen)


def current_model(corpus: Corpus) -> str | None:
    """The model new clips are analysed with: ``current`` once something is promoted, else the newest
    tuned model (as ``humortune eval`` picks it); ``None`` before any tuning (the analyzer's default)."""
    stores = Stores.of(corpus.db)
    if stores.aliases.target("current") is not None:
        return "current"
    latest = stores.models.latest_tuned()
    return latest.id if latest is not None else None


@dataclass(slots=True)
class AddItem:
    """One link or stored clip of a job, and how it went."""

    source: str
    """What the owner gave: a link, or ``sha256:<hash>`` of a stored clip."""
    status: ItemStatus = "waiting"
    message: str = ""
    analysis_id: str | None = None


@dataclass(slots=True)
class AddJob:
    """A batch of clips to add, analysed in the background."""

    id: str
    model: str | None
    items: list[AddItem]
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    finished_event: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def done(self) -> bool:
        """Whether every item has ended."""
        return self.finished is not None

    def count(self, *statuses: ItemStatus) -> int:
        """Items in any of ``statuses``."""
        return sum(1 for item in self.items if item.status in statuses)


AnalyzeFn = Callable[[str | None, str], tuple[str, bool]]
"""(model, video: link or stored URI) → (analysis id, served from the cache)."""


class ClipAdder:
    """Run add-clips jobs in one background thread of the server process.

    ``analyze`` is injected for tests; by default it is the real `Analyzer` over the app's corpus and
    storage (offline settings → FakeGemini).
    """

    def __init__(
        self,
        corpus: Corpus,
        storage: Storage,
        settings: Settings | None = None,
        *,
        analyze: AnalyzeFn | None = None,
        downloader: Downloader | None = None,
    ) -> None:
        self.corpus = corpus
        self.storage = storage
        self.settings = settings or Settings()
        self.downloader = downloader
        """What fetches links (default: the ingest layer's yt-dlp downloader)."""
        self._analyze = analyze or self._real_analyze
        self._todo: queue.SimpleQueue[AddJob | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._jobs: dict[str, AddJob] = {}
        self._lock = threading.Lock()

    # -- submitting -------------------------------------------------------------------------------

    def submit(self, links: list[str], shas: list[str]) -> AddJob:
        """Start a job for ``links`` and stored clips ``shas``; returns at once."""
        sources = [*links, *(f"sha256:{s}" for s in shas)]
        if not sources:
            raise FeedbackError("nothing to add", hint="paste one TikTok link per line, or tick stored clips")
        if len(sources) > MAX_ITEMS:
            raise FeedbackError(
                f"{len(sources)} clips in one go is more than {MAX_ITEMS}", hint="add them in smaller batches"
            )
        job = AddJob(secrets.token_hex(8), current_model(self.corpus), [AddItem(s) for s in sources])
        with self._lock:
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-_KEEP_JOBS]:
                self._jobs.pop(old)
            if self._worker is None:
                # A daemon thread: stopping the server never waits for a long job. An item cut short
                # loses nothing already stored (storage and the analysis cache write atomically).
                self._worker = threading.Thread(target=self._work, name="review-add", daemon=True)
                self._worker.start()
        self._todo.put(job)
        return job

    def job(self, job_id: str) -> AddJob | None:
        """A job by id (``None`` when unknown or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)

    def stored_clips(self, limit: int = 50) -> list[tuple[str, str]]:
        """Stored clips the current model has not analysed: (sha256, source id), newest first."""
        model = current_model(self.corpus)
        stores = Stores.of(self.corpus.db)
        if model == "current":
            model = stores.aliases.target("current")
        return stores.videos.not_analysed_by(model or self.settings.base_model, limit=limit)

    def close(self) -> None:
        """Stop the worker after the job it is on; jobs still waiting stay unfinished."""
        with self._lock:
            if self._worker is not None:
                self._todo.put(None)
                self._worker = None

    # -- running ----------------------------------------------------------------------------------

    def _work(self) -> None:
        while (job := self._todo.get()) is not None:
            self._run(job)

    def _run(self, job: AddJob) -> None:
        try:
            for item in job.items:
                item.status = "running"
                try:
                    video = self._video_of(item.source)
                    item.analysis_id, cached = self._analyze(job.model, video)
                    item.status = "cached" if cached else "done"
                    item.message = "already analysed" if cached else "analysed"
                except HumortuneError as exc:
                    item.status, item.message = "failed", _one_line(str(exc))
                except Exception as exc:  # a bug must not kill the worker: say so on the item
                    item.status, item.message = "failed", _one_line(f"unexpected {type(exc).__name__}: {exc}")
        finally:
            job.finished = time.monotonic()
            job.finished_event.set()

    def _video_of(self, source: str) -> str:
        if not source.startswith("sha256:"):
            return source
        video = self.corpus.video(source.removeprefix("sha256:"))
        if video is None:
            raise FeedbackError("no stored clip with this hash", item=source)
        return video.uri

    def _real_analyze(self, model: str | None, video: str) -> tuple[str, bool]:
        from humortune.analyzer import Analyzer

        analyzer = Analyzer(
            model, settings=self.settings, corpus=self.corpus, storage=self.storage, downloader=self.downloader
        )
        try:
            ref = analyzer.prepare(video)
            hit = analyzer.cached(ref)
            # The prepared asset, not the link again: a link is downloaded once.
            analysis = hit if hit is not None else analyzer.analyze(ref.asset or video)
        finally:
            analyzer.close()
        assert analysis.id is not None
        return analysis.id, hit is not None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:299] + "…"
