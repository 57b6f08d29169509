"""Requests as values for the analyzer: `GenerationRequest` and `BatchRequest` are frozen, built without any
client call, and sending one puts on the wire exactly the body the keyword form sends."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any, NoReturn, cast

import pytest

from humortune.analyzer.analyzer import Analyzer, lowest_thinking
from humortune.analyzer.batch import batch_request, build_batch_request
from humortune.analyzer.request import BatchRequest, GenerationRequest
from humortune.analyzer.video import VideoRef
from humortune.gemini import GeminiClient
from humortune.schema import HumorRecord
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing import FakeGemini
from humortune.workspace import Corpus
from tests._tuner_support import client_for

VIDEO = "gs://bkt/training/videos/clip.mp4"
REF = VideoRef(uri=VIDEO, mime_type="video/mp4", sha256=None)


class RaisingClient:
    """Stands in for a GeminiClient and fails the test on any use: building must do no I/O."""

    def __getattr__(self, name: str) -> NoReturn:
        raise AssertionError(f"the client was used while building a request: {name}")


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", project="demo-proj", location="us-central1")


@pytest.fixture
def offline_analyzer(demo: Settings, tmp_path: Path) -> Any:
    with Corpus.open(settings=demo) as corpus:
        client = cast(GeminiClient, RaisingClient())
        storage = LocalStorage(tmp_path / "store")
        yield Analyzer("gemini-3.5-flash", client=client, settings=demo, corpus=corpus, storage=storage)


def test_both_values_are_frozen() -> None:
    generation = GenerationRequest(model="gemini-2.5-flash", prompt="x", mode="narrative")
    batch = BatchRequest(model="gemini-2.5-flash", src_uri="gs://b/i.jsonl", dest_uri="gs://b/o/", display_name=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        generation.prompt = "y"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.model = "other"  # type: ignore[misc]
    assert hash(generation) == hash(GenerationRequest(model="gemini-2.5-flash", prompt="x", mode="narrative"))


def test_the_narrative_request_is_built_without_touching_the_client(offline_analyzer: Analyzer) -> None:
    request = offline_analyzer.build(REF)
    assert request.stage == "narrative" and request.mode == offline_analyzer.mode
    assert (request.model, request.prompt) == ("gemini-3.5-flash", offline_analyzer.prompt.text)
    assert (request.video_uri, request.mime_type) == (VIDEO, "video/mp4")
    assert request.media_resolution == offline_analyzer.media_resolution
    assert request.system_instruction == offline_analyzer.prompt.system_instruction
    assert request.thinking_level == lowest_thinking("gemini-3.5-flash")["thinking_level"] == "MINIMAL"
    assert request.thinking_budget is None and request.response_schema is None


def test_the_record_request_is_text_only_unless_asked(offline_analyzer: Analyzer) -> None:
    request = offline_analyzer.build(REF, narrative="Det roliga i detta klipp är katten.")
    assert request.stage == "record" and request.response_schema is HumorRecord
    assert "Det roliga i detta klipp är katten." in request.prompt
    assert request.model == offline_analyzer.record_model
    assert request.video_uri is None and request.media_resolution is None
    offline_analyzer.record_with_video = True
    with_video = offline_analyzer.build(REF, narrative="Det roliga i detta klipp är katten.")
    assert with_video.video_uri == VIDEO and with_video.media_resolution == offline_analyzer.media_resolution


def test_the_batch_request_is_built_without_touching_the_client(offline_analyzer: Analyzer) -> None:
    items = [{"uri": VIDEO, "sha256": None, "mime_type": "video/mp4"}]
    request = build_batch_request(offline_analyzer, items, display_name="nightly")
    assert request.model == "gemini-3.5-flash" and request.display_name == "nightly"
    assert request.src_uri.endswith("/input.jsonl") and request.dest_uri.rstrip("/").endswith("/output")
    assert [json.loads(row) for row in request.rows] == [{"request": batch_request(offline_analyzer, REF)}]
    assert request.payload == (request.rows[0] + "\n").encode()
    again = build_batch_request(offline_analyzer, items)
    assert again.src_uri == request.src_uri and again.display_name and again.display_name.startswith("humortune-")


@pytest.mark.parametrize("narrative", [None, "Det roliga i detta klipp är katten."])
def test_sending_a_generation_request_sends_the_keyword_body(
    offline_analyzer: Analyzer, demo: Settings, narrative: str | None
) -> None:
    request = offline_analyzer.build(REF, narrative=narrative)
    fake = FakeGemini(strict=True)
    client = client_for(demo, fake)
    client.generate(request)
    client.generate(**request.generate_kwargs())
    first, second = fake.calls(":generateContent")
    assert first.path == second.path and first.body == second.body and first.body is not None
    assert first.body["contents"][0]["parts"][-1]["text"] == request.prompt


def test_the_async_form_sends_the_same_body(offline_analyzer: Analyzer, demo: Settings) -> None:
    request = offline_analyzer.build(REF)
    fake = FakeGemini(strict=True)
    client = client_for(demo, fake)
    asyncio.run(client.agenerate(request))
    client.generate(request)
    first, second = fake.calls(":generateContent")
    assert first.body == second.body and first.body is not None


def test_sending_a_batch_request_sends_the_keyword_body(demo: Settings) -> None:
    request = BatchRequest(
        model="gemini-2.5-flash", src_uri="gs://b/i.jsonl", dest_uri="gs://b/o/", display_name="nightly", rows=("{}",)
    )
    fake = FakeGemini(strict=True)
    client = client_for(demo, fake)
    client.create_batch_job(request)
    client.create_batch_job(
        model="gemini-2.5-flash", src_uri="gs://b/i.jsonl", dest_uri="gs://b/o/", display_name="nightly"
    )
    first, second = fake.calls("batchPredictionJobs", method="POST")
    assert first.body == second.body and first.body is not None
    assert first.body["displayName"] == "nightly" and first.body["inputConfig"]["gcsSource"]["uris"] == [
        "gs://b/i.jsonl"
    ]
