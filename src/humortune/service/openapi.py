"""The service's OpenAPI contract: response models a generated client can trust, and the schema file.

Responses use ``json_schema_serialization_defaults_required``: a field the server always sends is *required*
in the schema (it may still be ``null`` where the type says so), while request fields with defaults stay
optional. Every route documents its error statuses with `ErrorBody`. ``humortune serve --write-openapi FILE``
writes the schema offline (`write_openapi`), which is what ``clients/typescript`` generates its types from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from humortune._util import atomic_write
from humortune.schema import Analysis

__all__ = [
    "ANALYSIS_ID_PATTERN",
    "VIDEO_PATTERN",
    "AnalysisResponse",
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
