"""Tuned-model (and catalog base-model) calls ask for the lowest thinking the base accepts, in the shape it takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from humortune.analyzer.analyzer import Analyzer, lowest_thinking
from humortune.analyzer.batch import batch_request
from humortune.analyzer.video import VideoRef
from humortune.errors import AnalysisRequestError
from humortune.settings import Settings
from humortune.testing import FakeGemini
from humortune.testing.vertex_schema import validate
from humortune.workspace import Corpus
from tests._tuner_support import client_for

VIDEO = "gs://bkt/training/videos/clip.mp4"


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", project="demo-proj", location="us-central1")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gemini-2.5-flash", {"thinking_budget": 0, "thinking_level": None}),
        ("publishers/google/models/gemini-2.5-flash-lite-001", {"thinking_budget": 0, "thinking_level": None}),
        ("gemini-2.5-pro", {"thinking_budget": 128, "thinking_level": None}),  # Pro cannot turn thinking off
        ("gemini-3.5-flash", {"thinking_budget": None, "thinking_level": "MINIMAL"}),
        ("gemini-3.1-flash-lite", {"thinking_budget": None, "thinking_level": "MINIMAL"}),
        ("gemini-9-ultra", {"thinking_budget": None, "thinking_level": None}),
    ],
)
def test_lowest_thinking_per_base(model: str, expected: dict[str, object]) -> None:
    assert lowest_thinking(model) == expected


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        ("gemini-3.5-flash", {"thinking_budget": 0}, "Thinking budget is not supported for this model"),
        ("gemini-2.5-flash", {"thinking_level": "MINIMAL"}, "Thinking level is not supported for this model"),
        ("gemini-2.5-pro", {"thinking_budget": 0}, "only works in thinking mode"),
    ],
)
def test_the_fake_refuses_a_thinking_shape_the_model_does_not_take(
    demo: Settings, model: str, kwargs: dict[str, object], message: str
) -> None:
    client = client_for(demo, FakeGemini(strict=True))
    with pytest.raises(AnalysisRequestError, match=message):
        client.generate(model=model, prompt="x", video_uri=VIDEO, **kwargs)  # type: ignore[arg-type]


def test_a_level_is_sent_as_thinking_config_and_parses_as_the_proto(demo: Settings) -> None:
    fake = FakeGemini(strict=True)
    client = client_for(demo, fake)
    client.generate(model="gemini-3.5-flash", prompt="x", video_uri=VIDEO, **lowest_thinking("gemini-3.5-flash"))
    (call,) = fake.calls(":generateContent")
    assert call.body is not None and call.body["generationConfig"]["thinkingConfig"] == {"thinking_level": "MINIMAL"}
    validate("GenerateContentRequest", call.body)


def test_batch_lines_carry_the_same_thinking_setting(demo: Settings) -> None:
    with Corpus.open(settings=demo) as corpus:
        analyzer = Analyzer("gemini-3.5-flash", client=client_for(demo, FakeGemini()), settings=demo, corpus=corpus)
        line = batch_request(analyzer, VideoRef(uri=VIDEO, mime_type="video/mp4", sha256=None))
        assert line["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "MINIMAL"}
        old = Analyzer("gemini-2.5-flash", client=analyzer.client, settings=demo, corpus=corpus)
        assert batch_request(old, VideoRef(uri=VIDEO, mime_type="video/mp4", sha256=None))["generationConfig"][
            "thinkingConfig"
        ] == {"thinkingBudget": 0}
