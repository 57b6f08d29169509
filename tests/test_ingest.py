"""Ingestor behaviour with an injected downloader: idempotency, isolation, retries, adoption, reports."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from humortune.errors import PermanentSourceError, StorageError, TransientSourceError, TransientStorageError
from humortune.ingest import Ingestor, IngestProgress, IngestReport
from humortune.schema import Correction
from humortune.settings import Settings
from humortune.sources import Download, SourceRef
from humortune.storage import LocalStorage, video_key
from humortune.testing.sources import FakeDownloader
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
from tests._postgres import PostgresServer
from tests._workspace_support import has_database

TT = "https://www.tiktok.com/@kocken/video/{}"


def tid(n: int) -> str:
    return str(7_300_000_000_000_000_000 + n)


def _add(corpus: Corpus, *urls: str) -> None:
    for i, url in enumerate(urls):
        corpus.add_correction(Correction(id=f"c{i}-{abs(hash(url)) % 10_000}", video_url=url, human_said=f"roligt {i}"))


def _ingestor(corpus: Corpus, settings: Settings, downloader: Any, **kw: Any) -> Ingestor:
    storage = kw.pop("storage", None) or LocalStorage(settings.workspace / "storage")
    return Ingestor(corpus, storage, downloader=downloader, settings=settings, backoff_s=0.0, **kw)


class CountingStorage(LocalStorage):
    """LocalStorage that counts uploads."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.puts = 0

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str = "application/octet-stream") -> bool:
        self.puts += 1
        return super().put_file(key, path, sha256=sha256, content_type=content_type)


@pytest.fixture
def clip_dir(tmp_path: Path) -> Path:
    return tmp_path / "clips"


def test_ingests_links_and_is_idempotent(corpus: Corpus, settings: Settings, clip_dir: Path) -> None:
    local = make_test_video(clip_dir / "local.mp4", seconds=1.0, seed=5)
    urls = [TT.format(tid(1)), TT.format(tid(2)), local.as_uri()]
    _add(corpus, *urls)
    fake = FakeDownloader(generate=True)
    storage = CountingStorage(settings.workspace / "storage")
    report = _ingestor(corpus, settings, fake, storage=storage).run()
    assert report.counts == {"ok": 3, "present": 0, "failed": 0}
    by_url = {o.url: o for o in report.outcomes}
    assert by_url[urls[0]].object_key == video_key(tid(1))  # TikTok id names the object
    local_sha = hashlib.sha256(local.read_bytes()).hexdigest()
    assert by_url[urls[2]].object_key == video_key(local_sha)  # otherwise the content hash
    assert by_url[urls[2]].bytes_downloaded == 0 and by_url[urls[0]].bytes_downloaded > 0
    assert sum(fake.calls.values()) == 2  # the local file never went through the downloader
    for entry in corpus.entries():
        assert entry.video is not None
        assert storage.stat(video_key(entry.video.source_id)) is not None
        assert entry.video.uri == storage.uri(video_key(entry.video.source_id))
        assert entry.video.codec == "h264" and entry.video.has_audio and entry.video.duration_s > 0
    video = corpus.video(local_sha)
    assert video is not None and video.source_id == local_sha and video.mime == "video/mp4"
    rows = corpus.db.query("SELECT status, attempts FROM ingest_status")
    assert [(r["status"], r["attempts"]) for r in rows] == [("ok", 1)] * 3

    again = _ingestor(corpus, settings, fake, storage=storage).run()
    assert again.counts == {"ok": 0, "present": 3, "failed": 0}
    assert sum(fake.calls.values()) == 2 and storage.puts == 3  # no download, no upload
    assert again.bytes_downloaded == again.bytes_uploaded == 0
    assert len(storage.list("training/videos/")) == 3


