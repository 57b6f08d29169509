"""The main job, ``prepare``: from a battery file to a tuning-ready dataset, every step resumable.

Steps, each idempotent so a rerun does only the missing work:

1. import the battery into the corpus;
2. ingest every correction's video into storage (sources → probe → storage);
3. build, validate and price the dataset version (train/validation/test JSONL beside the videos).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from humortune.settings import Settings
from humortune.workspace import Corpus, ImportReport

__all__ = ["PrepareResult", "prepare"]


@dataclass
class PrepareResult:
    """What each step of `prepare` did."""

    imported: ImportReport


def prepare(
    battery: str | Path,
    *,
    settings: Settings | None = None,
    corpus: Corpus | None = None,
    strict: bool = False,
) -> PrepareResult:
    """Run the main job on a battery file. Opens the workspace's corpus unless one is given."""
    settings = settings or Settings()
    own = corpus is None
    corpus = corpus or Corpus.open(settings=settings)
    try:
        imported = corpus.import_battery(battery, strict=strict)
        return PrepareResult(imported=imported)
    finally:
        if own:
            corpus.close()
