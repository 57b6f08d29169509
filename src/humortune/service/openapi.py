"""The service's OpenAPI contract: the request model, response models a generated client can trust, the schema file.

Responses use ``json_schema_serialization_defaults_required``: a field the server always sends is *required*
in the schema (it may still be ``null`` where the type says so), while request fields with defaults stay
optional. Every route documents its error statuses with `ErrorBody`. ``humortune serve --write-openapi FILE``
writes the schema offline (`write_openapi`), which is what ``clients/typescript`` generates its types from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, field_validator

from humortune._util import SHA256_HEX, atomic_write
from humortune.schema import Analysis, OutputMode

__all__ = [
    "ANALYSIS_ID_PATTERN",
    "VIDEO_PATTERN",
    "AnalysisResponse",
    "AnalyzeRequest",
    "ErrorBody",
    "Health",
    "error_responses",
    "openapi_schema",
    "write_openapi",
]

ANALYSIS_ID_PATTERN = r"^an-[0-9a-f]{16}$"

VIDEO_PATTERN = r"^(gs://[^/\s]+/\S+|[0-9a-f]{64}|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/\S*)?)$"
"""What ``video`` may be, as a union: a ``gs://bucket/object`` URI, the sha256 of a stored video, or an
http(s) URL. The server narrows it further (a gs:// object must be under the configured storage or already
ingested; an http(s) URL must be a TikTok link or ingested before) and answers 404/422 naming the item."""

VIDEO_DESCRIPTION = (
    "One of: a `gs://bucket/object` URI of a video under the server's storage (or ingested before); "
    "the sha256 (64 lowercase hex digits) of a stored video; a TikTok URL; or another http(s) URL that was "
    "ingested before. Local paths are refused."
)


class AnalyzeRequest(BaseModel):
    """Which clip to analyse, and optionally with which model and output mode."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"video": "gs://my-bucket/training/videos/7301234567890123456.mp4"}]},
    )

    video: str = Field(
        min_length=1,
        max_length=2048,
        pattern=VIDEO_PATTERN,
        description=VIDEO_DESCRIPTION,
    )
    model: str | None = Field(
        None, max_length=512, description="Alias, model id, endpoint or base model; default: the server's."
    )
    mode: OutputMode | None = Field(None, description="two-stage (default), joint or narrative.")
    refresh: bool = Field(
        False,
        strict=True,  # it triggers a billed model call: only a JSON true/false, never 0, 1 or "yes"
        description="Ignore the cache and call the model again (costs money). JSON true or false only.",
    )

    @field_validator("video", mode="before")  # before the pattern: local paths get the clearer message
    @classmethod
    def _remote_only(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if value.startswith("gs://"):
            return _check_gs_uri(value)
        if SHA256_HEX.match(value) or value.startswith(("http://", "https://")):
            return value
        raise ValueError("must be a gs:// URI, an http(s) URL, or the sha256 of a stored video (no local paths)")


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._\-]{0,221}$")  # lower case, digits, . _ -
_FORBIDDEN = re.compile(r"[?#\\\x00-\x1f\x7f]")  # one regex: a loop over the characters cost ~30 µs a request


def _check_gs_uri(uri: str) -> str:
    """A well-formed ``gs://bucket/object`` URI: no query, no empty, ``.`` or ``..`` segments, no controls."""
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    if not _BUCKET.match(bucket):
        raise ValueError("gs:// URI needs a valid bucket name (gs://bucket/object)")
    segments = name.split("/")
    if not name or any(seg in ("", ".", "..") for seg in segments):
        raise ValueError("gs:// URI needs an object name without empty, '.' or '..' segments")
    if _FORBIDDEN.search(name):
        raise ValueError("gs:// object name must not hold '?', '#', '\\' or control characters")
    if len(name.encode()) > 1024:
        raise ValueError("gs:// object name is longer than 1024 bytes")
    return uri


class ErrorBody(BaseModel):
    """What every error response holds (all fields are always sent; ``hint`` and ``item`` may be null)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    error: str = Field(description="The error class, e.g. ModelNotFoundError or ValidationError.")
    message: str
    hint: str | None = Field(None, description="What to do next, for a person.")
    item: str | None = Field(None, description="The one item concerned (video, model, id), if any.")
    fields: list[str] = Field(default_factory=list, description="For 422: the request fields at fault.")


class AnalysisResponse(Analysis):
    """An analysis as the service returns it: stored, so it always has an id."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: str = Field(pattern=ANALYSIS_ID_PATTERN, description="Fetch it again with GET /v1/analyses/{id}.")


class Health(BaseModel):
    """``GET /healthz``: liveness, and which model a request without ``model`` is answered by."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    status: str = "ok"
    version: str
    offline: bool
    model: str = Field(description="The model id requests without `model` are analysed with (resolved now).")
    model_kind: str = Field(description="`tuned`, or `base` when nothing is promoted as 'current'.")
    alias: str | None = Field(None, description="The alias it was resolved through, e.g. 'current'.")


_ERRORS: dict[int, str] = {
    400: "Malformed request (e.g. a body that cannot be parsed)",
    401: "Missing or wrong bearer token",
    413: "Request body too large",
    422: "Invalid request (fields named) or unusable video",
    500: "A configuration or storage problem on the server; see its log",
}


def error_responses(**extra: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a /v1 route: the common error statuses plus ``extra`` (``"404": "…"``)."""
    described = {**{str(k): v for k, v in _ERRORS.items()}, **extra}
    return {int(code): {"model": ErrorBody, "description": text} for code, text in sorted(described.items())}


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (the same one ``GET /openapi.json`` serves)."""
    return app.openapi()


def write_openapi(app: FastAPI, path: Path) -> Path:
    """Write the app's OpenAPI document as JSON to ``path`` (atomically) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w") as out:
        out.write(json.dumps(openapi_schema(app), indent=2, ensure_ascii=False) + "\n")
    return path
