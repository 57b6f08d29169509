"""Analyzer against FakeGemini (MockTransport and loopback server) and scripted answers: modes, faults, cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from humortune.analyzer.analyzer import AnalysisResult, Analyzer
from humortune.analyzer.cache import AnalysisCache
from humortune.errors import (
    AnalysisError,
    AnalysisServiceError,
    EmptyResponseError,
    ModelNotFoundError,
    SafetyBlockedError,
    SourceError,
    TruncatedOutputError,
)
from humortune.gemini import GeminiClient
from humortune.prompts import DEFAULT_PROMPT, RECORD_EXTRACTION_PROMPT, Prompt
from humortune.schema import Category, Correction, HumorRecord, VideoAsset
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.fake_gemini import FakeGemini
from humortune.testing.sources import FakeDownloader
from humortune.testing.vertex_schema import validate
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
from tests._analyzer_support import Scripted, Sleeps, fake_client, register, scripted_client, tuned_endpoint

ENDPOINT = "projects/offline-project/locations/us-central1/endpoints/555"
MODEL_ID = "projects/offline-project/locations/us-central1/models/9@1"
CUSTOM = Prompt("Analysera denna video som ägaren skulle.", "Svara alltid på svenska.")
VIDEO = "gs://bkt/training/videos/7301234567890123456.mp4"
NARRATIVE = (
    "Det roliga i detta klipp är att kocken kommenterar ett stekt ägg som en sportfinal. Hen gör varje "
    "rörelse dramatisk. Det fungerar för att kontrasten mellan allvaret och ägget är absurd."
)
RECORD = {
    "summary": "En kock steker ett ägg som om det vore en sportfinal.",
    "mechanism": "sportkommentarens allvar kring ett vanligt stekt ägg",
    "why_it_works": "Kontrasten mellan allvar och banalitet.",
    "audience": "Matintresserade",
    "category": "comedy",
    "quality": "good",
    "replicable": True,
}


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(settings: Settings, fake: FakeGemini, sleeps: Sleeps) -> Iterator[GeminiClient]:
    c = fake_client(settings, fake, sleeps=sleeps)
    yield c
    c.close()


@pytest.fixture
def tuned(client: GeminiClient, corpus: Corpus) -> tuple[str, str]:
    model_id, endpoint = tuned_endpoint(client)
    register(corpus, model_id, endpoint, prompt=CUSTOM, media_resolution="MEDIA_RESOLUTION_MEDIUM")
    return model_id, endpoint


def analyzer_for(
    settings: Settings, corpus: Corpus, client: GeminiClient, model: str | None = "current", **kw: object
) -> Analyzer:
    storage = LocalStorage(settings.workspace / "storage")
    return Analyzer(model, client=client, settings=settings, corpus=corpus, storage=storage, **kw)  # type: ignore[arg-type]


# -- the modes ------------------------------------------------------------------------------------------


def test_two_stage_uses_the_training_prompt_then_a_base_model(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    model_id, endpoint = tuned
    analysis = analyzer_for(settings, corpus, client).analyze(VIDEO)

    assert analysis.narrative.startswith("Det roliga i detta klipp är")
    assert isinstance(analysis.record, HumorRecord)
    assert analysis.model == model_id and analysis.record_model == "gemini-3.5-flash"
    assert analysis.prompt_version == CUSTOM.version and analysis.mode == "two-stage"
    assert analysis.id is not None and analysis.id.startswith("an-") and not analysis.cached
    assert analysis.usage.total_tokens == analysis.usage.prompt_tokens + analysis.usage.output_tokens > 0
    assert analysis.cost_usd is not None and analysis.cost_usd > 0

    first, second = fake.calls(":generateContent")
    assert first.path.endswith(endpoint.split("/locations/")[1] + ":generateContent")
    assert first.body is not None and second.body is not None
    parts = first.body["contents"][0]["parts"]
    assert parts[0]["fileData"] == {"file_uri": VIDEO, "mime_type": "video/mp4"}
    assert parts[1] == {"text": CUSTOM.text}  # exactly the training prompt, nothing added
    assert first.body["systemInstruction"]["parts"] == [{"text": CUSTOM.system_instruction}]
    config = first.body["generationConfig"]
    assert config["mediaResolution"] == "MEDIA_RESOLUTION_MEDIUM" and config["temperature"] == 0.0
    assert "responseSchema" not in config  # no controlled generation on the tuned endpoint
    assert second.path.endswith("publishers/google/models/gemini-3.5-flash:generateContent")
    text = second.body["contents"][0]["parts"][0]["text"]
    assert text == RECORD_EXTRACTION_PROMPT.text + analysis.narrative
    assert second.body["generationConfig"]["responseSchema"]["properties"]["category"]["enum"][0] == "comedy"
    # Lowest thinking each model takes: a budget of 0 for the 2.5-based tuned model, a level on 3.5 Flash.
    assert first.body["generationConfig"]["thinkingConfig"] == {"thinking_budget": 0}
    assert second.body["generationConfig"]["thinkingConfig"] == {"thinking_level": "MINIMAL"}
    for call in (first, second):
        validate("GenerateContentRequest", call.body)


def test_narrative_mode_makes_one_call(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    analysis = analyzer_for(settings, corpus, client, mode="narrative").analyze(VIDEO)
    assert analysis.record is None and analysis.mode == "narrative" and analysis.record_model is None
    assert len(fake.calls(":generateContent")) == 1


def scripted(
    settings: Settings, corpus: Corpus, routes: dict[str, list[object]], **kw: object
) -> tuple[Analyzer, Scripted]:
    handler = Scripted(routes)  # type: ignore[arg-type]
    if "current" not in {r["name"] for r in corpus.db.query("SELECT name FROM aliases")}:
        register(corpus, MODEL_ID, ENDPOINT, target_format="narrative+record")
    return analyzer_for(settings, corpus, scripted_client(settings, handler), **kw), handler


def test_joint_mode_parses_one_answer(settings: Settings, corpus: Corpus) -> None:
    answer = f"{NARRATIVE}\n\n```json\n{json.dumps(RECORD, ensure_ascii=False)}\n```"
    analyzer, handler = scripted(settings, corpus, {"endpoints/": [answer]}, mode="joint")
    analysis = analyzer.analyze(VIDEO)
    assert analysis.narrative == NARRATIVE
    assert analysis.record is not None and analysis.record.category is Category.COMEDY
    assert analysis.warnings == [] and analysis.record_model is None
    assert len(handler.requests) == 1


def test_joint_mode_falls_back_to_two_stage_on_malformed_json(settings: Settings, corpus: Corpus) -> None:
    broken = f'{NARRATIVE}\n```json\n{{"summary": "En kock", "mechanism": ,}}\n```'
    routes: dict[str, list[object]] = {"endpoints/": [broken], "gemini-3.5-flash": [json.dumps(RECORD)]}
    analyzer, handler = scripted(settings, corpus, routes, mode="joint")
    analysis = analyzer.analyze(VIDEO)
    assert analysis.narrative == NARRATIVE
    assert analysis.record is not None and analysis.record.mechanism == RECORD["mechanism"]
    assert any("fell back to two-stage" in w and "malformed" in w for w in analysis.warnings)
    assert [p.rsplit("/", 1)[-1] for p, _ in handler.requests] == [
        "555:generateContent",
        "gemini-3.5-flash:generateContent",
    ]
    assert analysis.record_model == "gemini-3.5-flash"


def test_record_with_unknown_category_is_rejected_with_a_warning(settings: Settings, corpus: Corpus) -> None:
    routes: dict[str, list[object]] = {
        "endpoints/": [NARRATIVE],
        "gemini-3.5-flash": [json.dumps({**RECORD, "category": "satire"})],
    }
    analyzer, _ = scripted(settings, corpus, routes)
    analysis = analyzer.analyze(VIDEO)
    assert analysis.record is None
    assert any(w.startswith("record rejected") and "category" in w and "satire" in w for w in analysis.warnings)
    assert AnalysisCache(corpus.db).count() == 1  # the narrative was paid for: it is kept


def test_record_contradicting_its_narrative_is_flagged(settings: Settings, corpus: Corpus) -> None:
    off = {**RECORD, "mechanism": "hunden jagar en fjäril i parken"}
    analyzer, _ = scripted(settings, corpus, {"endpoints/": [NARRATIVE], "gemini-3.5-flash": [json.dumps(off)]})
    analysis = analyzer.analyze(VIDEO)
    assert analysis.record is not None
    assert any("never appears in the narrative" in w for w in analysis.warnings)


def test_narrative_not_in_the_owners_form_is_flagged(settings: Settings, corpus: Corpus) -> None:
    analyzer, _ = scripted(settings, corpus, {"endpoints/": ["Klippet visar en kock."]}, mode="narrative")
    assert any("does not open with" in w for w in analyzer.analyze(VIDEO).warnings)


# -- faults ---------------------------------------------------------------------------------------------


def test_429_retry_after_is_honoured(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, sleeps: Sleeps, tuned: tuple[str, str]
) -> None:
    fake.inject("429", times=2, match=":generateContent", retry_after=7)
    analysis = analyzer_for(settings, corpus, client, mode="narrative").analyze(VIDEO)
    assert analysis.narrative
    assert sleeps.waits == [7.0, 7.0]
    assert len(fake.calls(":generateContent")) == 3


def test_500_twice_then_200(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, sleeps: Sleeps, tuned: tuple[str, str]
) -> None:
    fake.inject("500", times=2, match="endpoints/")
    analysis = analyzer_for(settings, corpus, client).analyze(VIDEO)
    assert analysis.record is not None
    assert len(fake.calls("endpoints/")) == 3 and len(sleeps.waits) == 2


def test_reset_mid_response_on_the_loopback_server(settings: Settings, corpus: Corpus) -> None:
    fake = FakeGemini()
    sleeps = Sleeps()
    with fake.serve() as url:
        client = GeminiClient.from_settings(settings, base_url=url, retry=sleeps.policy())
        client.offline = True
        model_id, endpoint = tuned_endpoint(client)
        register(corpus, model_id, endpoint)
        fake.inject("reset", times=1, match=":generateContent")
        analysis = analyzer_for(settings, corpus, client).analyze(VIDEO)
        client.close()
    assert analysis.record is not None
    assert len(sleeps.waits) == 1
    assert len(fake.calls("endpoints/")) == 2


class _CutStream(httpx.SyncByteStream):
    """A response body that stops halfway: the connection drops mid-response."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: len(self.data) // 2]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def test_connection_dropped_mid_body_is_retried(settings: Settings, corpus: Corpus) -> None:
    from tests._analyzer_support import generate_response

    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        body = json.dumps(generate_response(NARRATIVE)).encode()
        if len(calls) == 1:
            return httpx.Response(200, headers={"Content-Type": "application/json"}, stream=_CutStream(body))
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    register(corpus, MODEL_ID, ENDPOINT)
    analysis = analyzer_for(settings, corpus, scripted_client(settings, handler), mode="narrative").analyze(VIDEO)
    assert analysis.narrative == NARRATIVE and len(calls) == 2


