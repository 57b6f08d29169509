"""The HTTP API of ``humortune serve``: auth, size limits, validation errors, error mapping, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import SecretStr
from yt_dlp.utils import DownloadError

from humortune.analyzer import Analyzer
from humortune.gemini import GeminiClient
from humortune.service import create_app, require_token
from humortune.service.openapi import AnalysisResponse
from humortune.settings import Settings
from humortune.sources import classify_error
from humortune.storage import LocalStorage
from humortune.testing.fake_gemini import FakeGemini
from humortune.testing.sources import FakeDownloader
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
from tests._analyzer_support import register, tuned_endpoint

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VIDEO = "gs://bkt/training/videos/7301234567890123456.mp4"


@pytest.fixture
def client(fake_gemini_client: GeminiClient) -> GeminiClient:
    return fake_gemini_client


@pytest.fixture
def api(settings: Settings, corpus: Corpus, client: GeminiClient) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"storage": "gs://bkt"})  # VIDEO is under the configured storage
    model_id, endpoint = tuned_endpoint(client)
    register(corpus, model_id, endpoint)
    extra = APIRouter(prefix="/review", dependencies=[Depends(require_token)])

    @extra.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "ok"}

    app = create_app(
        settings,
        corpus=corpus,
        client=client,
        storage=LocalStorage(settings.workspace / "storage"),
        token=TOKEN,
        routers=[extra],
    )
    with TestClient(app) as test_client:
        yield test_client


def test_health_needs_no_token_and_leaks_nothing(api: TestClient) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert TOKEN not in response.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_analyze_needs_the_bearer_token(api: TestClient, fake: FakeGemini, headers: dict[str, str]) -> None:
    before = len(fake.requests)
    response = api.post("/v1/analyze", json={"video": VIDEO}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "Unauthorized"
    assert len(fake.requests) == before  # nothing reached the model
    assert api.get("/v1/analyses/an-0123456789abcdef").status_code == 401
    assert api.get("/review/ping").status_code == 401


def test_analyze_then_fetch_by_id(api: TestClient, fake: FakeGemini) -> None:
    response = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["narrative"].startswith("Det roliga i detta klipp är")
    assert body["record"]["category"] in {"comedy", "wholesome", "relatable", "clever", "chaotic"}
    assert body["mode"] == "two-stage" and body["cached"] is False
    again = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH).json()
    assert again["cached"] is True and again["id"] == body["id"]
    fetched = api.get(f"/v1/analyses/{body['id']}", headers=AUTH)
    assert fetched.status_code == 200 and fetched.json()["narrative"] == body["narrative"]
    missing = api.get("/v1/analyses/an-0123456789abcdef", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    narrative = api.post("/v1/analyze", json={"video": VIDEO, "mode": "narrative"}, headers=AUTH).json()
    assert narrative["record"] is None and narrative["id"] != body["id"]


def test_a_stored_video_by_sha256(api: TestClient, settings: Settings, corpus: Corpus, client: GeminiClient) -> None:
    from humortune.analyzer.video import store_local

    clip = make_test_video(settings.workspace / "c.mp4", seconds=1.0)
    ref = store_local(clip, corpus=corpus, storage=LocalStorage(settings.workspace / "storage"))
    response = api.post("/v1/analyze", json={"video": ref.sha256}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["video_sha256"] == ref.sha256
    unknown = api.post("/v1/analyze", json={"video": "f" * 64}, headers=AUTH)
    assert unknown.status_code == 404 and "sha256" in unknown.json()["message"]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, ["video"]),
        ({"video": "/etc/passwd"}, ["video"]),
        ({"video": VIDEO, "mode": "both"}, ["mode"]),
        ({"video": VIDEO, "colour": "red"}, ["colour"]),
        ({"video": "", "refresh": "perhaps"}, ["video", "refresh"]),
    ],
)
def test_invalid_requests_are_422_naming_the_fields(
    api: TestClient, payload: dict[str, object], fields: list[str]
) -> None:
    response = api.post("/v1/analyze", json=payload, headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ValidationError" and body["fields"] == fields
    assert all(name in body["message"] for name in fields)


def test_bad_analysis_id_is_422(api: TestClient) -> None:
    response = api.get("/v1/analyses/../../etc", headers=AUTH)
    assert response.status_code in (404, 422)
    response = api.get("/v1/analyses/not-an-id", headers=AUTH)
    assert response.status_code == 422 and response.json()["fields"] == ["analysis_id"]


def test_request_size_limit(api: TestClient, fake: FakeGemini) -> None:
    before = len(fake.requests)
    big = {"video": VIDEO, "model": "x" * 20_000}
    response = api.post("/v1/analyze", json=big, headers=AUTH)
    assert response.status_code == 413 and response.json()["error"] == "RequestTooLarge"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while streaming
        yield b'{"video": "' + VIDEO.encode() + b'", "model": "'
        for _ in range(40):
            yield b"y" * 1024
        yield b'"}'

    streamed = api.post("/v1/analyze", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert len(fake.requests) == before


def test_errors_map_to_statuses(api: TestClient, fake: FakeGemini) -> None:
    unknown = api.post("/v1/analyze", json={"video": VIDEO, "model": "niche:none"}, headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"] == "ModelNotFoundError"
    assert unknown.json()["hint"]
    fake.inject("safety", match="endpoints/")
    blocked = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH)
    assert blocked.status_code == 502 and blocked.json()["error"] == "SafetyBlockedError"
    fake.inject("429", times=10, retry_after=9)
    limited = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH)
    assert limited.status_code == 503 and limited.json()["error"] == "RateLimitedError"
    assert limited.headers["retry-after"] == "9"
    # Generic URLs are never fetched by the service: they must be ingested first.
    not_ingested = api.post("/v1/analyze", json={"video": "https://example.com/clip.mp4"}, headers=AUTH)
    assert not_ingested.status_code == 422 and "ingest" in not_ingested.json()["hint"]
    photo = api.post("/v1/analyze", json={"video": "https://www.tiktok.com/@a/photo/1"}, headers=AUTH)
    assert photo.status_code == 422 and photo.json()["error"] == "UnsupportedSourceError"


def test_an_unresolvable_tiktok_host_is_503_not_422(
    settings: Settings, corpus: Corpus, client: GeminiClient, api: TestClient
) -> None:
    # What yt-dlp (curl_cffi) raises when DNS is down; it once read as "removed" and answered 422.
    dns = DownloadError(
        "ERROR: [TikTok] 1: Unable to download webpage: Failed to perform, curl: (6) Could not resolve host:"
        " www.tiktok.com (Domain name not found)"
    )
    url = "https://www.tiktok.com/@a/video/7301234567890123999"
    downloader = FakeDownloader(errors={url: [classify_error(dns, item=url)]})
    app = create_app(
        settings,
        corpus=corpus,
        client=client,
        token=TOKEN,
        analyzer_factory=lambda model, mode: Analyzer(
            "current", client=client, settings=settings, corpus=corpus, downloader=downloader
        ),
    )
    with TestClient(app) as offline:
        response = offline.post("/v1/analyze", json={"video": url}, headers=AUTH)
    assert response.status_code == 503, response.json()
    assert response.json()["error"] == "TransientSourceError" and "retry-after" in response.headers


def test_mounted_routers_share_the_auth(api: TestClient) -> None:
    assert api.get("/review/ping", headers=AUTH).json() == {"pong": "ok"}


def test_openapi_documents_the_api(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert {"/v1/analyze", "/v1/analyses/{analysis_id}", "/healthz"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    analyze = spec["paths"]["/v1/analyze"]["post"]
    assert {"200", "401", "413", "422", "502", "503"} <= set(analyze["responses"])
    assert api.get("/docs").status_code == 200


def test_token_from_settings_or_random(settings: Settings, corpus: Corpus) -> None:
    configured = settings.model_copy(update={"api_token": SecretStr("from-settings")})
    assert create_app(configured, corpus=corpus).state.service.token == "from-settings"
    first = create_app(settings, corpus=corpus).state.service.token
    second = create_app(settings, corpus=corpus).state.service.token
    assert len(first) >= 32 and first != second


def test_a_repeated_cached_request_costs_no_thread_pool_hop(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Sync dependencies and re-validating the returned model through response_model each cost one more hop;
    # a cached answer read once is then served from memory on the event loop.
    import fastapi.dependencies.utils
    import fastapi.routing

    import humortune.service.app

    body = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH).json()
    hops: list[str] = []
    for module in (fastapi.routing, fastapi.dependencies.utils, humortune.service.app):
        real = module.run_in_threadpool

        def counting(func: Any, *args: Any, real: Any = real, **kwargs: Any) -> Any:
            hops.append(getattr(func, "__name__", repr(func)))
            return real(func, *args, **kwargs)

        monkeypatch.setattr(module, "run_in_threadpool", counting)
    cached = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH)
    assert hops == ["_analyze"]  # the row is read once, in a worker thread
    again = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH)
    fetched = api.get(f"/v1/analyses/{body['id']}", headers=AUTH)
    assert hops == ["_analyze"], hops  # then served from memory: no hop, no SQL
    expected = AnalysisResponse.model_validate({**body, "cached": True}).model_dump(mode="json")
    assert cached.json() == expected == again.json() and again.headers["content-type"] == "application/json"
    assert fetched.json() == AnalysisResponse.model_validate(body).model_dump(mode="json")
