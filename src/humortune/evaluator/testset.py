"""Which clips an evaluation runs on: the frozen held-out test split, never training clips.

`select_test_set` accepts what a caller may have at hand — nothing (the newest dataset version's test
split, else the recorded ``split_assignments``), a `DatasetVersion` or its id, ``"all"`` (every
correction: loudly not held out), or explicit entries / correction ids — and returns the entries with a
stored video. Clips it cannot evaluate are listed in ``skipped`` with the reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from humortune.errors import EvaluationError
from humortune.schema import Correction, DatasetVersion
from humortune.workspace import Corpus, Entry, Stores

__all__ = ["TestSet", "TestSetSpec", "select_test_set"]

TestSetSpec = DatasetVersion | str | Sequence[Entry] | Sequence[Correction] | Sequence[str] | None
"""``None``, a dataset version (or its id), ``"all"``, ``"test"``, entries, corrections or correction ids."""


@dataclass(slots=True)
class TestSet:
    """The clips to evaluate, where they came from, and the ones that had to be skipped (with why)."""

    __test__ = False  # not a pytest class

    entries: list[Entry]
    source: str
    dataset_id: str | None = None
    niche: str | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "dataset_id": self.dataset_id,
            "niche": self.niche,
            "n": len(self.entries),
            "skipped": [{"correction_id": c, "reason": r} for c, r in self.skipped],
            "warnings": list(self.warnings),
        }


def _dataset_test_ids(corpus: Corpus, dataset_id: str) -> list[str]:
    return [e.correction_id for e in Stores.of(corpus.db).datasets.examples(dataset_id, split="test")]


def _assigned_test_keys(corpus: Corpus) -> set[str]:
    return set(Stores.of(corpus.db).datasets.keys_in("test"))


def _latest_dataset(corpus: Corpus, niche: str | None) -> str | None:
    for record in Stores.of(corpus.db).datasets.all():
        if (niche is None or record.niche in (None, niche)) and _dataset_test_ids(corpus, record.id):
            return record.id
    return None


def select_test_set(corpus: Corpus, on: TestSetSpec = None, *, niche: str | None = None) -> TestSet:
    """Resolve ``on`` to the held-out clips to evaluate (optionally only one niche's)."""
    entries = corpus.entries()
    by_id = {e.correction.id: e for e in entries}
    chosen: list[Entry]
    warnings: list[str] = []
    dataset_id: str | None = None
    if isinstance(on, DatasetVersion) or (isinstance(on, str) and on not in ("all", "test")):
        dataset_id = on.id if isinstance(on, DatasetVersion) else on
        ids = _dataset_test_ids(corpus, dataset_id)
        if not ids:
            raise EvaluationError(
                f"dataset version {dataset_id!r} has no held-out test clips",
                hint="build a dataset with a test split (humortune prepare), or pass --on test (Python: on='test')",
                item=dataset_id,
            )
        chosen = [by_id[i] for i in ids if i in by_id]
        source = f"test split of dataset {dataset_id}"
    elif on == "all":
        chosen = list(entries)
        source = "all corrections"
        warnings.append(
            "evaluated on every correction, including clips the model may have been trained on: "
            "this is not a held-out estimate"
        )
    elif on is None or on == "test":
        dataset_id = _latest_dataset(corpus, niche) if on is None else None
        if dataset_id is not None:
            wanted = set(_dataset_test_ids(corpus, dataset_id))
            chosen = [e for e in entries if e.correction.id in wanted]
            source = f"test split of dataset {dataset_id}"
        else:
            keys = _assigned_test_keys(corpus)
            if not keys:
                raise EvaluationError(
                    "there is no held-out test split yet",
                    hint="build a dataset first (humortune prepare), or pass --on all (Python: on='all') "
                    "knowing it is not held out",
                )
            chosen = [e for e in entries if e.video_key in keys]
            source = "held-out test split (split_assignments)"
    else:
        chosen = []
        for item in on:
            if isinstance(item, Entry):
                chosen.append(item)
            else:
                key = item.id if isinstance(item, Correction) else str(item)
                if key not in by_id:
                    raise EvaluationError(f"no correction {key!r} in the corpus", item=key)
                chosen.append(by_id[key])
        source = "given clips"
    if niche is not None:
        chosen = [e for e in chosen if e.correction.niche == niche]
    ready = [e for e in chosen if e.video is not None]
    skipped = [(e.correction.id, "no stored video: run ingest first") for e in chosen if e.video is None]
    if skipped:
        warnings.append(f"{len(skipped)} held-out clip(s) have no stored video and were not evaluated")
    return TestSet(ready, source, dataset_id, niche, skipped, warnings)
