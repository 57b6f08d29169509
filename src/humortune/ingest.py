"""Ingest: every correction's video downloaded, probed, stored once, and linked in the corpus.

```python
from humortune import Corpus, Ingestor, open_storage

with Corpus.open(settings=settings) as corpus:
    report = Ingestor(corpus, open_storage(settings=settings), settings=settings).run()
print(report.counts)            # {'ok': 140, 'present': 0, 'failed': 3}
report.save_json("ingest.json")
```

How it stays boring:

- **Bounded concurrency, overlapping stages.** Sources are fetched (download → probe → sha256) by one pool
  of ``concurrency`` threads and stored by another, so uploads run while other downloads do. At most
  ``2 × concurrency`` fetched files wait on disk at any time.
- **Idempotent.** A source already linked to a video whose object is in storage with the same sha256 is
  skipped without any download or upload. A TikTok video already stored under its id (say, after a crash
  between upload and bookkeeping) is adopted from storage instead of downloaded again.
- **Crash-safe.** Downloads go to a per-run temp directory in the workspace (``tmp/ingest/run-<pid>-…``),
  swept at start with the storage's stale upload temp files once their run is dead. Objects are published
  atomically under names derived from the video id or content hash: a rerun after ``kill -9`` finishes the job.
- **Isolated failures.** Each source's outcome is recorded in the ``ingest_status`` table; transient
  failures (rate limits, 5xx, resets, timeouts) are retried with exponential backoff, permanent ones are
  not; `run(only_failed=True)` retries just the failures.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from humortune._util import file_sha256, pid_alive
from humortune.app import App
from humortune.errors import HumortuneError, PermanentSourceError, SourceError, StorageError
from humortune.ingest_report import IngestProgress, IngestReport, ProgressCallback, SourceOutcome
from humortune.schema import VideoAsset, utcnow
from humortune.settings import Settings
from humortune.sources.base import Download, Downloader, open_local, suggested_fix
from humortune.sources.poster import store_poster
from humortune.sources.probe import ProbeInfo, probe_video
from humortune.storage import VIDEO_PREFIX, LocalStorage, ObjectInfo, Storage, open_storage, video_key
from humortune.urls import SourceRef, parse_source, redact, resolving_in_bulk
from humortune.workspace import Corpus, SourceLink, Stores
from humortune.workspace.stores import IngestState

__all__ = ["IngestProgress", "IngestReport", "Ingestor", "ProgressCallback", "SourceOutcome"]

_STALE_S = 24 * 3600


@dataclass(slots=True)
class _Item:
    index: int
    key: str
    url: str
    ref: SourceRef | None
    error: SourceError | None
    linked: SourceLink | None
    unlinked: bool = False
    """Some correction of this source is not linked to its video yet (imported after the last ingest)."""


@dataclass(slots=True)
class _Fetched:
    download: Download
    probe: ProbeInfo
    sha256: str
    video_id: str
    object_key: str
    workdir: Path | None


@dataclass(slots=True)
class _Run:
    run_dir: Path
    slots: threading.BoundedSemaphore
    store_pool: ThreadPoolExecutor


class Ingestor:
    """Download, probe, store and link every correction's video. See the module docs for the guarantees.

    ``downloader`` defaults to `YtDlpDownloader`; inject any `Downloader` (tests and offline examples use
    `humortune.testing.sources.FakeDownloader`). ``concurrency``, ``attempts`` and ``backoff_s`` default to the
    settings' ``download_concurrency``, ``download_attempts`` and ``download_backoff_s``.
    """

    def __init__(
        self,
        corpus: Corpus,
        storage: Storage | None = None,
        *,
        downloader: Downloader | None = None,
        concurrency: int | None = None,
        settings: Settings | None = None,
        progress: ProgressCallback | None = None,
        attempts: int | None = None,
        backoff_s: float | None = None,
    ) -> None:
        self.corpus = corpus
        self.settings = settings or Settings()
        self.storage = storage if storage is not None else open_storage(settings=self.settings)
        self._stop = threading.Event()
        self._ok_before: frozenset[str] = frozenset()  # sources recorded ok when this run began
        self._downloader = downloader
        self.concurrency = max(1, concurrency or self.settings.download_concurrency)
        self.attempts = max(1, attempts or self.settings.download_attempts)
        self.backoff_s = self.settings.download_backoff_s if backoff_s is None else backoff_s
        self.progress = progress
        # an ingestor given only a corpus works beside its SQLite file; a PostgreSQL corpus has no directory
        on_file = settings is None and corpus.db.dialect.name == "sqlite"
        workspace = corpus.path.parent if on_file else self.settings.workspace
        self.tmp_root = Path(workspace) / "tmp" / "ingest"
        """Where downloads land before they are stored (swept at the start of every run)."""

    @classmethod
    def from_app(cls, app: App, **options: Any) -> Ingestor:
        """An ingestor on the App's corpus, storage and settings (its downloader stays its own: `stop` aborts it)."""
        return cls(app.corpus, app.storage, settings=app.settings, **options)

    @property
    def downloader(self) -> Downloader:
        """The downloader in use (the yt-dlp one unless another was injected)."""
        if self._downloader is None:
            from humortune.sources.ytdlp import YtDlpDownloader

            settings = self.settings
            if self.backoff_s != settings.download_backoff_s:  # yt-dlp's own retries use the same backoff
                settings = settings.model_copy(update={"download_backoff_s": self.backoff_s})
            self._downloader = YtDlpDownloader(settings, stop=self._stop)
        return self._downloader

    def stop(self) -> None:
        """Ask a running `run` to stop: running downloads abort, queued sources are not started."""
        self._stop.set()

    # -- the run ----------------------------------------------------------------------------------

    def run(self, *, only_failed: bool = False, keys: Iterable[str] | None = None) -> IngestReport:
        """Ingest every source (or only those that failed last time, or only ``keys``) and report."""
        self._stop.clear()
        started, clock = utcnow(), time.monotonic()
        items = self._items(only_failed=only_failed, keys=set(keys) if keys is not None else None)
        connect = getattr(self.storage, "connect", None)
        if items and callable(connect):
            connect()  # e.g. gs:// without credentials: one error now, not one per clip
        report = IngestReport(storage_uri=self.storage.root_uri, started_at=started)
        self._ok_before = Stores.of(self.corpus.db).ingest.ok_keys()  # a skip that finds them ok writes nothing
        self._emit(IngestProgress(total=len(items), completed=0))
        run_dir = self._prepare_tmp()
        outcomes: dict[int, SourceOutcome] = {}
        try:
            with (
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="ingest-store") as store_pool,
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="ingest-fetch") as fetch_pool,
            ):
                run = _Run(run_dir, threading.BoundedSemaphore(2 * self.concurrency), store_pool)
                try:
                    for index, outcome in self._window(items, run, fetch_pool):
                        outcomes[index] = outcome
                        self._emit(IngestProgress(len(items), len(outcomes), outcome))
                except BaseException:  # Ctrl-C: stop downloads, drop queued work, keep what is done
                    self._stop.set()
                    fetch_pool.shutdown(wait=False, cancel_futures=True)
                    raise
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        report.outcomes = [outcomes[i] for i in sorted(outcomes)]
        report.seconds = round(time.monotonic() - clock, 3)
        return report

    def _window(self, items: list[_Item], run: _Run, pool: ThreadPoolExecutor) -> Iterator[tuple[int, SourceOutcome]]:
        """(index, outcome) as sources finish, ≤ 4 × concurrency in flight (not 100k futures queued up front).

        On local storage a linked source is checked right here: the check is a stat and a 64-byte read, and a
        hop to a worker thread and back (the GIL passed between five threads per syscall) cost 10× that."""
        inline = isinstance(self.storage, LocalStorage)
        pending: dict[Future[SourceOutcome], int] = {}
        queue = iter(items)
        while True:
            while len(pending) < 4 * self.concurrency and (item := next(queue, None)) is not None:
                if inline and item.linked is not None and (stored := self._stored_here(item)) is not None:
                    yield item.index, stored
                    continue
                done: Future[SourceOutcome] = Future()
                pending[done] = item.index
                pool.submit(self._fetch_stage, item, run, done)
            if not pending:
                return
            for fut in wait(pending, return_when=FIRST_COMPLETED).done:
                yield pending.pop(fut), fut.result()

    def _emit(self, event: IngestProgress) -> None:
        if self.progress is not None:
            self.progress(event)

    def _items(self, *, only_failed: bool, keys: set[str] | None) -> list[_Item]:
        failed: set[str] | None = None
        if only_failed:
            failed = Stores.of(self.corpus.db).ingest.failed_keys()
        items: list[_Item] = []
        seen: set[str] = set()
        links = self.corpus.source_links()  # not `entries()`: whole corrections are ~5 KB a row
        # Any correction of a clip may be the linked one (a later import adds unlinked ones beside it).
        linked = {link.video_key: link for link in links if link.sha256 is not None}
        unlinked = {link.video_key for link in links if link.sha256 is None}
        with resolving_in_bulk():  # local clips: each folder resolved once, not once per clip
            for link in links:
                key = link.video_key
                if (
                    key in seen
                    or (failed is not None and redact(key) not in failed)
                    or (keys is not None and key not in keys)
                ):
                    continue
                seen.add(key)
                ref: SourceRef | None = None
                error: SourceError | None = None
                try:
                    ref = parse_source(link.video_url)
                except SourceError as exc:
                    error = exc
                items.append(_Item(len(items), key, link.video_url, ref, error, linked.get(key), key in unlinked))
        return items

    def _prepare_tmp(self) -> Path:
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        for child in self.tmp_root.iterdir():
            match = re.match(r"run-(\d+)-", child.name)
            try:
                stale = time.time() - child.stat().st_mtime > _STALE_S  # where pids cannot be checked
            except FileNotFoundError:
                continue
            if match and (stale or not pid_alive(int(match.group(1)))):
                shutil.rmtree(child, ignore_errors=True)
        sweep = getattr(self.storage, "sweep_temp", None)
        if callable(sweep):
            sweep()
        return Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=self.tmp_root))

    # -- stage 1: fetch ---------------------------------------------------------------------------

    def _fetch_stage(self, item: _Item, run: _Run, done: Future[SourceOutcome]) -> None:
        outcome = SourceOutcome(key=item.key, url=redact(item.url), status="failed")
        clock = time.monotonic()
        run.slots.acquire()
        handed_over = False
        try:
            if self._stop.is_set():
                raise PermanentSourceError("not started: the run was stopped", item=item.url, category="unknown")
            if item.error is not None:
                raise item.error
            assert item.ref is not None
            if self._already_stored(item, outcome, run):
                self._finish(outcome, clock, done)
                return
            fetched = self._fetch_with_retries(item, item.ref, run, outcome)
            outcome.bytes_downloaded = fetched.download.bytes_downloaded
            run.store_pool.submit(self._store_stage, item, fetched, outcome, clock, run, done)
            handed_over = True
        except Exception as exc:
            self._fail(outcome, exc, clock, done)
        finally:
            if not handed_over:
                run.slots.release()

    def _stored_here(self, item: _Item) -> SourceOutcome | None:
        """The outcome of a linked source whose stored copy checks out, decided in the calling thread; ``None``
        leaves the source to the pool (which checks again, then fetches, retries and reports failures)."""
        if item.error is not None or self._stop.is_set():
            return None
        outcome, clock = SourceOutcome(key=item.key, url=redact(item.url), status="failed"), time.monotonic()
        try:
            if not self._linked_and_stored(item, outcome):
                return None
            done: Future[SourceOutcome] = Future()
            self._finish(outcome, clock, done)
        except Exception:  # the pool meets it again and reports it as it reports any failure
            return None
        return done.result()

    def _already_stored(self, item: _Item, outcome: SourceOutcome, run: _Run) -> bool:
        """Skip (linked and verified) or adopt (stored under its TikTok id) without touching the source."""
        if self._linked_and_stored(item, outcome):
            return True
        if item.ref is not None and item.ref.video_id is not None:
            object_key = video_key(item.ref.video_id)
            info = self.storage.stat(object_key)
            if info is not None:
                self._adopt(item, object_key, info, outcome, run)
                return True
        return False

    def _linked_and_stored(self, item: _Item, outcome: SourceOutcome) -> bool:
        """Whether the source's linked video is in storage with its size and sha256 (then marked present)."""
        linked = item.linked
        if linked is None or linked.uri is None or linked.sha256 is None:
            return False
        object_key = VIDEO_PREFIX + PurePosixPath(linked.uri).name
        info = self.storage.stat(object_key)
        if info is None or info.sha256 != linked.sha256 or info.size != linked.size_bytes:
            return False
        if linked.uri != self.storage.uri(object_key):  # same bytes, storage moved
            self._move_video(linked.sha256, self.storage.uri(object_key))
        if item.unlinked:  # corrections imported since the last run
            self.corpus.link_video(item.key, linked.sha256)
        self._mark(outcome, "present", object_key, linked.sha256)
        return True

    def _move_video(self, sha256: str, uri: str) -> None:
        if (video := self.corpus.video(sha256)) is not None:
            self.corpus.add_video(video.model_copy(update={"uri": uri}))

    def _fetch_with_retries(self, item: _Item, ref: SourceRef, run: _Run, outcome: SourceOutcome) -> _Fetched:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(initial=self.backoff_s, max=60.0, jitter=self.backoff_s),
            retry=retry_if_exception(lambda e: isinstance(e, HumortuneError) and e.transient),
            sleep=self._sleep,
            reraise=True,
        )

        def attempt() -> _Fetched:
            outcome.attempts += 1
            if self._stop.is_set():
                raise PermanentSourceError("stopped before the download finished", item=item.url, category="unknown")
            workdir = None if ref.kind == "file" else _new_dir(run, item.index, outcome.attempts)
            try:
                return self._fetch_once(item, ref, workdir)
            except BaseException:
                if workdir is not None:
                    shutil.rmtree(workdir, ignore_errors=True)
                raise

        return retrying(attempt)

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)  # a stop request cuts the backoff short

    def _fetch_once(self, item: _Item, ref: SourceRef, workdir: Path | None) -> _Fetched:
        try:
            download = open_local(ref) if workdir is None else self.downloader.download(ref, workdir)
            probe = probe_video(download.path)
        except SourceError as exc:
            exc.item = item.url if exc.item is None or workdir is not None else exc.item
            raise
        cap = self.settings.max_video_mb * 1024 * 1024
        if probe.size_bytes > cap:
            raise PermanentSourceError(
                f"the video is {probe.size_bytes / 2**20:.1f} MB, over the {self.settings.max_video_mb} MB limit",
                hint=suggested_fix("too_large"),
                item=item.url,
                category="too_large",
            )
        sha = file_sha256(download.path)
        video_id = download.video_id or ref.video_id or sha
        return _Fetched(download, probe, sha, video_id, video_key(video_id, probe.ext), workdir)

    # -- stage 2: store ---------------------------------------------------------------------------

    def _store_stage(
        self,
        item: _Item,
        fetched: _Fetched,
        outcome: SourceOutcome,
        clock: float,
        run: _Run,
        done: Future[SourceOutcome],
    ) -> None:
        try:
            path = fetched.download.path
            wrote = self.storage.put_file(
                fetched.object_key, path, sha256=fetched.sha256, content_type=fetched.probe.mime
            )
            if wrote:
                outcome.bytes_uploaded = fetched.probe.size_bytes
                self._record(item, fetched.object_key, fetched.sha256, fetched.video_id, fetched.probe)
                self._mark(outcome, "ok", fetched.object_key, fetched.sha256)
            else:
                info = self.storage.stat(fetched.object_key)
                if info is None:
                    raise StorageError("the object disappeared right after it was found", item=item.url)
                if info.sha256 is not None and info.sha256 != fetched.sha256:
                    # Another download of the same video (a different encode) is stored: keep that one.
                    self._adopt(item, fetched.object_key, info, outcome, run)
                else:
                    self._record(item, fetched.object_key, fetched.sha256, fetched.video_id, fetched.probe)
                    self._mark(outcome, "present", fetched.object_key, fetched.sha256)
            self._finish(outcome, clock, done)
        except Exception as exc:
            self._fail(outcome, exc, clock, done)
        finally:
            if fetched.workdir is not None:
                shutil.rmtree(fetched.workdir, ignore_errors=True)
            run.slots.release()

    def _adopt(self, item: _Item, object_key: str, info: ObjectInfo, outcome: SourceOutcome, run: _Run) -> None:
        """Record an object that is already stored (read back once to verify and probe it)."""
        fd, tmp_name = tempfile.mkstemp(prefix="adopt-", suffix=f".{object_key.rsplit('.', 1)[-1]}", dir=run.run_dir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, self.storage.open_read(object_key) as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
            sha = file_sha256(tmp)
            if info.sha256 is not None and sha != info.sha256:
                raise StorageError(
                    "the stored object does not match its recorded sha256",
                    hint=f"delete {self.storage.uri(object_key)} and ingest again",
                    item=item.url,
                )
            probe = probe_video(tmp)
        finally:
            tmp.unlink(missing_ok=True)
        source_id = PurePosixPath(object_key).stem
        self._record(item, object_key, sha, source_id, probe)
        self._mark(outcome, "present", object_key, sha)

    # -- bookkeeping ------------------------------------------------------------------------------

    def _record(self, item: _Item, object_key: str, sha: str, source_id: str, probe: ProbeInfo) -> None:
        asset = VideoAsset(
            sha256=sha,
            source_id=source_id,
            size_bytes=probe.size_bytes,
            duration_s=probe.duration_s,
            width=probe.width,
            height=probe.height,
            codec=probe.codec,
            fps=probe.fps,
            has_audio=probe.has_audio,
            mime=probe.mime,
            container=probe.container,
            uri=self.storage.uri(object_key),
        )
        with self.corpus.db.transaction():
            self.corpus.add_video(asset)
            self.corpus.link_video(item.key, sha)

    def _mark(self, outcome: SourceOutcome, status: Literal["ok", "present"], object_key: str, sha: str) -> None:
        outcome.status = status
        outcome.object_key = object_key
        outcome.uri = self.storage.uri(object_key)
        outcome.sha256 = sha
        store_poster(self.storage, object_key, sha)  # the review queue's still, stored beside the video

    def _finish(self, outcome: SourceOutcome, clock: float, done: Future[SourceOutcome]) -> None:
        outcome.seconds = round(time.monotonic() - clock, 3)
        try:
            self._write_status(outcome)
        finally:
            done.set_result(outcome)

    def _fail(self, outcome: SourceOutcome, exc: Exception, clock: float, done: Future[SourceOutcome]) -> None:
        outcome.status = "failed"
        if isinstance(exc, SourceError):
            outcome.category = exc.category
        elif isinstance(exc, StorageError):
            outcome.category = "storage"
        else:
            outcome.category = "unknown"
        secrets = (self._secret_part(outcome.key),)
        if isinstance(exc, HumortuneError):
            outcome.message, outcome.transient = redact(exc.message, secrets), exc.transient
            outcome.hint = redact(exc.hint or suggested_fix(outcome.category), secrets)
        else:  # a bug, not a bad URL: still only this source fails
            outcome.message = redact(f"unexpected {type(exc).__name__}: {exc}", secrets)[:400]
            outcome.hint = suggested_fix("unknown")
        outcome.uri = outcome.object_key = outcome.sha256 = None
        self._finish(outcome, clock, done)

    @staticmethod
    def _secret_part(key: str) -> str:
        """A URL's query string, which may appear in a message without its URL (a bare signature)."""
        return key.partition("?")[2] if key.startswith("http:") else ""

    def _write_status(self, outcome: SourceOutcome) -> None:
        state = IngestState(
            video_key=redact(outcome.key),  # the table is shown (status, doctor): no credentials or signatures in it
            status="failed" if outcome.status == "failed" else "ok",
            category=outcome.category,
            message=outcome.message,
            hint=outcome.hint,
            attempts=outcome.attempts,
        )
        Stores.of(self.corpus.db).ingest.record(state, ok_before=self._ok_before)  # clears failure fields


def _new_dir(run: _Run, index: int, attempt: int) -> Path:
    path = run.run_dir / f"{index:05d}-{attempt}"
    path.mkdir(parents=True, exist_ok=True)
    return path