def test_joint_answer_with_only_json_is_an_empty_narrative(settings: Settings, corpus: Corpus) -> None:
    analyzer, handler = scripted(
        settings, corpus, {"endpoints/": [f"```json\n{json.dumps(RECORD)}\n```"]}, mode="joint"
    )
    with pytest.raises(EmptyResponseError, match="no narrative"):
        analyzer.analyze(VIDEO)
    assert len(handler.requests) == 1  # no record call for an answer without a narrative


@pytest.mark.parametrize(
    ("kind", "error"),
    [("safety", SafetyBlockedError), ("prompt_blocked", SafetyBlockedError), ("empty", EmptyResponseError),
     ("max_tokens", TruncatedOutputError)],
)  # fmt: skip
def test_content_faults_are_clear_errors(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str],
    kind: str, error: type[AnalysisError],
) -> None:  # fmt: skip
    fake.inject(kind, match="endpoints/")
    with pytest.raises(error) as info:
        analyzer_for(settings, corpus, client).analyze(VIDEO)
    assert info.value.hint
    assert AnalysisCache(corpus.db).count() == 0  # nothing cached: a rerun tries again


def test_transient_failure_of_the_record_stage_fails_the_clip(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    fake.inject("503", times=10, match="publishers/")
    with pytest.raises(AnalysisServiceError):
        analyzer_for(settings, corpus, client).analyze(VIDEO)
    assert AnalysisCache(corpus.db).count() == 0


def test_permanent_failure_of_the_record_stage_keeps_the_narrative(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    fake.inject("safety", match="publishers/")
    analysis = analyzer_for(settings, corpus, client).analyze(VIDEO)
    assert analysis.narrative and analysis.record is None
    assert any("record extraction failed: SafetyBlockedError" in w for w in analysis.warnings)


def test_unknown_endpoint_is_model_not_found(settings: Settings, corpus: Corpus, client: GeminiClient) -> None:
    with pytest.raises(ModelNotFoundError, match="404"):
        analyzer_for(settings, corpus, client, model=ENDPOINT).analyze(VIDEO)


# -- set-up rules ----------------------------------------------------------------------------------------


def test_a_different_prompt_than_the_training_one_is_refused(
    settings: Settings, corpus: Corpus, client: GeminiClient, tuned: tuple[str, str]
) -> None:
    with pytest.raises(AnalysisError, match="exactly the training prompt"):
        analyzer_for(settings, corpus, client, prompt=DEFAULT_PROMPT)
    assert analyzer_for(settings, corpus, client, prompt=CUSTOM).prompt == CUSTOM


def test_default_model_falls_back_to_the_base_model(settings: Settings, corpus: Corpus, client: GeminiClient) -> None:
    analyzer = analyzer_for(settings, corpus, client, model=None)
    assert analyzer.model.call_name == settings.base_model and analyzer.model.kind == "base"
    assert analyzer.prompt == DEFAULT_PROMPT
    assert "no model is promoted" in analyzer.notes[0]
    analysis = analyzer.analyze(VIDEO)
    assert analysis.model == settings.base_model
    assert not any("does not open with" in w for w in analysis.warnings)  # base models are not held to the form


def test_unknown_mode_is_refused(settings: Settings, corpus: Corpus, client: GeminiClient) -> None:
    with pytest.raises(AnalysisError, match="unknown mode"):
        analyzer_for(settings, corpus, client, model="gemini-2.5-flash", mode="both")


# -- inputs and the cache --------------------------------------------------------------------------------


def test_cache_hit_costs_nothing_and_refresh_calls_again(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    analyzer = analyzer_for(settings, corpus, client)
    first = analyzer.analyze(VIDEO)
    calls = len(fake.calls(":generateContent"))
    again = analyzer.analyze(VIDEO)
    assert again.cached and again.id == first.id and again.narrative == first.narrative
    assert len(fake.calls(":generateContent")) == calls
    fresh = analyzer.analyze(VIDEO, refresh=True)
    assert not fresh.cached and fresh.id == first.id
    assert len(fake.calls(":generateContent")) == 2 * calls
    # Another mode is another cache entry.
    assert not analyzer_for(settings, corpus, client, mode="narrative").analyze(VIDEO).cached


def test_local_file_is_stored_probed_recorded_and_cached(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tmp_path: Path
) -> None:
    clip = make_test_video(tmp_path / "clip.mp4", seconds=1.0, seed=3)
    analyzer = analyzer_for(settings, corpus, client, model="gemini-2.5-flash")
    analysis = analyzer.analyze(clip)
    assert analysis.video_sha256 is not None
    assert analysis.video_uri.endswith(f"training/videos/{analysis.video_sha256}.mp4")
    assert analysis.video_uri.startswith("file://")
    asset = corpus.video(analysis.video_sha256)
    assert asset is not None and asset.codec == "h264" and asset.has_audio and asset.duration_s > 0.5
    assert Path(tmp_path / "clip.mp4").read_bytes() == analyzer.storage.read_bytes(
        f"training/videos/{analysis.video_sha256}.mp4"
    )
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(clip.read_bytes())
    assert analyzer.analyze(str(copy)).cached  # same bytes under another name: the same analysis
    assert analyzer.analyze(VideoAsset.model_validate(asset.model_dump())).cached


def test_local_files_need_cloud_storage_for_vertex(
    settings: Settings, corpus: Corpus, fake: FakeGemini, tmp_path: Path
) -> None:
    clip = make_test_video(tmp_path / "clip.mp4", seconds=1.0)
    client = fake_client(settings, fake, offline=False)
    with pytest.raises(AnalysisError, match="cannot read local files") as info:
        analyzer_for(settings, corpus, client, model="gemini-2.5-flash").analyze(clip)
    assert "gs://" in (info.value.hint or "")


def test_bad_local_files(settings: Settings, corpus: Corpus, client: GeminiClient, tmp_path: Path) -> None:
    analyzer = analyzer_for(settings, corpus, client, model="gemini-2.5-flash")
    with pytest.raises(SourceError, match="no such video file"):
        analyzer.analyze(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(SourceError) as info:
        analyzer.analyze(text)
    assert info.value.category == "not_video"


def test_urls_use_the_ingested_clip_or_say_what_to_do(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tmp_path: Path
) -> None:
    url = "https://www.tiktok.com/@kock/video/7301234567890123456"
    analyzer = analyzer_for(settings, corpus, client, model="gemini-2.5-flash", fetch_urls=False)
    with pytest.raises(AnalysisError, match="has not been ingested") as info:
        analyzer.analyze(url)
    assert "humortune ingest" in (info.value.hint or "")
    # Once ingested (as the ingest layer records it), the URL finds its clip.
    clip = analyzer.prepare(make_test_video(tmp_path / "c.mp4", seconds=1.0))
    assert clip.sha256 is not None
    corpus.add_correction(Correction(id="c1", video_url=url, human_said=NARRATIVE))
    corpus.link_video("tiktok:7301234567890123456", clip.sha256)
    analysis = analyzer.analyze(url + "?is_from_webapp=1")
    assert analysis.video_sha256 == clip.sha256


def test_urls_never_ingested_are_downloaded_stored_and_linked(
    settings: Settings, corpus: Corpus, client: GeminiClient, tmp_path: Path
) -> None:
    url = "https://www.tiktok.com/@kock/video/7301234567890123999"
    downloader = FakeDownloader({url: make_test_video(tmp_path / "d.mp4", seconds=1.0, seed=9)})
    analyzer = analyzer_for(settings, corpus, client, model="gemini-2.5-flash", downloader=downloader)
    first = analyzer.analyze(url)
    assert first.video_sha256 is not None and first.video_uri.endswith(f"{first.video_sha256}.mp4")
    asset = corpus.video(first.video_sha256)
    assert asset is not None and asset.source_id == "7301234567890123999"
    assert analyzer.analyze(url).cached  # found again by its TikTok id: no second download
    assert downloader.calls["tiktok:7301234567890123999"] == 1


# -- many clips -------------------------------------------------------------------------------------------


def videos(n: int) -> list[str]:
    return [f"gs://bkt/training/videos/{7301234567890123000 + i}.mp4" for i in range(n)]


def test_analyze_many_streams_results_with_per_item_errors(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    fake.inject("safety", times=1, match="endpoints/")
    seen: list[AnalysisResult] = []
    inputs: list[str] = [*videos(6), "/nowhere/missing.mp4"]
    results = list(analyzer_for(settings, corpus, client).analyze_many(inputs, concurrency=3, progress=seen.append))
    assert sorted(r.index for r in results) == list(range(7))
    assert seen == results
    failed = [r for r in results if not r.ok]
    assert len(failed) == 2
    assert {type(r.error).__name__ for r in failed} == {"SafetyBlockedError", "SourceError"}
    missing = next(r for r in results if r.index == 6)
    assert missing.video == "/nowhere/missing.mp4" and missing.analysis is None
    assert sum(r.ok for r in results) == 5 and AnalysisCache(corpus.db).count() == 5


def test_analyze_many_rerun_is_served_from_the_cache(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    analyzer = analyzer_for(settings, corpus, client, mode="narrative")
    assert all(r.ok for r in analyzer.analyze_many(videos(5), concurrency=4))
    before = len(fake.requests)
    again = list(analyzer.analyze_many(videos(5), concurrency=4))
    assert all(r.analysis is not None and r.analysis.cached for r in again)
    assert len(fake.requests) == before


def test_aanalyze_many(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    fake.inject("empty", times=1, match="endpoints/")
    analyzer = analyzer_for(settings, corpus, client, mode="narrative")

    async def run() -> list[AnalysisResult]:
        return [r async for r in analyzer.aanalyze_many(videos(5), concurrency=3, max_rps=1000)]

    results = asyncio.run(run())
    assert sorted(r.index for r in results) == list(range(5))
    assert [type(r.error).__name__ for r in results if not r.ok] == ["EmptyResponseError"]
    single = asyncio.run(analyzer.aanalyze(videos(5)[1]))
    assert single.cached or single.narrative


def test_async_path_sends_the_same_requests(
    settings: Settings, corpus: Corpus, client: GeminiClient, fake: FakeGemini, tuned: tuple[str, str]
) -> None:
    analyzer = analyzer_for(settings, corpus, client)
    sync = analyzer.analyze(VIDEO)
    sync_bodies = [r.body for r in fake.calls(":generateContent")]
    fake.requests.clear()
    again = asyncio.run(analyzer.aanalyze(VIDEO, refresh=True))
    assert [r.body for r in fake.calls(":generateContent")] == sync_bodies
    assert again.narrative == sync.narrative and again.record == sync.record


def test_signed_urls_never_reach_results_or_errors(settings: Settings, corpus: Corpus, client: GeminiClient) -> None:
    signed = "https://user:pw@cdn.example.com/v.mp4?X-Goog-Signature=s3cr3t&X-Goog-Credential=acct"
    analyzer = analyzer_for(settings, corpus, client, model="gemini-2.5-flash", fetch_urls=False)
    (result,) = analyzer.analyze_many([signed])
    assert result.error is not None
    for text in (result.video, str(result.error), repr(result.error.item)):
        assert "s3cr3t" not in text and "acct" not in text and "pw@" not in text
