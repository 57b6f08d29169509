"""What ``/v1/analyze`` accepts (issue 15, item 6 and the API items): only its own gs:// objects, a strict
``refresh``, the error shape on every 404, and malformed JSON named as the body."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from humortune.gemini import GeminiClient
from humortune.service import create_app
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.fake_gemini import FakeGemini
from humortune.workspace import Corpus
from tests._analyzer_support import register, tuned_endpoint

TOKEN = "test-token-for-inputs-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OWN = "gs://own-bucket/humortune/training/videos/7301234567890123456.mp4"


@pytest.fixture
def api(settings: Settings, corpus: Corpus, fake_gemini_client: GeminiClient) -> Iterator[TestClient]:
    client = fake_gemini_client
    model_id, endpoint = tuned_endpoint(client)
    register(corpus, model_id, endpoint)
    settings = settings.model_copy(update={"storage": "gs://own-bucket/humortune"})
    app = create_app(
        settings, corpus=corpus, client=client, storage=LocalStorage(settings.workspace / "s"), token=TOKEN
    )
    with TestClient(app) as test_client:
        yield test_client


def _analyses(corpus: Corpus) -> list[str]:
    return [str(r["video_uri"]) for r in corpus.db.query("SELECT video_uri FROM analyses")]


def test_own_object_is_analysed(api: TestClient, corpus: Corpus) -> None:
    response = api.post("/v1/analyze", json={"video": OWN}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert _analyses(corpus) == [OWN]


@pytest.mark.parametrize(
    "video",
    [
        "gs://someone-else/training/videos/7301234567890123456.mp4",  # another party's bucket
        "gs://own-bucket/other-prefix/x.mp4",  # the right bucket, outside the storage prefix
        "gs://own-bucket/humortune-evil/x.mp4",  # a prefix of the prefix is not under it
    ],
)
def test_foreign_objects_are_refused_and_never_recorded(
    api: TestClient, corpus: Corpus, fake: FakeGemini, video: str
) -> None:
    before = len(fake.requests)
    response = api.post("/v1/analyze", json={"video": video}, headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ForeignObjectError" and body["fields"] == ["video"]
    assert "gs://own-bucket/humortune/" in body["hint"]
    assert len(fake.requests) == before and _analyses(corpus) == []


@pytest.mark.parametrize(
    "video",
    [
        "gs://",
        "gs:///x.mp4",
        "gs://own-bucket",
        "gs://own-bucket/",
        "gs://own-bucket/humortune/../../x.mp4",
        "gs://own-bucket/humortune/./x.mp4",
        "gs://own-bucket/humortune//x.mp4",
        "gs://own-bucket/humortune/x.mp4?X-Goog-Signature=abc",
        "gs://own-bucket/humortune/x\u0000.mp4",
        "gs://own-bucket/humortune/x\\..\\y.mp4",
        "gs://Own_Bucket!/x.mp4",
        "gs://own-bucket/humortune/" + "x" * 1100,
    ],
)
def test_malformed_object_names_are_422(api: TestClient, corpus: Corpus, video: str) -> None:
    response = api.post("/v1/analyze", json={"video": video}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["fields"] == ["video"]
    assert _analyses(corpus) == []


def test_an_ingested_video_elsewhere_is_still_accepted(api: TestClient, corpus: Corpus) -> None:
    from humortune.schema import VideoAsset

    uri = "gs://old-bucket/training/videos/7301234567890123499.mp4"  # stored before the storage moved
    corpus.add_video(
        VideoAsset(
            sha256="a" * 64, source_id="7301234567890123499", size_bytes=10, duration_s=1.0, width=2, height=2,
            codec="h264", fps=30.0, has_audio=True, mime="video/mp4", container="mp4", uri=uri,
        )
    )  # fmt: skip
    assert api.post("/v1/analyze", json={"video": uri}, headers=AUTH).status_code == 200


@pytest.mark.parametrize("value", [0, 1, "yes", "true", "1", None, [], {}])
def test_refresh_must_be_a_real_boolean(api: TestClient, fake: FakeGemini, value: object) -> None:
    assert api.post("/v1/analyze", json={"video": OWN}, headers=AUTH).status_code == 200
    before = len(fake.requests)
    response = api.post("/v1/analyze", json={"video": OWN, "refresh": value}, headers=AUTH)
    assert response.status_code == 422 and response.json()["fields"] == ["refresh"]
    assert len(fake.requests) == before  # no billed call


def test_refresh_true_calls_again(api: TestClient, fake: FakeGemini) -> None:
    assert api.post("/v1/analyze", json={"video": OWN}, headers=AUTH).status_code == 200
    before = len(fake.requests)
    assert api.post("/v1/analyze", json={"video": OWN, "refresh": True}, headers=AUTH).status_code == 200
    assert len(fake.requests) > before


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("GET", "/v2/analyze"), ("DELETE", "/healthz")])
def test_errors_outside_v1_have_the_documented_shape(api: TestClient, method: str, path: str) -> None:
    response = api.request(method, path)
    assert response.status_code in (404, 405)
    body = response.json()
    assert set(body) >= {"error", "message"} and body["error"] in ("NotFound", "MethodNotAllowed")


@pytest.mark.parametrize("raw", [b'{"video": ', b'{"video": "gs://x/y.mp4",}', b"\xff\xfe"])
def test_malformed_json_names_the_body_not_an_offset(api: TestClient, raw: bytes) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = api.post("/v1/analyze", content=raw, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["fields"] == ["body"] and "JSON" in body["message"]
