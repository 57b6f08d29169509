"""Strict validation of Vertex AI REST JSON against the Vertex AI discovery documents (unknown fields rejected).

The oracle is the REST discovery documents that ship in google-api-python-client (a test-only dependency):
``googleapiclient/discovery_cache/documents/aiplatform.v1beta1.json`` and ``aiplatform.v1.json``. They
describe every request and response schema with its enums (``ADAPTER_SIZE_*``, ``MEDIA_RESOLUTION_*``…)
and do not depend on the google-genai version installed. The two versions drift (a field may be in one
only), so a body is accepted when it validates under v1beta1 or, failing that, under v1.

What is checked, the way Vertex's JSON mapping of protobuf reads it: ``$ref`` is resolved; an object with
``properties`` rejects unknown keys (snake_case proto names are accepted beside the camelCase JSON names);
``additionalProperties`` is a map whose values are checked; arrays check each item; enums must name a
value; int64/uint64 are integers or integer strings; ``byte``, ``google-duration`` and ``google-datetime``
strings are checked for their shape; ``any`` accepts anything; ``null`` means "not set", as in protobuf
JSON. Errors name the JSON path (``GenerateContentRequest.contents[0].parts[1].fileData``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from datetime import datetime
from importlib import resources
from typing import Any

__all__ = ["VERSIONS", "VertexSchemaError", "message_for", "schema_names", "validate"]

VERSIONS = ("v1beta1", "v1")
_PREFIX = {"v1beta1": "GoogleCloudAiplatformV1beta1", "v1": "GoogleCloudAiplatformV1"}
_SHARED = {"Empty": "GoogleProtobufEmpty"}  # messages that are not under the aiplatform prefix
_SNAKE = re.compile(r"_([a-z0-9])")
_INT = re.compile(r"-?\d+")
_DURATION = re.compile(r"-?\d+(\.\d{1,9})?s")
_FLOAT_WORDS = {"NaN", "Infinity", "-Infinity"}


class VertexSchemaError(ValueError):
    """A REST body does not validate strictly as the named Vertex AI message."""


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
    """The Vertex AI message name for a request or response body on this route, if known."""
    for route_method, pattern, request_msg, response_msg in _ROUTES:
        if route_method == method.upper() and pattern.search(path):
            name = response_msg if response else request_msg
            return name or None
    return None


@functools.cache
def _schemas(version: str) -> dict[str, dict[str, Any]]:
    # Parsed once per process: the v1beta1 document is ~5 MB of JSON.
    document = resources.files("googleapiclient.discovery_cache") / "documents" / f"aiplatform.{version}.json"
    schemas: dict[str, dict[str, Any]] = json.loads(document.read_text("utf-8"))["schemas"]
    return schemas


def schema_names(version: str) -> frozenset[str]:
    """Every schema id in the discovery document of ``version`` (``v1beta1`` or ``v1``)."""
    return frozenset(_schemas(version))


def validate(message: str, body: Any, *, versions: tuple[str, ...] = VERSIONS) -> None:
    """Validate ``body`` as ``message`` under v1beta1, then v1; raise `VertexSchemaError` if neither accepts it.

    ``message`` is the short name (``TuningJob``, ``GenerateContentRequest``…) or a full schema id;
    ``versions`` narrows the documents tried (``("v1beta1",)`` for a body that must be valid v1beta1).
    """
    errors: list[str] = []
    for version in versions:
        schemas = _schemas(version)
        schema_id = _schema_id(message, version)
        if schema_id not in schemas:
            errors.append(f"{version} has no {message}")
            continue
        try:
            _Checker(schemas).check({"$ref": schema_id}, body, message)
            return
        except VertexSchemaError as exc:
            errors.append(f"{version}: {exc}")
    raise VertexSchemaError(f"not a valid {message}: " + " | ".join(errors))


def _schema_id(message: str, version: str) -> str:
    if message in _SHARED:
        return _SHARED[message]
    if message.startswith(("Google", "Genai")):
        return message
    return _PREFIX[version] + message


class _Checker:
    """One walk of a body against one discovery document."""

    def __init__(self, schemas: dict[str, dict[str, Any]]) -> None:
        self._schemas = schemas

    def check(self, schema: dict[str, Any], value: Any, path: str) -> None:
        if "$ref" in schema:
            schema = self._schemas[schema["$ref"]]
        if value is None:
            return  # protobuf JSON: null is "not set"
        kind = schema.get("type")
        if kind == "object":
            self._object(schema, value, path)
        elif kind == "array":
            if not isinstance(value, list):
                raise _mismatch(path, "an array", value)
            for index, item in enumerate(value):
                self.check(schema.get("items", {"type": "any"}), item, f"{path}[{index}]")
        elif kind == "string":
            _string(schema, value, path)
        elif kind in ("integer", "number", "boolean"):
            _scalar(kind, value, path)
        elif kind != "any":
            raise VertexSchemaError(f"{path}: the discovery document has an unknown type {kind!r}")

    def _object(self, schema: dict[str, Any], value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _mismatch(path, "an object", value)
        if "additionalProperties" in schema:  # a map<string, V> (or a Struct)
            for key, item in value.items():
                self.check(schema["additionalProperties"], item, f"{path}[{key!r}]")
            return
        known: dict[str, Any] = schema.get("properties", {})
        for key, item in value.items():
            name = key if key in known else _json_name(key)
            if name not in known:
                hint = ", ".join(sorted(known)) if known else "none"
                owner = schema.get("id", "this object")
                raise VertexSchemaError(f"{path}.{key}: unknown field for {owner} (known: {hint})")
            self.check(known[name], item, f"{path}.{key}")


def _json_name(key: str) -> str:
    # Protobuf JSON also accepts the proto field name (snake_case); the documents list the camelCase one.
    return _SNAKE.sub(lambda m: m.group(1).upper(), key)


def _string(schema: dict[str, Any], value: Any, path: str) -> None:
    fmt = schema.get("format")
    if fmt in ("int64", "uint64"):
        if isinstance(value, bool) or not isinstance(value, int | str) or not _INT.fullmatch(str(value)):
            raise _mismatch(path, f"an {fmt} (integer or integer string)", value)
        if fmt == "uint64" and int(value) < 0:
            raise _mismatch(path, "a non-negative uint64", value)
        return
    if not isinstance(value, str):
        raise _mismatch(path, "a string", value)
    if "enum" in schema and value not in schema["enum"]:
        raise VertexSchemaError(f"{path}: {value!r} is not one of " + ", ".join(schema["enum"]))
    if fmt == "byte":
        try:
            base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise _mismatch(path, "base64 bytes", value) from None
    elif fmt == "google-duration" and not _DURATION.fullmatch(value):
        raise _mismatch(path, "a duration like '3.5s'", value)
    elif fmt == "google-datetime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _mismatch(path, "an RFC 3339 timestamp", value) from None


def _scalar(kind: str, value: Any, path: str) -> None:
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _mismatch(path, "a boolean", value)
    elif isinstance(value, bool):
        raise _mismatch(path, f"an {kind}", value)
    elif kind == "integer":
        integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if not (integral or (isinstance(value, str) and _INT.fullmatch(value))):
            raise _mismatch(path, "an integer", value)
    elif not isinstance(value, int | float) and value not in _FLOAT_WORDS:
        try:
            float(value)
        except (TypeError, ValueError):
            raise _mismatch(path, "a number", value) from None


def _mismatch(path: str, expected: str, value: Any) -> VertexSchemaError:
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return VertexSchemaError(f"{path}: expected {expected}, got {shown[:80]}")
