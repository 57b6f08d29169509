"""Strict validation of Vertex AI REST JSON against the aiplatform protos (unknown fields rejected).

google-cloud-aiplatform is a test-only dependency: it is imported on first use. The protos drift from the
SDK in both directions (v1beta1 lacks ``videoMetadata.fps``, v1 lacks some hyperparameters), so a body is
accepted when it parses under v1beta1 or, failing that, under v1 with the same message type.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["VertexSchemaError", "message_for", "validate"]


class VertexSchemaError(ValueError):
    """A REST body does not parse strictly as the named aiplatform message."""


_ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    # (method, path pattern, request message, response message)
    ("POST", re.compile(r"/tuningJobs$"), "TuningJob", "TuningJob"),
    ("GET", re.compile(r"/tuningJobs/[^/:]+$"), "", "TuningJob"),
    ("GET", re.compile(r"/tuningJobs$"), "", "ListTuningJobsResponse"),
    ("POST", re.compile(r"/tuningJobs/[^/:]+:cancel$"), "", "Empty"),
    ("POST", re.compile(r":generateContent$"), "GenerateContentRequest", "GenerateContentResponse"),
    ("POST", re.compile(r"/batchPredictionJobs$"), "BatchPredictionJob", "BatchPredictionJob"),
    ("GET", re.compile(r"/batchPredictionJobs/[^/:]+$"), "", "BatchPredictionJob"),
    ("POST", re.compile(r"/batchPredictionJobs/[^/:]+:cancel$"), "", "Empty"),
]


def message_for(method: str, path: str, *, response: bool) -> str | None:
    """The aiplatform message name for a request or response body on this route, if known."""
    for route_method, pattern, request_msg, response_msg in _ROUTES:
        if route_method == method.upper() and pattern.search(path):
            name = response_msg if response else request_msg
            return name or None
    return None


def validate(message: str, body: dict[str, Any]) -> None:
    """Parse ``body`` as ``message`` under v1beta1, then v1; raise `VertexSchemaError` if neither accepts it."""
    if message == "Empty":
        if body:
            raise VertexSchemaError(f"expected an empty body, got keys {sorted(body)}")
        return
    from google.cloud import aiplatform_v1, aiplatform_v1beta1
    from google.protobuf import json_format  # type: ignore[import-untyped]

    errors: list[str] = []
    for module in (aiplatform_v1beta1, aiplatform_v1):
        cls = getattr(module.types, message, None)
        if cls is None:
            errors.append(f"{module.__name__} has no {message}")
            continue
        try:
            json_format.ParseDict(body, cls.pb(cls()), ignore_unknown_fields=False)
            return
        except json_format.ParseError as exc:
            errors.append(f"{module.__name__.rsplit('.', 1)[-1]}: {exc}")
    raise VertexSchemaError(f"not a valid {message}: " + " | ".join(errors))
