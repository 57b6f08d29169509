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


def test_not_analysed_by_lists_stored_clips_a_model_has_not_seen(corpus: Corpus) -> None:
    from humortune.schema import Analysis
    from humortune.workspace.stores import AnalysisStore

    for n in range(3):
        add_clip(corpus, n)
    AnalysisStore(corpus.db).put(
        Analysis(id="an-1", video_sha256=sha(1), video_uri="file:///v", narrative="n", model="m", prompt_version="p")
    )
    videos = VideoStore(corpus.db)
    assert videos.not_analysed_by("m") == [(sha(2), "7300000000000000002"), (sha(0), "7300000000000000000")]
    assert [s for s, _ in videos.not_analysed_by("other", limit=2)] == [sha(2), sha(1)]  # newest stored first
