"""Every Vertex AI tuning limit humortune checks, in one table with its source.

When Google changes a limit, change it here: the validator, the estimator and the docs' rules table
(``docs/datasets.md``, checked by a test against this module) all read from this file.

Sources (see ``reference/vertex-gemini-tuning.md`` for the quoted pages):

* **[VT]** video tuning page, docs.cloud.google.com/gemini-enterprise-agent-platform/models/tuning/video
* **[SFT]** supervised tuning page, …/models/tuning/supervised-tuning (updated 2026-09-25)
* **[PREP]** prepare-data page, …/models/tuning/supervised-tuning/prepare-data
* **[VU]** video understanding page, …/models/capabilities/video-understanding (updated 2026-10-01)
* **[TOK]** Gemini API token docs (audio tokens per second), ai.google.dev/gemini-api/docs/tokens
* **[NB]** Google's token-count notebook, GoogleCloudPlatform/generative-ai
  ``gemini/tuning/vertexai_supervised_tuning_token_count_and_cost_estimation.ipynb``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ALLOWED_TOP_LEVEL_KEYS",
    "AUDIO_TOKENS_PER_SECOND",
    "FOREIGN_TOP_LEVEL_KEYS",
    "FRAMES_PER_SECOND",
    "LIMITS",
    "MAX_CLIP_SECONDS",
    "MEDIA_RESOLUTIONS",
    "PADDING_TOKENS_PER_RECORD",
    "ROLES",
    "SUPPORTED_VIDEO_MIME_TYPES",
    "TOKENS_PER_FRAME",
    "Limit",
    "Severity",
    "model_family",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Limit:
    """One documented limit: its value, what happens past it, and where it is written down."""

    name: str
    value: float
    unit: str
    severity: Severity
    """``error``: Vertex rejects or drops the example; ``warning``: guidance, the job still runs."""
    description: str
    source: str

    def display(self) -> str:
        """The value as people read it: ``100 MiB``, ``131,072 tokens``, ``30% × train``."""
        if self.unit == "bytes":
            for size, name in ((1024**3, "GiB"), (1024**2, "MiB")):
                if self.value >= size and self.value % size == 0:
                    return f"{self.value / size:g} {name}"
        if self.value < 1:
            return f"{self.value:.0%} {self.unit}"
        return f"{self.value:,.0f} {self.unit}"


_LIMIT_LIST = [
    Limit(
        "max_video_bytes",
        100 * 1024 * 1024,
        "bytes",
        "error",
        "largest video file an example may reference (drop, downscale or chunk bigger clips)",
        "[VT]",
    ),
    Limit("videos_per_example", 1, "videos", "error", "video parts per example ('Limit 1 video per example')", "[VT]"),
    Limit(
        "max_tokens_per_example",
        131_072,
        "tokens",
        "error",
        "input + output tokens of one training example (all SFT models)",
        "[SFT]",
    ),
    Limit("max_file_bytes", 1024**3, "bytes", "error", "size of one training JSONL file", "[SFT]"),
    Limit("max_multimodal_examples", 300_000, "examples", "error", "multimodal examples per dataset", "[SFT]"),
    Limit("max_validation_examples", 5000, "examples", "error", "examples in the validation set", "[SFT]"),
    Limit(
        "max_validation_fraction",
        0.30,
        "× train",
        "error",
        "validation examples as a share of training examples, once there are more than 1000 validation examples",
        "[SFT]",
    ),
    Limit(
        "validation_fraction_applies_above",
        1000,
        "examples",
        "error",
        "validation size above which the 30%-of-train cap applies",
        "[SFT]",
    ),
    Limit(
        "max_invalid_fraction",
        0.10,
        "of rows",
        "error",
        "share of dropped (invalid or over-length) examples above which Vertex fails the job before training; "
        "humortune treats any invalid row as an error",
        "[VT]",
    ),
    Limit(
        "min_recommended_examples",
        100,
        "examples",
        "warning",
        "'start with 100 examples'; 100–500 recommended for best results (no hard minimum)",
        "[PREP]",
    ),
    Limit(
        "max_recommended_examples",
        500,
        "examples",
        "warning",
        "upper end of the recommended 100–500 range (more is allowed; quality beats quantity)",
        "[PREP]",
    ),
    Limit(
        "max_total_video_seconds",
        3600,
        "seconds",
        "warning",
        "the seed's caution of at most 1 hour of video per job (the documented 1 h figure is an inference limit)",
        "[VU]",
    ),
]

LIMITS: dict[str, Limit] = {limit.name: limit for limit in _LIMIT_LIST}
"""Every numeric limit by name. The single place to update when Google changes one."""

MEDIA_RESOLUTIONS = ("MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH")
"""Values ``generationConfig.mediaResolution`` may take in a tuning dataset."""

MAX_CLIP_SECONDS: dict[str, float] = {
    "MEDIA_RESOLUTION_LOW": 20 * 60,
    "MEDIA_RESOLUTION_MEDIUM": 5 * 60,
    "MEDIA_RESOLUTION_HIGH": 5 * 60,
}
"""Longest clip per example by media resolution; longer examples are dropped by Vertex [VT]."""

ModelFamily = Literal["gemini-2.5", "gemini-3"]

TOKENS_PER_FRAME: dict[ModelFamily, dict[str, tuple[int, int]]] = {
    # (low, high): the tuning page says 64/256 for 2.5 [VT]; inference docs say 66/258 [VU], the high end.
    "gemini-2.5": {
        "MEDIA_RESOLUTION_LOW": (64, 66),
        "MEDIA_RESOLUTION_MEDIUM": (256, 258),
        "MEDIA_RESOLUTION_HIGH": (256, 258),
    },
    # Gemini 3 tunes at the base model's rates [VT → VU]: LOW/MEDIUM 70, HIGH 280.
    "gemini-3": {
        "MEDIA_RESOLUTION_LOW": (70, 70),
        "MEDIA_RESOLUTION_MEDIUM": (70, 70),
        "MEDIA_RESOLUTION_HIGH": (280, 280),
    },
}
"""Video tokens per sampled frame, (low, high), by model family and media resolution."""

FRAMES_PER_SECOND = 1.0
"""Frames sampled per second of video by default [VU]."""

AUDIO_TOKENS_PER_SECOND = 32
"""Audio tokens per second of audio [TOK]."""

PADDING_TOKENS_PER_RECORD = 8
"""Estimated padding per training record (model turn) [NB]."""

ALLOWED_TOP_LEVEL_KEYS = frozenset({"systemInstruction", "contents", "tools", "generationConfig"})
"""Top-level keys of a Gemini tuning JSONL line [PREP]."""

FOREIGN_TOP_LEVEL_KEYS: dict[str, str] = {
    "response": "there is no top-level 'response' field in Gemini tuning rows",
    "request": "'request' wraps batch-prediction input, not tuning rows",
    "input_text": "'input_text'/'output_text' is the legacy PaLM tuning format",
    "output_text": "'input_text'/'output_text' is the legacy PaLM tuning format",
    "messages": "'messages' is the OpenAI chat format",
}
"""Keys from other formats that people (and the seed) put into tuning rows, with what they really are."""

ROLES = frozenset({"user", "model"})
"""Roles allowed in ``contents`` (``system`` only inside ``systemInstruction``) [PREP]."""

SUPPORTED_VIDEO_MIME_TYPES = frozenset(
    {
        "video/x-flv",
        "video/quicktime",
        "video/mpeg",
        "video/mpegs",
        "video/mpg",
        "video/mp4",
        "video/webm",
        "video/wmv",
        "video/3gpp",
        "video/mov",
        "video/avi",
        "video/mpegps",
        "video/flv",
    }
)
"""Video MIME types Gemini accepts [VU] (the tuning docs only show video/mp4)."""


def model_family(base_model: str) -> ModelFamily:
    """``gemini-3`` for Gemini 3.x bases, else ``gemini-2.5`` (the token rules differ)."""
    name = base_model.rsplit("/", 1)[-1].lower()
    return "gemini-3" if name.startswith("gemini-3") else "gemini-2.5"


def limits_markdown() -> str:
    """`LIMITS` as a Markdown table (the one in ``docs/datasets.md``; a test keeps them equal)."""
    lines = ["| limit | value | past it | meaning | source |", "|---|---|---|---|---|"]
    for limit in LIMITS.values():
        lines.append(
            f"| `{limit.name}` | {limit.display()} | {limit.severity} | {limit.description} | {limit.source} |"
        )
    for resolution, seconds in MAX_CLIP_SECONDS.items():
        lines.append(
            f"| `MAX_CLIP_SECONDS[{resolution}]` | {seconds:,.0f} seconds | error | longest clip per example "
            "at this media resolution | [VT] |"
        )
    return "\n".join(lines)
