"""VideoStore and IngestStatusStore against a real workspace file."""

from __future__ import annotations

from humortune.workspace import Corpus
from humortune.workspace.stores import IngestState, IngestStatusStore, VideoStore
from tests._workspace_support import add_clip, sha


def test_lookups_by_hash_uri_and_source(corpus: Corpus) -> None:
    add_clip(corpus, 1)
    add_clip(corpus, 2)
    store = VideoStore(corpus.db)
    video = store.get(sha(1))
    assert video is not None and video == corpus.video(sha(1))
    assert store.exists(sha(1)) and not store.exists(sha(9))
    assert store.by_uri(video.uri) == video
    assert store.by_uri("gs://nowhere/x.mp4") is None
    assert store.by_source_id("7300000000000000002") == corpus.video(sha(2))
    facts = store.facts()
    assert set(facts) == {video.uri, f"file:///videos/{sha(2)}.mp4"}
    assert (facts[video.uri].size_bytes, facts[video.uri].has_audio) == (video.size_bytes, video.has_audio)


def test_ingest_status_accumulates_attempts_and_clears_failures(corpus: Corpus) -> None:
    store = IngestStatusStore(corpus.db)
    store.record(IngestState(video_key="tiktok:1", status="failed", category="network", message="m", attempts=2))
    store.record(IngestState(video_key="tiktok:2", status="ok", attempts=1))
    assert store.failed_keys() == {"tiktok:1"}
    store.record(IngestState(video_key="tiktok:1", status="ok", category="ignored", message="ignored", attempts=1))
    got = store.get("tiktok:1")
    assert got is not None
    assert (got.status, got.category, got.message, got.attempts) == ("ok", None, None, 3)
    assert store.failed_keys() == set()
    assert store.get("tiktok:9") is None


def test_many_finds_the_stored_ones_across_query_chunks(corpus: Corpus) -> None:
    for n in (1, 2):
        add_clip(corpus, n)
    asked = [sha(1), sha(2), *(sha(100 + i) for i in range(600))]  # more hashes than one query binds
    found = VideoStore(corpus.db).many(asked)
    assert found == {sha(1): corpus.video(sha(1)), sha(2): corpus.video(sha(2))}
    assert VideoStore(corpus.db).many([]) == {}
