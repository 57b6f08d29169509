"""A later correction of an already-stored clip is linked to the stored video (issue 15, item 1)."""

from __future__ import annotations

from humortune.ingest import Ingestor
from humortune.schema import Correction
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.sources import FakeDownloader
from humortune.workspace import Corpus

URL = "https://www.tiktok.com/@kocken/video/7300000000000000001"


def _run(corpus: Corpus, settings: Settings, fake: FakeDownloader) -> dict[str, int]:
    storage = LocalStorage(settings.workspace / "storage")
    return Ingestor(corpus, storage, downloader=fake, settings=settings, backoff_s=0.0).run().counts


def test_a_later_correction_of_a_stored_clip_is_linked(corpus: Corpus, settings: Settings) -> None:
    fake = FakeDownloader(generate=True)
    corpus.add_correction(Correction(id="first", video_url=URL, human_said="första ordet"))
    assert _run(corpus, settings, fake) == {"ok": 1, "present": 0, "failed": 0}
    corpus.add_correction(Correction(id="later", video_url=URL, human_said="ägarens senare ord"))
    # A workspace written before the fix holds such unlinked corrections: the next ingest links them.
    corpus.db.execute("UPDATE corrections SET video_sha256 = NULL WHERE id = 'later'")
    assert corpus.status()["corrections_without_video"] == 1
    assert _run(corpus, settings, fake) == {"ok": 0, "present": 1, "failed": 0}
    assert corpus.status()["corrections_without_video"] == 0
    entries = {e.correction.id: e for e in corpus.entries()}
    assert entries["later"].video is not None
    assert entries["later"].video == entries["first"].video
    assert sum(fake.calls.values()) == 1  # linked without a second download


def test_the_linked_correction_need_not_be_the_oldest(corpus: Corpus, settings: Settings) -> None:
    """An older-dated correction imported after the ingest is linked too (whichever came first)."""
    fake = FakeDownloader(generate=True)
    later = Correction(id="newer", video_url=URL, human_said="b")
    corpus.add_correction(later)
    _run(corpus, settings, fake)
    older = Correction(id="older", video_url=URL, human_said="a", created_at=later.created_at.replace(year=2020))
    corpus.add_correction(older)
    _run(corpus, settings, fake)
    assert corpus.status()["corrections_without_video"] == 0
    assert sum(fake.calls.values()) == 1


def test_a_correction_imported_after_its_clip_was_stored_is_linked_at_import(
    corpus: Corpus, settings: Settings
) -> None:
    """No ingest needed in between: `build` sees the later correction right away (the owner's latest word)."""
    corpus.add_correction(Correction(id="first", video_url=URL, human_said="första ordet"))
    _run(corpus, settings, FakeDownloader(generate=True))
    short = "https://m.tiktok.com/v/7300000000000000001.html"  # another spelling of the same clip
    assert corpus.add_correction(Correction(id="later", video_url=short, human_said="senare")) == "added"
    assert corpus.status()["corrections_without_video"] == 0
    entries = {e.correction.id: e for e in corpus.entries()}
    assert entries["later"].video == entries["first"].video is not None
