"""Tuning rows: exactly Vertex's Gemini JSONL, checked strictly against the Vertex AI discovery documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from humortune.dataset import DatasetBuilder, TuningExample, dumps_row, example_row, render_target
from humortune.dataset.rows import example_line
from humortune.prompts import DEFAULT_PROMPT, Prompt
from humortune.schema import HumorRecord
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.vertex_schema import VertexSchemaError
from humortune.testing.vertex_schema import validate as strict
from humortune.workspace import Corpus

from ._dataset_support import RECORD, add_clip


def strict_row(row: dict[str, Any]) -> None:
    """Every part of a tuning row parses strictly (discovery documents, v1beta1 then v1, unknown fields rejected)."""
    for content in row["contents"]:
        strict("Content", content)
    if "systemInstruction" in row:
        strict("Content", row["systemInstruction"])
    if "generationConfig" in row:
        strict("GenerationConfig", row["generationConfig"])
    strict("GenerateContentRequest", row)  # also rejects unknown top-level keys


def test_strict_helper_rejects_a_misspelled_key() -> None:
    row = example_row(
        file_uri="gs://b/v.mp4",
        mime_type="video/mp4",
        prompt=DEFAULT_PROMPT,
        target="x",
        media_resolution="MEDIA_RESOLUTION_LOW",
    )
    strict_row(row)
    row["contents"][0]["parts"][0]["fileData"]["fileUrl"] = row["contents"][0]["parts"][0]["fileData"].pop("fileUri")
    with pytest.raises(VertexSchemaError, match="fileUrl"):
        strict_row(row)
    bad_config = {"mediaResolution": "MEDIA_RESOLUTION_LOWEST"}
    with pytest.raises(VertexSchemaError):
        strict("GenerationConfig", bad_config)
    with pytest.raises(VertexSchemaError, match="response"):
        strict("GenerateContentRequest", {"contents": [], "response": "x"})


def test_every_built_row_parses_strictly(corpus: Corpus, settings: Settings) -> None:
    storage = LocalStorage(settings.workspace / "storage")
    for n in range(12):
        add_clip(corpus, storage, n, niche=("mat", "katter")[n % 2], record=RECORD)
    for target_format in ("narrative", "narrative+record"):
        version = DatasetBuilder(corpus, storage, settings=settings).build(target_format=target_format)
        for uri in (version.train_uri, version.validation_uri):
            assert uri is not None
            lines = storage.path(uri.split("/storage/", 1)[1]).read_text("utf-8").splitlines()
            assert lines
            for line in lines:
                row = json.loads(line)
                strict_row(row)
                assert set(row) == {"contents", "generationConfig"}
                assert [c["role"] for c in row["contents"]] == ["user", "model"]
                user_parts = row["contents"][0]["parts"]
                assert user_parts[0]["fileData"]["mimeType"] == "video/mp4"
                assert user_parts[1] == {"text": DEFAULT_PROMPT.text}
                assert row["generationConfig"] == {"mediaResolution": "MEDIA_RESOLUTION_LOW"}


def test_typed_model_and_fast_path_agree() -> None:
    prompt = Prompt("Analysera denna video.", system_instruction="Svara på svenska.")
    row = example_row(
        file_uri="gs://bkt/training/videos/1.mp4",
        mime_type="video/mp4",
        prompt=prompt,
        target="Det roliga är åäö.",
        media_resolution="MEDIA_RESOLUTION_MEDIUM",
    )
    typed = TuningExample.for_video(
        file_uri="gs://bkt/training/videos/1.mp4",
        prompt=prompt,
        target="Det roliga är åäö.",
        media_resolution="MEDIA_RESOLUTION_MEDIUM",
    )
    assert typed.to_row() == row
    assert TuningExample.model_validate(row).to_row() == row
    assert row["systemInstruction"] == {"parts": [{"text": "Svara på svenska."}]}
    strict_row(row)


def test_utf8_is_written_as_is() -> None:
    row = example_row(
        file_uri="gs://b/v.mp4",
        mime_type="video/mp4",
        prompt=DEFAULT_PROMPT,
        target="Blåbär och öl på fjället",
        media_resolution=None,
    )
    line = dumps_row(row)
    assert "Blåbär och öl på fjället" in line and "\\u00e5" not in line
    assert "generationConfig" not in row
    assert json.loads(line) == row


def test_typed_model_rejects_the_seed_response_field() -> None:
    seed_style = {
        "contents": [{"role": "user", "parts": [{"text": "Analysera"}]}, {"role": "model", "parts": [{"text": "x"}]}],
        "response": "Det roliga …",
    }
    with pytest.raises(ValueError, match="response"):
        TuningExample.model_validate(seed_style)


def test_target_formats() -> None:
    record = HumorRecord.model_validate(RECORD)
    assert render_target("  Det roliga är katten.  ", record, "narrative") == "Det roliga är katten."
    combined = render_target("Det roliga är katten.", record, "narrative+record")
    assert combined is not None
    narrative, fenced = combined.split("\n\n", 1)
    assert narrative == "Det roliga är katten."
    assert fenced.startswith("```json\n") and fenced.endswith("\n```")
    assert HumorRecord.parse(fenced) == record
    assert "välter" in fenced  # not \\u-escaped
    assert render_target("Det roliga är katten.", None, "narrative+record") is None
    with pytest.raises(ValueError, match="unknown target format"):
        render_target("x", None, "record")  # type: ignore[arg-type]


AWKWARD = ["", "a", 'Det "roliga" å\\ä\nö\t\x00\x1f\u2028 😀', "gs://b/x y%20.mp4", '\\"', "</script>"]


@pytest.mark.parametrize("prompt", [DEFAULT_PROMPT, Prompt('x"y', system_instruction='Svara på "svenska"\n')])
@pytest.mark.parametrize("resolution", [None, "MEDIA_RESOLUTION_LOW"])
def test_fast_line_is_byte_identical_to_encoding_the_row(prompt: Prompt, resolution: str | None) -> None:
    for target in AWKWARD:
        for uri in AWKWARD:
            args = {"file_uri": uri, "mime_type": "video/mp4", "prompt": prompt, "target": target}
            line = example_line(**args, media_resolution=resolution)  # type: ignore[arg-type]
            row = example_row(**args, media_resolution=resolution)  # type: ignore[arg-type]
            assert line == dumps_row(row)
            assert json.loads(line) == row
