"""CorrectionStore reads for the dataset builder and the retrain policy, with parity against today's queries."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest

from humortune.dataset.registry import load_sources
from humortune.errors import CorpusError
from humortune.feedback.niches import niche_counts
from humortune.schema import Correction, utcnow
from humortune.workspace import Corpus
from humortune.workspace.stores import CorrectionStore, DatasetExample, DatasetRecord, DatasetStore
from tests._feedback_support import RECORD
from tests._workspace_support import add_clip, sha


def test_sources_match_the_dataset_registry(corpus: Corpus) -> None:
    add_clip(corpus, 1, niche="gym")
    add_clip(corpus, 2, niche="food")
    add_clip(corpus, 3, ingested=False)
    store = CorrectionStore(corpus.db)
    for niche in (None, "gym"):
        ours = [asdict(s) for s in store.sources(niche=niche)]
        theirs = [
            {
                "correction_id": r.correction_id,
                "video_key": r.video_key,
                "human_said": r.human_said,
                "record_json": r.record_json,
                "niche": r.niche,
                "video_sha256": r.video_sha256,
                "video_uri": r.video_uri,
                "mime": r.mime,
                "size_bytes": r.size_bytes,
                "duration_s": r.duration_s,
                "has_audio": r.has_audio,
                "updated_at": r.updated_at,
            }
            for r in load_sources(corpus, niche=niche)
        ]
        assert ours == theirs
    assert [s.video_sha256 for s in store.sources()] == [sha(1), sha(2), None]


def test_sources_come_in_code_point_order_of_their_ids_not_insertion_order(corpus: Corpus) -> None:
    ids = ["c_2", "c1", "C", "c", "c-1", "b9"]  # inserted out of order; "_" < "1" only under some collations
    for n, cid in enumerate(ids, start=1):
        add_clip(corpus, n, cid=cid, ingested=n % 2 == 1)
    sources = CorrectionStore(corpus.db).sources()
    assert [s.correction_id for s in sources] == sorted(ids) == ["C", "b9", "c", "c-1", "c1", "c_2"]
    assert [s.video_sha256 is not None for s in sources] == [True, False, False, True, False, True]


@pytest.mark.parametrize(
    "changes",
    [{"human_said": "Ägaren\x00"}, {"record": {**RECORD, "summary": "a\x00b"}}, {"tags": [{"k": "\x00"}]}],
    ids=["text", "record", "extra field"],
)
def test_a_nul_in_a_correction_is_refused_naming_it(corpus: Corpus, changes: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"id": "c-nul", "video_url": "https://www.tiktok.com/@a/video/7001", "human_said": "h"}
    correction = Correction(**{**fields, **changes})
    with pytest.raises(CorpusError, match="NUL character") as excinfo:
        corpus.add_correction(correction)
    assert excinfo.value.item == "c-nul" and "\n" not in str(excinfo.value)
    assert corpus.correction("c-nul") is None  # nothing written
    corpus.add_correction(Correction(id="c-ok", video_url="https://www.tiktok.com/@a/video/7001", human_said="\\u0000"))
    assert corpus.correction("c-ok") is not None  # a literal backslash-u0000 is plain text


def test_niche_counts_match_the_niche_router(corpus: Corpus) -> None:
    add_clip(corpus, 1, niche="gym")
    add_clip(corpus, 2, niche="gym", ingested=False)
    add_clip(corpus, 3, niche="food")
    ours = {c.niche: (c.corrections, c.usable) for c in CorrectionStore(corpus.db).niche_counts()}
    assert ours == niche_counts(corpus)
    assert list(ours) == list(niche_counts(corpus))  # same order: most usable first


def test_count_usable_and_new_since_a_dataset(corpus: Corpus) -> None:
    for n in (1, 2, 3):
        add_clip(corpus, n, niche="gym" if n < 3 else "food")
    add_clip(corpus, 4, ingested=False)
    store = CorrectionStore(corpus.db)
    assert store.count_usable() == 3
    assert store.count_usable(niche="gym") == 2
    DatasetStore(corpus.db).save(
        DatasetRecord(
            id="ds-a",
            created_at=utcnow() + timedelta(seconds=5),  # built after every correction so far
            prompt_version="p",
            target_format="narrative",
            media_resolution="LOW",
            storage_prefix="file:///ds",
        ),
        [DatasetExample(correction_id="c1", video_sha256=sha(1), split="train", row_hash="r")],
        new_splits={},
        moved_splits={},
        seed="s",
    )
    assert store.count_usable(outside_dataset="ds-a") == 2  # c2 and c3 are not in it
    assert store.count_usable(niche="gym", outside_dataset="ds-a") == 1
    assert store.count_usable(outside_dataset="ds-unknown") == 3
