"""`GenerationRequest` and `BatchRequest`: what the analyzer sends, as frozen values built without I/O.

`humortune.analyzer.Analyzer.build` makes the `GenerationRequest` of one stage (narrative, or record extraction
from a narrative) and `GeminiClient.generate(request)` sends exactly it; `humortune.analyzer.batch` makes the
`BatchRequest` (its JSONL rows included) and `GeminiClient.create_batch_job(request)` sends it. The values hold
no clients, so a test or a dry run can inspect what would be sent without any call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pydantic

from humortune.schema import OutputMode

__all__ = ["BatchRequest", "GenerationRequest", "Stage"]

Stage = Literal["narrative", "record"]


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One ``generate_content`` call: the send fields plus the mode and stage it serves (not sent)."""

    model: str
    """The call name: a base model id or a tuned endpoint resource."""
    prompt: str
    mode: OutputMode
    stage: Stage = "narrative"
    video_uri: str | None = None
    mime_type: str = "video/mp4"
    media_resolution: str | None = None
    system_instruction: str | None = None
    response_schema: type[pydantic.BaseModel] | None = None
    temperature: float = 0.0
    max_output_tokens: int | None = None
    thinking_budget: int | None = None
    thinking_level: str | None = None

    def generate_kwargs(self) -> dict[str, Any]:
        """The keyword form of `GeminiClient.generate` for this request (the send fields only)."""
        return {
            "model": self.model,
            "prompt": self.prompt,
            "video_uri": self.video_uri,
            "mime_type": self.mime_type,
            "media_resolution": self.media_resolution,
            "system_instruction": self.system_instruction,
            "response_schema": self.response_schema,
            "temperature": self.temperature,
            "max_output_tokens": self.max_output_tokens,
            "thinking_budget": self.thinking_budget,
            "thinking_level": self.thinking_level,
        }


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One batch prediction job: the model resource, the JSONL rows uploaded to ``src_uri``, and where to write."""

    model: str
    src_uri: str
    dest_uri: str
    display_name: str | None
    rows: tuple[str, ...] = ()
    """The input lines (``{"request": …}`` JSON, one per clip) in upload order."""

    def job_kwargs(self) -> dict[str, Any]:
        """The keyword form of `GeminiClient.create_batch_job` for this request (the rows are uploaded apart)."""
        return {
            "model": self.model,
            "src_uri": self.src_uri,
            "dest_uri": self.dest_uri,
            "display_name": self.display_name,
        }

    @property
    def payload(self) -> bytes:
        """The JSONL file uploaded to ``src_uri``."""
        return ("\n".join(self.rows) + "\n").encode("utf-8")
