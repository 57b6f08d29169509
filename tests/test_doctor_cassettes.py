"""The doctor's Vertex AI checks against hand-written cassettes of the real error shapes (vcrpy, replay only):
403 SERVICE_DISABLED, 403 IAM_PERMISSION_DENIED and 404 NOT_FOUND for the base model, each google error JSON
with ``error.code/message/status`` (and ``details`` with an ErrorInfo reason where Google sends one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from humortune.doctor import Check, Doctor
from humortune.gemini import GeminiClient
from humortune.settings import Settings

CASSETTES = Path(__file__).parent / "cassettes" / "test_doctor"
MODEL = "gemini-3.5-flash"
VERTEX_CHECKS = ("credentials", "vertex-api", "base-model")


def cassette(name: str) -> str:
    return str(CASSETTES / name)


def checks(vertex: GeminiClient, demo: Settings) -> dict[str, Check]:
    settings = demo.model_copy(update={"base_model": MODEL})
    report = Doctor(settings, client=vertex).run(VERTEX_CHECKS)
    return {c.name: c for c in report.checks}


@pytest.mark.vcr(cassette("api_disabled.yaml"))
def test_disabled_api_says_how_to_enable_it(vertex: GeminiClient, demo: Settings) -> None:
    check = checks(vertex, demo)["vertex-api"]
    assert check.status == "fail" and "has not been used in project demo-proj" in check.message
    assert check.fix == "enable the API: `gcloud services enable aiplatform.googleapis.com`"


@pytest.mark.vcr(cassette("permission_denied.yaml"))
def test_iam_denial_names_the_role(vertex: GeminiClient, demo: Settings) -> None:
    check = checks(vertex, demo)["vertex-api"]
    assert check.status == "fail" and "403 PERMISSION_DENIED" in check.message
    assert "roles/aiplatform.user" in (check.fix or "")


@pytest.mark.vcr(cassette("model_not_found.yaml"))
def test_missing_model_fails_the_base_model_check_not_the_api(vertex: GeminiClient, demo: Settings) -> None:
    found = checks(vertex, demo)
    assert found["vertex-api"].status == "ok"  # Vertex answered: the API is enabled and reachable
    assert found["base-model"].status == "fail" and "does not serve gemini-3.5-flash" in found["base-model"].message
    assert "humortune models catalog" in (found["base-model"].fix or "")


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassettes_hold_google_error_json(path: Path) -> None:
    for interaction in yaml.safe_load(path.read_text("utf-8"))["interactions"]:
        status = interaction["response"]["status"]["code"]
        error = json.loads(interaction["response"]["body"]["string"])["error"]
        assert {"code", "message", "status"} <= set(error) <= {"code", "message", "status", "details"}
        assert error["code"] == status and error["status"] in {"PERMISSION_DENIED", "NOT_FOUND"}
        for detail in error.get("details", []):
            assert detail["@type"].startswith("type.googleapis.com/google.rpc.")
        if status == 403:
            reasons = {d.get("reason") for d in error["details"] if d["@type"].endswith("ErrorInfo")}
            assert reasons & {"SERVICE_DISABLED", "IAM_PERMISSION_DENIED"}
