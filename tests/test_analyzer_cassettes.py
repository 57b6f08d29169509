"""Contract tests: the analyzer's generate_content traffic replayed from hand-written Vertex cassettes.

The cassettes hold real request/response shapes (google-genai 2.34's exact request bodies, Vertex's response
fields). Every body is validated strictly against the aiplatform protos (unknown fields rejected), and the body
matcher makes any drift in what the analyzer sends (prompt, media resolution, config) fail loudly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from humortune.analyzer.analyzer import Analyzer
from humortune.errors import AnalysisError, ModelNotFoundError
from humortune.gemini import GeminiClient
from humortune.prompts import Prompt
from humortune.schema import Category
from humortune.settings import Settings
from humortune.testing.vertex_schema import VertexSchemaError, message_for, validate
from humortune.workspace import Corpus
from tests._analyzer_support import register

CASSETTES = Path(__file__).parent / "cassettes" / "test_analyzer_cassettes"
ENDPOINT = "projects/demo-proj/locations/us-central1/endpoints/4471858122734452736"
MODEL = "projects/demo-proj/locations/us-central1/models/2919493751024205824@1"
VIDEO = "gs://humortune-demo/training/videos/7301234567890123456.mp4"
PROMPT = Prompt(
    "Analysera denna video. Förklara vad som händer och varför det är roligt eller effektivt. Var specifik.",
    "Du skriver som kontots ägare, på svenska.",
)


def cassette(name: str) -> str:
    return str(CASSETTES / name)


def recorded(name: str) -> list[dict[str, Any]]:
    interactions: list[dict[str, Any]] = yaml.safe_load((CASSETTES / name).read_text("utf-8"))["interactions"]
    return interactions


@pytest.mark.vcr(cassette("tuned_endpoint_two_stage.yaml"))
def test_tuned_endpoint_two_stage_replay(demo: Settings, vertex: GeminiClient) -> None:
    with Corpus.open(settings=demo) as corpus:
        register(corpus, MODEL, ENDPOINT, prompt=PROMPT, media_resolution="MEDIA_RESOLUTION_MEDIUM")
        # Recorded when the record stage ran on gemini-2.5-flash (a thinking budget, not a level).
        analyzer = Analyzer("current", client=vertex, settings=demo, corpus=corpus, record_model="gemini-2.5-flash")
        analysis = analyzer.analyze(VIDEO)
        dataset = corpus.db.query_one("SELECT * FROM dataset_versions WHERE id = 'ds-test'")
    assert analysis.narrative.startswith("Det roliga i detta klipp är att kocken kommenterar")
    assert analysis.record is not None and analysis.record.category is Category.COMEDY
    assert analysis.record.mechanism == "sportkommentatorns allvar kring ett vanligt stekt ägg"
    assert analysis.warnings == []
    assert (analysis.usage.prompt_tokens, analysis.usage.output_tokens) == (2961 + 232, 84 + 71)
    assert analysis.cost_usd == pytest.approx((3193 * 0.30 + 155 * 2.50) / 1e6)
    assert analysis.model == MODEL and analysis.prompt_version == PROMPT.version

    # The request the tuned endpoint got carries exactly the dataset version's prompt and media resolution.
    assert dataset is not None
    tuned = json.loads(recorded("tuned_endpoint_two_stage.yaml")[0]["request"]["body"])
    settings = json.loads(dataset["settings_json"])["prompt"]
    assert tuned["contents"][0]["parts"][1]["text"] == settings["text"]
    assert tuned["systemInstruction"]["parts"][0]["text"] == settings["system_instruction"]
    assert Prompt(settings["text"], settings["system_instruction"]).version == dataset["prompt_version"]
    assert tuned["generationConfig"]["mediaResolution"] == dataset["media_resolution"]


@pytest.mark.vcr(cassette("base_model_narrative.yaml"))
def test_base_model_replay(demo: Settings, vertex: GeminiClient) -> None:
    with Corpus.open(settings=demo) as corpus:
        analysis = Analyzer("gemini-2.5-flash", client=vertex, settings=demo, corpus=corpus, mode="narrative").analyze(
            VIDEO
        )
    assert analysis.narrative.startswith("Det roliga i detta klipp är kontrasten")
    assert analysis.record is None and analysis.model == "gemini-2.5-flash"
    assert analysis.usage.total_tokens == 823


@pytest.mark.vcr(cassette("endpoint_not_found.yaml"))
def test_unknown_endpoint_replay(demo: Settings, vertex: GeminiClient) -> None:
    missing = ENDPOINT.rsplit("/", 1)[0] + "/999"
    with Corpus.open(settings=demo) as corpus:
        register(corpus, MODEL, missing, prompt=PROMPT, media_resolution="MEDIA_RESOLUTION_MEDIUM")
        with pytest.raises(ModelNotFoundError, match="not found") as info:
            Analyzer("current", client=vertex, settings=demo, corpus=corpus).analyze(VIDEO)
    assert "humortune models" in (info.value.hint or "") or "location" in (info.value.hint or "")


@pytest.mark.vcr(cassette("tuned_endpoint_two_stage.yaml"))
def test_a_different_media_resolution_does_not_match(demo: Settings, vertex: GeminiClient) -> None:
    """The body matcher is strict: tuned at LOW but the cassette says MEDIUM → no replay."""
    with Corpus.open(settings=demo) as corpus:
        register(corpus, MODEL, ENDPOINT, prompt=PROMPT, media_resolution="MEDIA_RESOLUTION_LOW")
        with pytest.raises(AnalysisError, match="CannotOverwriteExistingCassetteException"):
            Analyzer("current", client=vertex, settings=demo, corpus=corpus).analyze(VIDEO)


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassette_bodies_are_strict_vertex_protos(path: Path) -> None:
    interactions = yaml.safe_load(path.read_text("utf-8"))["interactions"]
    assert interactions
    for item in interactions:
        request, response = item["request"], item["response"]
        route = request["uri"].split("aiplatform.googleapis.com", 1)[1]
        assert request["headers"]["Content-Type"] == ["application/json"]  # JSON-aware body matching
        validate(message_for(request["method"], route, response=False) or "", json.loads(request["body"]))
        body = json.loads(response["body"]["string"])
        if response["status"]["code"] == 200:
            validate(message_for(request["method"], route, response=True) or "", body)
        else:  # google.rpc.Status as Vertex wraps it
            assert set(body["error"]) == {"code", "message", "status"}
            assert body["error"]["code"] == response["status"]["code"]
        assert "fake-token" not in path.read_text("utf-8") and "Bearer" not in path.read_text("utf-8")


def test_validation_rejects_unknown_fields() -> None:
    body = json.loads(recorded("base_model_narrative.yaml")[0]["request"]["body"])
    body["generationConfig"]["temprature"] = 0.0
    with pytest.raises(VertexSchemaError, match="temprature"):
        validate("GenerateContentRequest", body)
    answer = json.loads(recorded("base_model_narrative.yaml")[0]["response"]["body"]["string"])
    answer["candidates"][0]["finishReason"] = "DONE"
    with pytest.raises(VertexSchemaError):
        validate("GenerateContentResponse", answer)