def test_a_rerun_that_finds_every_clip_present_writes_no_status(corpus: Corpus, settings: Settings) -> None:
    urls = [TT.format(tid(n)) for n in range(1, 4)]
    _add(corpus, *urls)
    fake = FakeDownloader(generate=True)
    _ingestor(corpus, settings, fake).run()
    old = "2000-01-01T00:00:00+00:00"  # a write would replace it with now
    corpus.db.execute("UPDATE ingest_status SET updated_at = ?", (old,))
    again_failed = f"tiktok:{tid(2)}"  # e.g. another process recorded a failure since
    corpus.db.execute("UPDATE ingest_status SET status = 'failed', category = 'network' WHERE video_key = ?",
                      (again_failed,))  # fmt: skip
    report = _ingestor(corpus, settings, fake).run()
    assert report.counts == {"ok": 0, "present": 3, "failed": 0}
    rows = {r["video_key"]: (r["status"], r["category"], r["updated_at"]) for r in
            corpus.db.query("SELECT video_key, status, category, updated_at FROM ingest_status")}  # fmt: skip
    assert {k: v for k, v in rows.items() if k != again_failed} == {
        f"tiktok:{tid(n)}": ("ok", None, old) for n in (1, 3)
    }  # nothing changed, nothing written
    status, category, updated = rows[again_failed]
    assert (status, category) == ("ok", None) and updated != old  # found present: recorded ok again


