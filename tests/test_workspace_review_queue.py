"""The review queue's store alone: the TEMP table is filled, refreshed per clip, counted and paged in order."""

from __future__ import annotations

import pytest

from humortune.schema import VideoAsset
from humortune.workspace import Corpus, Stores
from humortune.workspace.stores import ReviewEvent
from humortune.workspace.stores.review_queue import QueueScope, ReviewQueueStore
from tests._feedback_support import RECORD, add_analysis, add_correction

TUNED = "projects/p/locations/us-central1/models/7@1"
BASE = "gemini-2.5-flash"


def _video(corpus: Corpus, n: int) -> VideoAsset:
    sha = f"{n:064x}"
    asset = VideoAsset(
        sha256=sha,
        source_id=sha,
        size_bytes=1,
        duration_s=1.0,
        width=160,
        height=284,
        codec="h264",
        fps=12.0,
        has_audio=True,
        uri=f"file:///v/{n}.mp4",
    )
    corpus.add_video(asset)
    return asset


@pytest.fixture
def world(corpus: Corpus) -> tuple[Corpus, list[VideoAsset], list[str]]:
    videos = [_video(corpus, n) for n in range(3)]
    add_correction(corpus, 0, videos[0], record=RECORD)
    ids = [
        # clip 0: the tuned model disagrees with the owner's record → rank 0 (disagreement)
        add_analysis(corpus, videos[0], TUNED, record={**RECORD, "quality": "weak"}, minutes_ago=3),
        add_analysis(corpus, videos[1], TUNED, record=RECORD, minutes_ago=2),  # new
        add_analysis(corpus, videos[2], BASE, record=RECORD, minutes_ago=1),  # new, a base model's
    ]
    return corpus, videos, ids


def test_fill_counts_per_rank_and_pages_in_queue_order(world: tuple[Corpus, list[VideoAsset], list[str]]) -> None:
    corpus, videos, ids = world
    table = ReviewQueueStore(corpus.db, low_score=0.5)
    assert table.counts(QueueScope()) == {0: 1, 2: 2}
    rows = table.items(QueueScope(), limit=10)
    assert [r.id for r in rows] == [ids[0], ids[2], ids[1]]  # rank first, then newest first
    assert [r.rank for r in rows] == [0, 2, 2] and rows[0].clip == videos[0].sha256
    assert table.items(QueueScope(rank=2), limit=1, offset=1)[0].id == ids[1]
    assert table.page_clips(QueueScope(), limit=2, offset=0) == [videos[0].sha256, videos[2].sha256]
    assert table.clip_count(QueueScope(tuned_only=True)) == 2
    assert table.hidden_base(QueueScope(tuned_only=True)) == 1
    assert [r.id for r in table.clip_items(QueueScope(), [videos[1].sha256])] == [ids[1]]


def test_refresh_drops_a_reviewed_clip(
    world: tuple[Corpus, list[VideoAsset], list[str]],
) -> None:
    corpus, _, ids = world
    table = ReviewQueueStore(corpus.db, low_score=0.5)
    table.ensure()
    assert table.built is not None
    with corpus.db.transaction():
        Stores.of(corpus.db).reviews.append(ReviewEvent(analysis_id=ids[0], action="skip"))
        table.refresh(ids[0])
        table.built = table.signature()
    assert [r.id for r in table.items(QueueScope(), limit=10)] == [ids[2], ids[1]]
    assert table.counts(QueueScope()) == {2: 2}


def test_two_queues_do_not_share_a_table(world: tuple[Corpus, list[VideoAsset], list[str]]) -> None:
    corpus, _, ids = world
    first, second = ReviewQueueStore(corpus.db, low_score=0.5), ReviewQueueStore(corpus.db, low_score=0.5)
    first.ensure()
    with corpus.db.transaction():
        Stores.of(corpus.db).reviews.append(ReviewEvent(analysis_id=ids[1], action="skip"))
        first.refresh(ids[1])
        first.built = first.signature()
    assert len(first.items(QueueScope(), limit=10)) == 2
    assert len(second.items(QueueScope(), limit=10)) == 2  # built fresh, sees the review too
    assert {r.id for r in second.items(QueueScope(), limit=10)} == {ids[0], ids[2]}
