"""AnalysisStore against a real workspace file, and parity with the analyzer's cache."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from humortune.analyzer.cache import AnalysisCache, analysis_id
from humortune.schema import Analysis, TokenUsage, utcnow
from humortune.workspace import Corpus, Stores
from humortune.workspace.stores import AnalysisStore, LabelStore
from tests._workspace_support import record, sha


def _analysis(n: int, model: str, *, age_s: int = 0, prompt: str = "p-1", mode: str = "two-stage") -> Analysis:
    video = sha(n)
    return Analysis(
        id=analysis_id(video_sha256=video, video_uri=f"file:///{n}.mp4", model=model, prompt_version=prompt, mode=mode),
        video_sha256=video,
        video_uri=f"file:///{n}.mp4",
        narrative=f"{model} om {n}",
        record=record(),
        model=model,
        record_model="gemini-2.5-flash",
        prompt_version=prompt,
        mode=mode,  # type: ignore[arg-type]
        usage=TokenUsage(prompt_tokens=10, output_tokens=5, total_tokens=15),
        latency_s=0.25,
        cost_usd=0.001,
        warnings=["kort"],
        created_at=utcnow() - timedelta(seconds=age_s),
    )


def test_put_then_get_round_trips_every_field(corpus: Corpus) -> None:
    store = AnalysisStore(corpus.db)
    a = _analysis(1, "m1")
    store.put(a)
    assert store.get(a.id or "") == a
    assert store.count() == 1
    store.put(a.model_copy(update={"narrative": "nyare"}))
    assert store.count() == 1  # same key, same id: refreshed in place
    again = store.get(a.id or "")
    assert again is not None and again.narrative == "nyare"


def test_put_refuses_an_analysis_without_its_id(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match="needs its id"):
        AnalysisStore(corpus.db).put(_analysis(1, "m1").model_copy(update={"id": None}))


def test_recent_answers_and_models(corpus: Corpus) -> None:
    store = AnalysisStore(corpus.db)
    store.put(_analysis(1, "m1", age_s=30))
    store.put(_analysis(2, "m1", age_s=20))
    store.put(_analysis(1, "m2", age_s=10))
    store.put(_analysis(3, "m1", prompt="p-2"))
    assert [a.video_sha256 for a in store.recent(model="m1")] == [sha(3), sha(2), sha(1)]
    assert [a.model for a in store.recent(video_sha256=sha(1))] == ["m2", "m1"]
    assert len(store.recent(limit=2)) == 2
    assert [a.video_sha256 for a in store.answers("m1", prompt_version="p-1", mode="two-stage")] == [sha(1), sha(2)]
    assert store.answers("m1", prompt_version="p-1", mode="single") == []
    assert store.models() == ["m1", "m2"]


def test_pairs_and_the_unjudged_ones(corpus: Corpus) -> None:
    store = AnalysisStore(corpus.db)
    for n in (1, 2):
        store.put(_analysis(n, "ma", age_s=10 * n))
        store.put(_analysis(n, "mb", age_s=5 * n))
    store.put(_analysis(3, "ma"))  # only one model saw clip 3
    assert store.latest_shared_models() == ("ma", "mb")
    assert [p.video_sha256 for p in store.pairs("ma", "mb")] == sorted([sha(1), sha(2)])
    pending = store.unjudged_pairs("ma", "mb", pair_key="ma|mb")
    assert [p.video_sha256 for p in pending] == [sha(1), sha(2)]  # newest first
    LabelStore(corpus.db).add("pairwise", {"pair_key": "ma|mb", "winner": "ma"}, video_sha256=sha(1))
    assert [p.video_sha256 for p in store.unjudged_pairs("ma", "mb", pair_key="ma|mb")] == [sha(2)]
    assert store.unjudged_pairs("ma", "mb", pair_key="ma|mb", exclude=sha(2)) == []
    assert len(store.unjudged_pairs("ma", "mb", pair_key="other")) == 2


def test_no_shared_models_without_two_models_on_one_clip(corpus: Corpus) -> None:
    store = AnalysisStore(corpus.db)
    store.put(_analysis(1, "ma"))
    store.put(_analysis(2, "mb"))
    assert store.latest_shared_models() is None


def test_store_and_analyzer_cache_read_each_other(corpus: Corpus) -> None:
    store, cache = AnalysisStore(corpus.db), AnalysisCache(corpus.db)
    stored = cache.put(_analysis(1, "m1").model_copy(update={"id": None}))
    assert store.get(stored.id or "") == stored
    mine = _analysis(2, "m1")
    store.put(mine)
    assert cache.by_id(mine.id or "") == mine
    assert store.recent() == cache.list()


def test_the_analysis_id_rule_lives_with_the_table_and_the_cache_re_exports_it() -> None:
    from humortune.analyzer import cache
    from humortune.workspace.stores import analyses

    assert cache.analysis_id is analyses.analysis_id
    key = {"video_uri": "gs://b/v.mp4", "model": "m", "prompt_version": "p-1", "mode": "full"}
    by_hash = analyses.analysis_id(video_sha256="ab" * 32, **key)
    assert by_hash.startswith("an-") and len(by_hash) == 19
    assert by_hash != analyses.analysis_id(video_sha256=None, **key)  # unknown content: keyed by URI


def test_answers_keep_an_analysis_whose_record_no_longer_validates(tmp_path: Path) -> None:
    from humortune.workspace.stores.analyses import STALE_RECORD

    with Corpus.open(tmp_path / "c.sqlite") as corpus:
        stores = Stores.of(corpus.db)
        stores.analyses.put(
            Analysis(id="an-old", video_uri="file:///v.mp4", narrative="n", model="m", prompt_version="p")
        )
        corpus.db.execute("UPDATE analyses SET record_json = '{\"summary\": 1}' WHERE id = 'an-old'")
        (found,) = stores.analyses.answers("m", prompt_version="p", mode="two-stage")
        assert found.narrative == "n" and found.record is None and STALE_RECORD in found.warnings
        with pytest.raises(ValidationError):
            stores.analyses.get("an-old")  # strict readers still refuse it
