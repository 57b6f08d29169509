"""Tuning rows in exactly Vertex AI's Gemini format (camelCase JSONL), and the training target.

One row per correction: a ``user`` turn with the video (``fileData``) and the prompt text, then a ``model``
turn with the owner's answer; the media resolution goes in ``generationConfig``:

```json
{"contents":[{"role":"user","parts":[{"fileData":{"mimeType":"video/mp4","fileUri":"gs://b/training/videos/1.mp4"}},
 {"text":"Analysera denna video. …"}]},{"role":"model","parts":[{"text":"Det roliga i detta klipp är …"}]}],
 "generationConfig":{"mediaResolution":"MEDIA_RESOLUTION_LOW"}}
```

There is no top-level ``"response"``: the answer is the last ``contents`` item. `TuningExample` is the typed
model (validate or build rows with it); `example_row` builds the same dict directly, which is what the
builder uses for speed (a test proves the two agree).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from humortune.prompts import Prompt
from humortune.schema import HumorRecord, TargetFormat

__all__ = [
    "TARGET_FORMATS",
    "Content",
    "FileData",
    "GenerationConfig",
    "Part",
    "PartMediaResolution",
    "TuningExample",
    "VideoMetadata",
    "dumps_row",
    "example_line",
    "example_row",
    "render_target",
]

TARGET_FORMATS: tuple[TargetFormat, ...] = ("narrative", "narrative+record")
"""``narrative``: the owner's text (``human_said``); ``narrative+record``: that text, then the record as JSON."""

MediaResolutionValue = Literal["MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"]


class _Wire(BaseModel):
    # snake_case in Python, camelCase on the wire; unknown keys are errors, not silently dropped.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class FileData(_Wire):
    """A reference to a stored file: ``{"mimeType": …, "fileUri": …}``."""

    mime_type: str = Field(min_length=1)
    file_uri: str = Field(min_length=1)


class VideoMetadata(_Wire):
    """Segment of a video to use, as Duration strings (``"5s"``, ``"12.5s"``)."""

    start_offset: str | None = None
    end_offset: str | None = None


class PartMediaResolution(_Wire):
    """Per-part media resolution (Gemini 3 and later only)."""

    level: str


class Part(_Wire):
    """One part of a turn: text, or a file (with optional segment and, on Gemini 3, resolution)."""

    text: str | None = None
    file_data: FileData | None = None
    video_metadata: VideoMetadata | None = None
    media_resolution: PartMediaResolution | None = None


class Content(_Wire):
    """One turn: a role and its parts."""

    role: Literal["user", "model", "system"] | None = None
    parts: list[Part] = Field(min_length=1)


class GenerationConfig(_Wire):
    """Per-example generation settings; tuning uses only the media resolution."""

    media_resolution: MediaResolutionValue | None = None


class TuningExample(_Wire):
    """One line of a Gemini tuning JSONL file."""

    system_instruction: Content | None = None
    contents: list[Content] = Field(min_length=2)
    generation_config: GenerationConfig | None = None

    def to_row(self) -> dict[str, Any]:
        """The JSON-ready dict, camelCase, without empty fields."""
        return self.model_dump(by_alias=True, exclude_none=True)

    def to_json(self) -> str:
        """The JSONL line (UTF-8 text as written, no trailing newline)."""
        return dumps_row(self.to_row())

    @classmethod
    def for_video(
        cls,
        *,
        file_uri: str,
        prompt: Prompt,
        target: str,
        mime_type: str = "video/mp4",
        media_resolution: MediaResolutionValue | None = "MEDIA_RESOLUTION_LOW",
    ) -> TuningExample:
        """Build the typed example for one clip (same shape as `example_row`)."""
        return cls.model_validate(
            example_row(
                file_uri=file_uri,
                mime_type=mime_type,
                prompt=prompt,
                target=target,
                media_resolution=media_resolution,
            )
        )


def example_row(
    *,
    file_uri: str,
    mime_type: str,
    prompt: Prompt,
    target: str,
    media_resolution: str | None,
) -> dict[str, Any]:
    """The row dict for one clip: user turn (video + prompt), model turn (target), media resolution.

    The fast path the builder uses; `TuningExample.model_validate` of the result round-trips unchanged.
    """
    row: dict[str, Any] = {}
    if prompt.system_instruction:
        row["systemInstruction"] = {"parts": [{"text": prompt.system_instruction}]}
    row["contents"] = [
        {"role": "user", "parts": [{"fileData": {"mimeType": mime_type, "fileUri": file_uri}}, {"text": prompt.text}]},
        {"role": "model", "parts": [{"text": target}]},
    ]
    if media_resolution is not None:
        row["generationConfig"] = {"mediaResolution": media_resolution}
    return row


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode_str: Callable[[str], str] = (
    getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
)


def dumps_row(row: dict[str, Any]) -> str:
    """One JSONL line: compact, key order kept, non-ASCII written as-is (å/ä/ö stay å/ä/ö)."""
    return _ENCODER.encode(row)


def example_line(
    *,
    file_uri: str,
    mime_type: str,
    prompt: Prompt,
    target: str,
    media_resolution: str | None,
) -> str:
    """Exactly ``dumps_row(example_row(...))`` for the same arguments, without building and walking a dict.

    The builder writes 10,000s of rows; filling the fixed shape with json's own string encoder is ~4x
    faster than encoding the dict. A test checks byte equality on awkward strings (quotes, control
    characters, non-ASCII).
    """
    enc = _encode_str
    head = (
        f'{{"systemInstruction":{{"parts":[{{"text":{enc(prompt.system_instruction)}}}]}},'
        if prompt.system_instruction
        else "{"
    )
    tail = (
        f',"generationConfig":{{"mediaResolution":{enc(media_resolution)}}}}}' if media_resolution is not None else "}"
    )
    return (
        f'{head}"contents":[{{"role":"user","parts":[{{"fileData":{{"mimeType":{enc(mime_type)},'
        f'"fileUri":{enc(file_uri)}}}}},{{"text":{enc(prompt.text)}}}]}},'
        f'{{"role":"model","parts":[{{"text":{enc(target)}}}]}}]{tail}'
    )


def render_target(narrative: str, record: HumorRecord | None, target_format: TargetFormat) -> str | None:
    """What the model turn says, or ``None`` if this correction cannot be a row in that format.

    ``narrative``: the owner's text as written. ``narrative+record``: the text, a blank line, then the
    owner's record as JSON in a ```` ```json ```` fence (``None`` when the correction has no record).
    """
    text = narrative.strip()
    if target_format == "narrative":
        return text
    if target_format == "narrative+record":
        if record is None:
            return None
        body = json.dumps(record.model_dump(mode="json"), ensure_ascii=False, indent=2)
        return f"{text}\n\n```json\n{body}\n```"
    raise ValueError(f"unknown target format {target_format!r}; expected one of {', '.join(TARGET_FORMATS)}")
