"""The main job, ``prepare``: from a battery file to a tuning-ready dataset, every step resumable.

Steps, each idempotent so a rerun does only the missing work:

1. import the battery into the corpus;
2. ingest every correction's video into storage (sources → probe → storage);
3. build, validate and price the dataset version (train/validation/test JSONL beside the videos), and
   preview the exact tuning request ``humortune tune`` would send for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humortune.dataset.split import DEFAULT_SPLIT
from humortune.errors import HumortuneError
from humortune.schema import TargetFormat
from humortune.settings import Settings
from humortune.workspace import Corpus, ImportReport

if TYPE_CHECKING:
    from humortune.dataset import BuildResult
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
    dataset: BuildResult | None = None
    """Step 3: the dataset version built, validated and priced (``None`` when the build was skipped or failed)."""
    dataset_error: HumortuneError | None = None
    """Why step 3 failed, when `prepare` was asked not to raise (``raise_dataset_errors=False``)."""
    request: dict[str, Any] | None = None
    """The REST body `humortune tune` would POST for the dataset (nothing is sent)."""
    request_error: str | None = None
    """Why there is no request preview (e.g. a tuner setting it refuses), if there is none."""


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
    build: bool = True,
    split: Sequence[float] = DEFAULT_SPLIT,
    target_format: TargetFormat = "narrative",
    drop_invalid: bool = False,
    raise_dataset_errors: bool = True,
) -> PrepareResult:
    """Run the main job on a battery file. Opens the workspace's corpus unless one is given.

    Ingest uses ``storage`` (default: ``settings.storage_uri``) and ``downloader`` (default: yt-dlp);
    ``ingest_progress`` receives its progress events. The build (``split``, ``target_format``,
    ``drop_invalid``: see `humortune.dataset.DatasetBuilder.run`) uses the same storage; corrections whose
    video failed to ingest are left out and listed. A dataset that breaks Vertex's rules raises
    `humortune.errors.DatasetValidationError`, or is reported in `PrepareResult.dataset_error` when
    ``raise_dataset_errors`` is false (the CLI prints the import and ingest reports first).
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
        result = PrepareResult(imported=imported, ingested=ingested)
        if build:
            _build(result, corpus, settings, storage, split, target_format, drop_invalid, raise_dataset_errors)
        return result
    finally:
        if own:
            corpus.close()


def _build(
    result: PrepareResult,
    corpus: Corpus,
    settings: Settings,
    storage: Storage | None,
    split: Sequence[float],
    target_format: TargetFormat,
    drop_invalid: bool,
    raise_errors: bool,
) -> None:
    """Step 3: build → validate → estimate, then the request preview (dataset layer; loads only when used)."""
    from humortune.dataset import DatasetBuilder
    from humortune.tuner.request import tuning_request_preview

    try:
        result.dataset = DatasetBuilder(corpus, storage, settings=settings).run(
            split=split, target_format=target_format, drop_invalid=drop_invalid
        )
    except HumortuneError as exc:
        if raise_errors:
            raise
        result.dataset_error = exc
        return
    try:
        result.request = tuning_request_preview(result.dataset.version, settings, corpus=corpus)
    except HumortuneError as exc:  # the dataset stands; only the preview is missing
        result.request_error = str(exc)
