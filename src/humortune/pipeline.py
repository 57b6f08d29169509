"""The main job, ``prepare``: from a battery file to a tuning-ready dataset, every step resumable.

Steps, each idempotent so a rerun does only the missing work:

1. import the battery into the corpus;
2. ingest every correction's video into storage (sources → probe → storage);
3. build, validate and price the dataset version (train/validation/test JSONL beside the videos).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from humortune.settings import Settings
from humortune.workspace import Corpus, ImportReport

if TYPE_CHECKING:
    from humortune.ingest import IngestReport, ProgressCallback
    from humortune.sources import Downloader
    from humortune.storage import Storage

__all__ = ["PrepareResult", "prepare"]


@dataclass
class PrepareResult:
    """What each step of `prepare` did."""

    imported: ImportReport
    ingested: IngestReport | None = None
    """Step 2: per-source ingest outcomes (``None`` when ingest was skipped)."""


def prepare(
    battery: str | Path,
    *,
    settings: Settings | None = None,
    corpus: Corpus | None = None,
    strict: bool = False,
    ingest: bool = True,
    storage: Storage | None = None,
    downloader: Downloader | None = None,
    ingest_progress: ProgressCallback | None = None,
) -> PrepareResult:
    """Run the main job on a battery file. Opens the workspace's corpus unless one is given.

    Ingest uses ``storage`` (default: ``settings.storage_uri``) and ``downloader`` (default: yt-dlp);
    ``ingest_progress`` receives its progress events.
    """
    settings = settings or Settings()
    own = corpus is None
    corpus = corpus or Corpus.open(settings=settings)
    try:
        imported = corpus.import_battery(battery, strict=strict)
        ingested = None
        if ingest:
            from humortune.ingest import Ingestor  # loads the sources and storage layers only when used

            ingested = Ingestor(
                corpus, storage, settings=settings, downloader=downloader, progress=ingest_progress
            ).run()
        return PrepareResult(imported=imported, ingested=ingested)
    finally:
        if own:
            corpus.close()
