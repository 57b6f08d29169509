"""Model resolution (aliases → models, endpoints, base models), the analysis cache and the rate limiter."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from humortune.analyzer.cache import AnalysisCache, analysis_id
from humortune.analyzer.cost import estimate_cost
from humortune.analyzer.ratelimit import TokenBucket
from humortune.analyzer.resolve import endpoint_location, prompt_for_version, resolve_model
from humortune.errors import AnalysisError, ModelNotFoundError
from humortune.prompts import DEFAULT_PROMPT, Prompt
from humortune.schema import Analysis, HumorRecord, TokenUsage, TunedModel
from humortune.workspace import Corpus, Stores
from humortune.workspace.stores.prompts import StoredPrompt

ENDPOINT = "projects/demo-proj/locations/us-central1/endpoints/789"
MODEL_ID = "projects/demo-proj/locations/us-central1/models/456@1"
NOW = "2026-11-25T12:00:00+00:00"
CUSTOM = Prompt("Analysera klippet som ägaren skulle.", "Svara på svenska.")


def register(corpus: Corpus, *, alias: str | None = "current", dataset: bool = True) -> None:
    """Rows as the tuner and dataset layers write them."""
    db = corpus.db
    if dataset:
        db.execute(
            "INSERT INTO dataset_versions (id, created_at, prompt_version, target_format, media_resolution,"
            " settings_json, manifest_json, valid, storage_prefix) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
            (
                "ds-1",
                NOW,
                CUSTOM.version,
                "narrative+record",
                "MEDIA_RESOLUTION_MEDIUM",
                json.dumps({"prompt": {"text": CUSTOM.text, "system_instruction": CUSTOM.system_instruction}}),
                "{}",
                "gs://b/training/datasets/ds-1/",
            ),
        )
    db.execute(
        "INSERT INTO models (id, endpoint, base_model, dataset_id, created_at) VALUES (?, ?, ?, ?, ?)",
        (MODEL_ID, ENDPOINT, "gemini-2.5-flash", "ds-1" if dataset else None, NOW),
    )
    if alias:
        db.execute("INSERT INTO aliases (name, model_id, updated_at) VALUES (?, ?, ?)", (alias, MODEL_ID, NOW))


# -- resolution -----------------------------------------------------------------------------------------


def test_alias_resolves_through_models_and_dataset_version(corpus: Corpus) -> None:
    register(corpus)
    resolved = resolve_model("current", db=corpus.db)
    assert resolved.call_name == ENDPOINT
    assert resolved.model_id == MODEL_ID
    assert resolved.kind == "tuned"
    assert resolved.alias == "current"
    assert resolved.prompt_version == CUSTOM.version
    assert resolved.media_resolution == "MEDIA_RESOLUTION_MEDIUM"
    assert resolved.target_format == "narrative+record"
    assert resolved.location == "us-central1"
    assert prompt_for_version(resolved.prompt_version, db=corpus.db) == CUSTOM


def test_registered_endpoint_and_id_resolve_to_the_same_model(corpus: Corpus) -> None:
    register(corpus, alias=None)
    by_endpoint = resolve_model(ENDPOINT, db=corpus.db)
    by_id = resolve_model(MODEL_ID, db=corpus.db)
    assert by_endpoint.model_id == by_id.model_id == MODEL_ID
    assert by_endpoint.call_name == by_id.call_name == ENDPOINT


def test_model_columns_win_over_the_dataset(corpus: Corpus) -> None:
    register(corpus)
    corpus.db.execute("UPDATE models SET media_resolution = 'MEDIA_RESOLUTION_LOW'")
    assert resolve_model("current", db=corpus.db).media_resolution == "MEDIA_RESOLUTION_LOW"


def test_unregistered_endpoint_and_base_models() -> None:
    other = "projects/p/locations/europe-west4/endpoints/1"
    resolved = resolve_model(other)
    assert (resolved.kind, resolved.call_name, resolved.prompt_version) == ("tuned", other, None)
    assert resolved.location == "europe-west4"
    base = resolve_model("publishers/google/models/gemini-2.5-flash")
    assert (base.kind, base.call_name, base.model_id) == ("base", "gemini-2.5-flash", "gemini-2.5-flash")


def test_tuned_model_object() -> None:
    model = TunedModel(id=MODEL_ID, endpoint=ENDPOINT, base_model="gemini-2.5-flash", prompt_version="p-x")
    resolved = resolve_model(model)
    assert (resolved.call_name, resolved.model_id, resolved.prompt_version) == (ENDPOINT, MODEL_ID, "p-x")


def test_unknown_names_are_refused_with_a_hint(corpus: Corpus) -> None:
    with pytest.raises(ModelNotFoundError, match="no model has been promoted"):
        resolve_model("current", db=corpus.db)
    with pytest.raises(ModelNotFoundError, match="no alias or model named 'niche:food'"):
        resolve_model("niche:food", db=corpus.db)
    with pytest.raises(ModelNotFoundError, match="not a model or endpoint resource name"):
        resolve_model("projects/p/endpoints/1")
    assert endpoint_location("gemini-2.5-flash") is None


def test_unknown_prompt_version_is_refused(corpus: Corpus) -> None:
    assert prompt_for_version(None) == DEFAULT_PROMPT
    assert prompt_for_version(DEFAULT_PROMPT.version) == DEFAULT_PROMPT
    with pytest.raises(AnalysisError, match="whose text is not recorded"):
        prompt_for_version("p-000000000000", db=corpus.db)


# -- cache ----------------------------------------------------------------------------------------------


def _analysis(**changes: object) -> Analysis:
    data: dict[str, object] = {
        "video_sha256": "a" * 64,
        "video_uri": "gs://b/training/videos/x.mp4",
        "narrative": "Det roliga i detta klipp är tajmingen.",
        "record": HumorRecord(
            summary="s",
            mechanism="tajming",
            why_it_works="w",
            audience="a",
            category="comedy",
            quality="good",
            replicable=True,
        ),
        "model": MODEL_ID,
        "record_model": "gemini-2.5-flash",
        "prompt_version": DEFAULT_PROMPT.version,
        "mode": "two-stage",
        "usage": TokenUsage(prompt_tokens=100, output_tokens=20, total_tokens=120),
        "latency_s": 1.5,
        "cost_usd": 0.001,
        "warnings": ["w1"],
    }
    data.update(changes)
    return Analysis.model_validate(data)


def test_cache_miss_put_hit(corpus: Corpus) -> None:
    cache = AnalysisCache(corpus.db)
    key = {"video_sha256": "a" * 64, "video_uri": "gs://b/training/videos/x.mp4", "model": MODEL_ID}
    assert cache.get(**key, prompt_version=DEFAULT_PROMPT.version, mode="two-stage") is None
    stored = cache.put(_analysis())
    assert stored.id == analysis_id(**key, prompt_version=DEFAULT_PROMPT.version, mode="two-stage")
    assert stored.cached is False
    hit = cache.get(**key, prompt_version=DEFAULT_PROMPT.version, mode="two-stage")
    assert hit is not None and hit.cached is True
    assert hit.model_dump(exclude={"cached"}) == stored.model_dump(exclude={"cached"})
    # Any part of the key changing is a miss.
    assert cache.get(**key, prompt_version="p-other", mode="two-stage") is None
    assert cache.get(**key, prompt_version=DEFAULT_PROMPT.version, mode="joint") is None
    assert cache.count() == 1


def test_same_content_found_under_another_uri(corpus: Corpus) -> None:
    cache = AnalysisCache(corpus.db)
    cache.put(_analysis())
    hit = cache.get(
        video_sha256="a" * 64,
        video_uri="file:///elsewhere.mp4",
        model=MODEL_ID,
        prompt_version=DEFAULT_PROMPT.version,
        mode="two-stage",
    )
    assert hit is not None


def test_refresh_replaces_in_place_keeping_the_id(corpus: Corpus) -> None:
    cache = AnalysisCache(corpus.db)
    first = cache.put(_analysis())
    second = cache.put(_analysis(narrative="Det roliga i detta klipp är något annat."))
    assert second.id == first.id
    assert cache.count() == 1
    found = cache.by_id(first.id or "")
    assert found is not None and found.narrative.endswith("något annat.")
    assert found.record_model == "gemini-2.5-flash"


def test_unknown_hash_is_keyed_by_uri(corpus: Corpus) -> None:
    cache = AnalysisCache(corpus.db)
    cache.put(_analysis(video_sha256=None, video_uri="gs://b/x.mp4"))
    cache.put(_analysis(video_sha256=None, video_uri="gs://b/y.mp4"))
    assert cache.count() == 2
    assert [a.video_uri for a in cache.list(model=MODEL_ID)] == ["gs://b/y.mp4", "gs://b/x.mp4"]


# -- cost -----------------------------------------------------------------------------------------------


def test_cost_estimate() -> None:
    usage = TokenUsage(prompt_tokens=1_000_000, output_tokens=100_000, total_tokens=1_100_000)
    assert estimate_cost(usage, "gemini-2.5-flash") == pytest.approx(0.30 + 0.25)
    assert estimate_cost(usage, "gemini-2.5-flash-001") == pytest.approx(0.55)
    assert estimate_cost(usage, "gemini-2.5-flash", batch=True) == pytest.approx(0.275)
    assert estimate_cost(usage, "gemini-9-ultra") is None
    assert estimate_cost(usage, None) is None
    assert estimate_cost(usage, "gemini-3.5-flash", tuned=True, overrides={"gemini-3.5-flash": (1.0, 2.0)}) == (
        pytest.approx(1.5 * 1.2)
    )


# -- rate limiter ---------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_spaces_calls_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        bucket.acquire()
    assert clock.now == pytest.approx(2.0)  # first call free, then one every 0.2 s
    assert clock.slept == pytest.approx([0.2] * 10)


def test_token_bucket_burst_then_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, burst=3, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 0.5, 0.5])
    clock.now += 10  # idle: refills to burst, never beyond
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0, 0, 0, 0.5])


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(1, burst=0)


def test_token_bucket_holds_across_threads_and_coroutines() -> None:
    bucket = TokenBucket(50)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    async def coroutines() -> None:
        async def one() -> None:
            for _ in range(5):
                await bucket.acquire_async()
                stamps.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(2)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    asyncio.run(coroutines())
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 30
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert 40 <= rate <= 55


# -- the training prompt, from the prompts table ----------------------------------------------------------


def test_prompt_is_read_from_the_prompts_table(corpus: Corpus) -> None:
    stores = Stores.of(corpus.db)
    stores.prompts.put(
        StoredPrompt(version=CUSTOM.version, text=CUSTOM.text, system_instruction=CUSTOM.system_instruction)
    )
    assert stores.datasets.with_prompt_version(CUSTOM.version) == []  # no dataset blob to search
    assert prompt_for_version(CUSTOM.version, db=corpus.db) == CUSTOM


def test_legacy_workspace_is_backfilled_once(corpus: Corpus) -> None:
    register(corpus)  # a dataset version built before the prompts table: the text is only in its blob
    stores = Stores.of(corpus.db)
    assert stores.prompts.get(CUSTOM.version) is None
    assert prompt_for_version(CUSTOM.version, db=corpus.db) == CUSTOM
    stored = stores.prompts.get(CUSTOM.version)
    assert stored is not None and (stored.text, stored.system_instruction) == (CUSTOM.text, CUSTOM.system_instruction)
    # The blob is not searched again: with it emptied, the recorded text still answers.
    corpus.db.execute("UPDATE dataset_versions SET settings_json = '{}' WHERE id = 'ds-1'")
    assert prompt_for_version(CUSTOM.version, db=corpus.db) == CUSTOM
    assert [p.version for p in stores.prompts.all()] == [CUSTOM.version]