class ThreadRecordingStorage(LocalStorage):
    """LocalStorage that notes which thread asked for each object's facts."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.stat_threads: list[str] = []

    def stat(self, key: str) -> Any:
        self.stat_threads.append(threading.current_thread().name)
        return super().stat(key)


def test_on_local_storage_a_stored_clip_is_checked_without_a_thread_hop(corpus: Corpus, settings: Settings) -> None:
    urls = [TT.format(tid(n)) for n in range(1, 5)]
    _add(corpus, *urls)
    fake = FakeDownloader(generate=True)
    storage = ThreadRecordingStorage(settings.workspace / "storage")
    _ingestor(corpus, settings, fake, storage=storage).run()
    storage.path(video_key(tid(3))).unlink()  # a stored copy gone: the check here fails over to the pool
    storage.stat_threads.clear()
    report = _ingestor(corpus, settings, fake, storage=storage, concurrency=2).run()
    assert report.counts == {"ok": 1, "present": 3, "failed": 0}
    assert [(o.url, o.status) for o in report.outcomes] == [(u, "ok" if u == urls[2] else "present") for u in urls]
    caller = threading.current_thread().name
    in_pool = [name for name in storage.stat_threads if name != caller]
    assert storage.stat_threads.count(caller) == 4  # every linked clip checked in the calling thread
    assert in_pool and all(name.startswith("ingest-fetch") for name in in_pool)  # the missing one, again
    assert sum(fake.calls.values()) == 5 and storage.stat(video_key(tid(3))) is not None  # fetched, stored


def test_one_bad_url_never_stops_the_others(corpus: Corpus, settings: Settings) -> None:
    good = [TT.format(tid(n)) for n in range(1, 6)]
    bad = TT.format(tid(99))
    _add(corpus, *good[:2], bad, *good[2:])
    gone = PermanentSourceError("Video not available, status code 10231", category="removed")
    fake = FakeDownloader(generate=True, errors={bad: [gone]})
    report = _ingestor(corpus, settings, fake, concurrency=2).run()
    assert report.counts == {"ok": 5, "present": 0, "failed": 1}
    [failed] = report.failed
    assert failed.url == bad and failed.category == "removed" and failed.attempts == 1
    assert failed.transient is False
    assert failed.hint and "replace the link" in failed.hint
    assert failed.uri is None and failed.sha256 is None
    row = corpus.db.query_one("SELECT * FROM ingest_status WHERE video_key = ?", (f"tiktok:{tid(99)}",))
    assert row is not None and row["status"] == "failed" and row["category"] == "removed" and row["hint"]
    assert [o.url for o in report.outcomes] == [*good[:2], bad, *good[2:]]  # battery order


def test_transient_failures_are_retried_permanent_ones_are_not(corpus: Corpus, settings: Settings) -> None:
    flaky, dead, hopeless = TT.format(tid(1)), TT.format(tid(2)), TT.format(tid(3))
    _add(corpus, flaky, dead, hopeless)
    errors = {
        flaky: [TransientSourceError("HTTP 503", category="server"), TransientSourceError("reset", category="network")],
        dead: [PermanentSourceError("private", category="private")] * 5,
        hopeless: [TransientSourceError("HTTP 429", category="rate_limited")] * 5,
    }
    fake = FakeDownloader(generate=True, errors=errors)
    report = _ingestor(corpus, settings, fake, attempts=3).run()
    by_url = {o.url: o for o in report.outcomes}
    assert (by_url[flaky].status, by_url[flaky].attempts) == ("ok", 3)
    assert (by_url[dead].status, by_url[dead].attempts, by_url[dead].category) == ("failed", 1, "private")
    assert (by_url[hopeless].status, by_url[hopeless].attempts) == ("failed", 3)
    assert by_url[hopeless].transient and by_url[hopeless].category == "rate_limited"


def test_an_unresolvable_host_is_a_temporary_network_failure_in_the_report(corpus: Corpus, settings: Settings) -> None:
    from yt_dlp.utils import DownloadError

    from humortune.sources import classify_error

    url = TT.format(tid(7))
    _add(corpus, url)
    dns = DownloadError(
        "ERROR: [TikTok] 7: Unable to download webpage: Failed to perform, curl: (6) Could not resolve host:"
        " www.tiktok.com (Domain name not found)"
    )
    fake = FakeDownloader(generate=True, errors={url: [classify_error(dns, item=url)] * 3})
    report = _ingestor(corpus, settings, fake, attempts=3).run()
    outcome = report.outcomes[0]
    assert (outcome.status, outcome.category, outcome.transient, outcome.attempts) == ("failed", "network", True, 3)
    assert "drop the item" not in (outcome.hint or "") and "--only-failed" in (outcome.hint or "")
    row = corpus.db.query_one("SELECT category FROM ingest_status WHERE video_key = ?", (f"tiktok:{tid(7)}",))
    assert row is not None and row["category"] == "network"


def test_backoff_waits_grow(corpus: Corpus, settings: Settings) -> None:
    url = TT.format(tid(1))
    _add(corpus, url)
    fake = FakeDownloader(generate=True, errors={url: [TransientSourceError("503", category="server")] * 2})
    ingestor = Ingestor(
        corpus, LocalStorage(settings.workspace / "s"), downloader=fake, settings=settings, backoff_s=0.05
    )
    waits: list[float] = []
    ingestor._sleep = waits.append  # type: ignore[method-assign]
    assert ingestor.run().counts["ok"] == 1
    assert len(waits) == 2 and 0.05 <= waits[0] < waits[1]


def test_only_failed_retries_just_the_failures(corpus: Corpus, settings: Settings) -> None:
    urls = [TT.format(tid(n)) for n in range(1, 4)]
    _add(corpus, *urls)
    fake = FakeDownloader(generate=True, errors={urls[1]: [PermanentSourceError("gone", category="removed")]})
    assert _ingestor(corpus, settings, fake).run().counts == {"ok": 2, "present": 0, "failed": 1}
    retry = _ingestor(corpus, settings, fake).run(only_failed=True)
    assert [o.url for o in retry.outcomes] == [urls[1]] and retry.counts["ok"] == 1
    assert fake.calls[f"tiktok:{tid(2)}"] == 2 and fake.calls[f"tiktok:{tid(1)}"] == 1
    row = corpus.db.query_one("SELECT * FROM ingest_status WHERE video_key = ?", (f"tiktok:{tid(2)}",))
    assert row is not None and (row["status"], row["attempts"], row["category"]) == ("ok", 2, None)
    assert _ingestor(corpus, settings, fake).run(only_failed=True).outcomes == []


def test_not_a_video_and_too_large_fail_clearly(corpus: Corpus, settings: Settings, clip_dir: Path) -> None:
    html, big = TT.format(tid(1)), TT.format(tid(2))
    _add(corpus, html, big)
    clip_dir.mkdir()
    (clip_dir / "page.html").write_text("<html><body>Log in</body></html>")
    large = make_test_video(clip_dir / "big.mp4", seconds=2.0, width=320, height=240, bitrate=8_000_000, seed=2)
    fake = FakeDownloader({html: clip_dir / "page.html", big: large})
    report = _ingestor(corpus, settings.model_copy(update={"max_video_mb": 1}), fake).run()
    by_url = {o.url: o for o in report.outcomes}
    assert (by_url[html].category, by_url[html].attempts) == ("not_video", 1)
    assert by_url[html].message and "not a decodable video" in by_url[html].message
    assert by_url[big].category == "too_large" and "1 MB limit" in (by_url[big].message or "")
    assert LocalStorage(settings.workspace / "storage").list() == []


def test_missing_local_file(corpus: Corpus, settings: Settings, tmp_path: Path) -> None:
    _add(corpus, (tmp_path / "nope.mp4").as_uri())
    [outcome] = _ingestor(corpus, settings, FakeDownloader()).run().outcomes
    assert outcome.category == "removed" and "no such file" in (outcome.message or "")


def test_a_bug_in_one_source_is_contained(corpus: Corpus, settings: Settings) -> None:
    urls = [TT.format(tid(1)), TT.format(tid(2))]
    _add(corpus, *urls)
    fake = FakeDownloader(generate=True, errors={urls[0]: [RuntimeError("boom")]})
    report = _ingestor(corpus, settings, fake).run()
    assert [o.status for o in report.outcomes] == ["failed", "ok"]
    assert report.outcomes[0].category == "unknown" and "RuntimeError: boom" in (report.outcomes[0].message or "")


def test_storage_failure_is_reported_as_storage(corpus: Corpus, settings: Settings) -> None:
    class Broken(LocalStorage):
        def put_file(self, *a: Any, **k: Any) -> bool:
            raise TransientStorageError("503 after 5 tries", hint="rerun later")

    _add(corpus, TT.format(tid(1)))
    report = _ingestor(corpus, settings, FakeDownloader(generate=True), storage=Broken(settings.workspace / "s")).run()
    [outcome] = report.outcomes
    assert (outcome.status, outcome.category, outcome.transient, outcome.hint) == (
        "failed",
        "storage",
        True,
        "rerun later",
    )


def test_already_stored_tiktok_video_is_adopted_without_download(
    corpus: Corpus, settings: Settings, clip_dir: Path
) -> None:
    # As after a crash between the upload and the bookkeeping: the object exists, the corpus does not know.
    storage = LocalStorage(settings.workspace / "storage")
    clip = make_test_video(clip_dir / "c.mp4", seconds=1.0, seed=9)
    sha = hashlib.sha256(clip.read_bytes()).hexdigest()
    storage.put_file(video_key(tid(7)), clip, sha256=sha)
    _add(corpus, TT.format(tid(7)))
    fake = FakeDownloader(generate=True)
    [outcome] = _ingestor(corpus, settings, fake, storage=storage).run().outcomes
    assert (outcome.status, outcome.sha256, outcome.bytes_downloaded) == ("present", sha, 0)
    assert sum(fake.calls.values()) == 0
    [entry] = corpus.entries()
    assert entry.video is not None and entry.video.sha256 == sha and entry.video.source_id == tid(7)


def test_short_link_resolving_to_a_stored_video_keeps_the_stored_encode(
    corpus: Corpus, settings: Settings, clip_dir: Path
) -> None:
    storage = LocalStorage(settings.workspace / "storage")
    stored = make_test_video(clip_dir / "stored.mp4", seconds=1.0, seed=1)
    stored_sha = hashlib.sha256(stored.read_bytes()).hexdigest()
    storage.put_file(video_key(tid(8)), stored, sha256=stored_sha)
    short = "https://vm.tiktok.com/ZMshort1/"
    _add(corpus, short)
    other_encode = make_test_video(clip_dir / "other.mp4", seconds=1.0, seed=2)
    fake = FakeDownloader({short: other_encode}, video_ids={short: tid(8)})
    [outcome] = _ingestor(corpus, settings, fake, storage=storage).run().outcomes
    assert outcome.status == "present" and outcome.sha256 == stored_sha and outcome.object_key == video_key(tid(8))
    assert len(storage.list("training/videos/")) == 1  # no second object for the same video
    assert corpus.entries()[0].video is not None and corpus.entries()[0].video.sha256 == stored_sha


def test_deleted_object_is_fetched_again(corpus: Corpus, settings: Settings) -> None:
    _add(corpus, TT.format(tid(1)))
    storage = LocalStorage(settings.workspace / "storage")
    fake = FakeDownloader(generate=True)
    _ingestor(corpus, settings, fake, storage=storage).run()
    storage.path(video_key(tid(1))).unlink()
    [outcome] = _ingestor(corpus, settings, fake, storage=storage).run().outcomes
    assert outcome.status == "ok" and fake.calls[f"tiktok:{tid(1)}"] == 2
    assert storage.exists(video_key(tid(1)))


def test_switching_storage_copies_into_the_new_backend(corpus: Corpus, settings: Settings) -> None:
    _add(corpus, TT.format(tid(1)))
    fake = FakeDownloader(generate=True)
    _ingestor(corpus, settings, fake, storage=LocalStorage(settings.workspace / "a")).run()
    new = LocalStorage(settings.workspace / "b")
    [outcome] = _ingestor(corpus, settings, fake, storage=new).run().outcomes
    assert outcome.status == "ok" and new.exists(video_key(tid(1)))
    assert corpus.entries()[0].video is not None and corpus.entries()[0].video.uri == new.uri(video_key(tid(1)))


def test_bounded_concurrency(corpus: Corpus, settings: Settings) -> None:
    class Tracking(FakeDownloader):
        active = peak = 0
        lock = threading.Lock()

        def download(self, source: SourceRef, dest_dir: Path) -> Download:
            with self.lock:
                type(self).active += 1
                type(self).peak = max(self.peak, self.active)
            try:
                time.sleep(0.05)
                return super().download(source, dest_dir)
            finally:
                with self.lock:
                    type(self).active -= 1

    _add(corpus, *[TT.format(tid(n)) for n in range(9)])
    report = _ingestor(corpus, settings, Tracking(generate=True), concurrency=3).run()
    assert report.counts["ok"] == 9 and Tracking.peak == 3


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_temp_files_of_crashed_runs_are_swept(corpus: Corpus, settings: Settings) -> None:
    storage = LocalStorage(settings.workspace / "storage")
    ingestor = _ingestor(corpus, settings, FakeDownloader(generate=True), storage=storage)
    stale = ingestor.tmp_root / f"run-{_dead_pid()}-abc123" / "00001-1"
    stale.mkdir(parents=True)
    (stale / "video.mp4.part").write_bytes(b"half")
    upload_tmp = storage.root / "training/videos" / f".x.mp4.{_dead_pid()}.0a0b.upload.tmp"
    upload_tmp.parent.mkdir(parents=True)
    upload_tmp.write_bytes(b"half")
    _add(corpus, TT.format(tid(1)))
    assert ingestor.run().counts["ok"] == 1
    assert list(ingestor.tmp_root.iterdir()) == []  # the stale run and our own run directory are gone
    assert not upload_tmp.exists()


def test_progress_events_and_report_json(corpus: Corpus, settings: Settings, tmp_path: Path) -> None:
    urls = [TT.format(tid(n)) for n in range(4)]
    _add(corpus, *urls)
    events: list[IngestProgress] = []
    fake = FakeDownloader(generate=True, errors={urls[2]: [PermanentSourceError("x", category="geo")]})
    report = _ingestor(corpus, settings, fake, progress=events.append).run()
    assert [e.completed for e in events] == [0, 1, 2, 3, 4]
    assert {e.total for e in events} == {4} and events[0].outcome is None
    assert {e.outcome.url for e in events[1:] if e.outcome} == set(urls)
    path = report.save_json(tmp_path / "out" / "ingest.json")
    data = json.loads(path.read_text())
    assert data["counts"] == {"ok": 3, "present": 0, "failed": 1}
    assert data["sources"][2]["category"] == "geo" and data["sources"][2]["hint"]
    assert [p.name for p in path.parent.iterdir()] == ["ingest.json"]  # no temp file beside it
    loaded = IngestReport.load_json(path)
    assert loaded.counts == report.counts and loaded.outcomes == report.outcomes
    assert "3 stored" in report.summary() and "1 failed" in report.summary()


def test_stop_before_start_fails_sources_without_downloading(corpus: Corpus, settings: Settings) -> None:
    _add(corpus, TT.format(tid(1)))
    fake = FakeDownloader(generate=True)
    ingestor = _ingestor(corpus, settings, fake)
    original = ingestor._items

    def items_then_stop(**kw: Any) -> Any:
        out = original(**kw)
        ingestor.stop()
        return out

    ingestor._items = items_then_stop  # type: ignore[method-assign]
    [outcome] = ingestor.run().outcomes
    assert outcome.status == "failed" and "stopped" in (outcome.message or "")
    assert sum(fake.calls.values()) == 0


def test_default_storage_comes_from_settings(corpus: Corpus, settings: Settings) -> None:
    ingestor = Ingestor(corpus, settings=settings, downloader=FakeDownloader())
    assert isinstance(ingestor.storage, LocalStorage)
    assert ingestor.storage.root == (settings.workspace / "storage").resolve()
    assert ingestor.concurrency == settings.download_concurrency
    assert ingestor.tmp_root == settings.workspace / "tmp" / "ingest"
    with pytest.raises(StorageError):
        ingestor.storage.open_read("training/videos/none.mp4")
    assert has_database(settings.workspace)


def test_ingest_layers_import_light() -> None:
    code = (
        "import sys, json; import humortune, humortune.ingest, humortune.sources, humortune.storage, "
        "humortune.cli.ingest; humortune.Ingestor; humortune.IngestReport; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('yt_dlp', 'av', 'google.cloud.storage')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_a_postgresql_corpus_without_settings_downloads_into_the_workspace(postgres: PostgresServer) -> None:
    # the corpus's "path" is its redacted URL there: its parent is no directory to download into
    with postgres.migrated_schema() as url, Corpus.open(url) as corpus:
        ingestor = Ingestor(corpus)
        assert ingestor.tmp_root == Settings().workspace / "tmp" / "ingest"


class _RefusingDownloader:
    def download(self, source: SourceRef, dest_dir: Path) -> Download:
        raise PermanentSourceError("removed", item=source.url, category="removed")


def test_a_run_holds_little_memory_per_source(tmp_path: Path, settings: Settings) -> None:
    """100k sources must fit: no whole corrections and no future per source held for the run (issue 13)."""
    import tracemalloc

    battery = tmp_path / "battery.json"
    texts = [{"video_url": TT.format(tid(i)), "human_said": "Det roliga är vändningen. " * 8} for i in range(800)]
    battery.write_text(json.dumps(texts), "utf-8")
    corpus = Corpus.open(settings=settings)
    corpus.import_battery(battery)
    ingestor = _ingestor(corpus, settings, _RefusingDownloader(), concurrency=2)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        report = ingestor.run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        corpus.close()
    assert report.counts["failed"] == 800
    assert (peak - before) / 800 < 3000  # bytes per source; whole entries and queued futures took > 4.5 KB
