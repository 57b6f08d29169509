"""The served OpenAPI schema is one a generated client can trust, and the service keeps its promises."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humortune import catalog
from humortune.cli import main
from humortune.service import create_app
from humortune.service.openapi import VIDEO_PATTERN
from humortune.settings import Settings
from humortune.testing.fake_gemini import FakeGemini
from humortune.workspace import Corpus
from tests._analyzer_support import fake_client, register, tuned_endpoint

DEFAULT_BASE = catalog.default_base_model().id  # what an unpromoted service serves

TOKEN = "openapi-test-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VIDEO = "gs://my-bucket/training/videos/7301234567890123456.mp4"


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    # VIDEO must lie under the configured storage: the server refuses other parties' gs:// objects.
    return Settings(workspace=tmp_path / "ws", offline=True, storage="gs://my-bucket")


@pytest.fixture
def api(offline: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(offline, token=TOKEN, fetch_urls=False)) as test_client:
        yield test_client


@pytest.fixture
def spec(api: TestClient) -> dict[str, Any]:
    result: dict[str, Any] = api.get("/openapi.json").json()
    return result


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = spec["components"]["schemas"][name]
    return result


def test_always_sent_response_fields_are_required(spec: dict[str, Any]) -> None:
    analysis = _schema(spec, "AnalysisResponse")
    assert set(analysis["required"]) == set(analysis["properties"])
    assert analysis["properties"]["id"]["type"] == "string"  # stored analyses always have an id: not nullable
    assert set(_schema(spec, "TokenUsage")["required"]) == {"prompt_tokens", "output_tokens", "total_tokens"}
    assert set(_schema(spec, "ErrorBody")["required"]) == {"error", "message", "hint", "item", "fields"}
    health = _schema(spec, "Health")
    assert {"model", "model_kind", "version", "offline"} <= set(health["required"])


def test_request_fields_with_defaults_are_optional(spec: dict[str, Any]) -> None:
    request = _schema(spec, "AnalyzeRequest")
    assert request["required"] == ["video"]
    assert request["properties"]["refresh"]["default"] is False


def test_every_route_documents_its_errors_with_the_error_body(spec: dict[str, Any]) -> None:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            statuses = set(operation["responses"])
            assert {"400", "422", "500"} <= statuses, (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorBody", (method, path, status)


def test_the_video_rule_is_in_the_schema(spec: dict[str, Any]) -> None:
    video = _schema(spec, "AnalyzeRequest")["properties"]["video"]
    assert video["pattern"] == VIDEO_PATTERN
    assert "sha256" in video["description"] and "TikTok" in video["description"]
    accepted = [
        VIDEO,
        "a" * 64,
        "https://www.tiktok.com/@someone/video/7301234567890123456",
        "https://vm.tiktok.com/ZM1/",
    ]
    refused = ["/etc/passwd", "file:///etc/passwd", "gs://bucket-only", "A" * 64, "ftp://x/y", "clip.mp4", "gs:// x/y"]
    assert all(re.search(video["pattern"], value) for value in accepted)
    assert not any(re.search(video["pattern"], value) for value in refused)


@pytest.mark.parametrize("video", ["gs://bucket-only", "a" * 63, "ftp://host/clip.mp4", "http://ly$[B\u0007M;"])
def test_the_server_enforces_the_schema_pattern(api: TestClient, video: str) -> None:
    response = api.post("/v1/analyze", json={"video": video}, headers=AUTH)
    assert response.status_code == 422 and response.json()["fields"] == ["video"]


def test_malformed_bodies_and_loose_booleans_are_error_bodies(api: TestClient) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    garbled = api.post("/v1/analyze", content=b"\xd1\x9a\x1d\xe07W", headers=headers)  # found by schemathesis
    assert garbled.status_code in (400, 422)
    assert set(garbled.json()) == {"error", "message", "hint", "item", "fields"}, garbled.text
    loose = api.post("/v1/analyze", json={"video": VIDEO, "refresh": 0}, headers=AUTH)
    assert loose.status_code == 422 and loose.json()["fields"] == ["refresh"]


def test_responses_send_every_required_field(api: TestClient, spec: dict[str, Any]) -> None:
    ok = api.post("/v1/analyze", json={"video": VIDEO, "mode": "narrative"}, headers=AUTH).json()
    assert set(ok) == set(_schema(spec, "AnalysisResponse")["required"]) and ok["record"] is None
    assert set(api.get("/v1/analyses/" + ok["id"], headers=AUTH).json()) == set(ok)
    for error in (
        api.post("/v1/analyze", json={"video": VIDEO}),
        api.post("/v1/analyze", json={"video": "b" * 64}, headers=AUTH),
        api.post("/v1/analyze", json={"video": "nope"}, headers=AUTH),
    ):
        assert set(error.json()) == {"error", "message", "hint", "item", "fields"}, error.text


def test_the_not_ingested_hint_does_not_offer_local_files(api: TestClient) -> None:
    response = api.post("/v1/analyze", json={"video": "https://example.com/clip.mp4"}, headers=AUTH)
    assert response.status_code == 422
    hint = response.json()["hint"]
    assert "ingest" in hint and "local" not in hint and "gs://" in hint


def test_an_unexpected_failure_is_still_an_error_body(offline: Settings) -> None:
    def broken(model: str | None, mode: str) -> Any:
        raise RuntimeError("secret detail that must stay in the log")

    app = create_app(offline, token=TOKEN, analyzer_factory=broken)
    with TestClient(app, raise_server_exceptions=False) as api:
        response = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH)
    assert response.status_code == 500
    assert response.json()["error"] == "InternalError" and "secret" not in response.text


def test_healthz_names_the_model_and_follows_a_promotion_without_restart(
    api: TestClient, offline: Settings, fake: FakeGemini
) -> None:
    before = api.get("/healthz").json()
    assert (before["model"], before["model_kind"], before["alias"]) == (DEFAULT_BASE, "base", None)
    client = fake_client(offline, fake)
    try:
        model_id, endpoint = tuned_endpoint(client)
    finally:
        client.close()
    with Corpus.open(settings=offline) as corpus:
        register(corpus, model_id, endpoint)
    after = api.get("/healthz").json()
    assert (after["model"], after["model_kind"], after["alias"]) == (model_id, "tuned", "current")


def test_serve_writes_the_schema_file_without_starting(
    tmp_path: Path, api: TestClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("--write-openapi must not start a server"))
    target = tmp_path / "out" / "openapi.json"
    assert main(["-w", str(tmp_path / "ws2"), "serve", "--offline", "--write-openapi", str(target)]) == 0
    assert json.loads(target.read_text("utf-8")) == api.get("/openapi.json").json()
    assert str(target) in capsys.readouterr().err


def test_the_startup_line_names_a_promoted_model_without_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake: FakeGemini
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    settings = Settings(workspace=tmp_path / "ws", offline=True)
    client = fake_client(settings, fake)
    try:
        model_id, endpoint = tuned_endpoint(client)
    finally:
        client.close()
    with Corpus.open(settings=settings) as corpus:
        register(corpus, model_id, endpoint)
    assert main(["-w", str(settings.workspace), "serve", "--offline"]) == 0
    err = capsys.readouterr().err
    assert f"serving model: {model_id} (alias current)" in err and "BASE model" not in err


def test_the_served_model_can_come_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake: FakeGemini
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    settings = Settings(workspace=tmp_path / "ws", offline=True)
    client = fake_client(settings, fake)
    try:
        model_id, endpoint = tuned_endpoint(client)
    finally:
        client.close()
    with Corpus.open(settings=settings) as corpus:
        register(corpus, model_id, endpoint, alias=None)
    monkeypatch.setenv("HUMORTUNE_MODEL", endpoint)  # a container names its model by environment only
    assert main(["-w", str(settings.workspace), "serve", "--offline"]) == 0
    err = capsys.readouterr().err
    assert f"serving model: {model_id}" in err and "BASE model" not in err
