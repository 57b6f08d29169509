"""Contract tests: tuning traffic replayed from hand-written Vertex cassettes (vcrpy, record mode none).

Request bodies are exactly what google-genai 2.34 sends (the body matcher fails on any drift in what the tuner
submits); response bodies are Vertex's shapes (int64 as strings, RFC 3339 times). Every body in every cassette
is validated strictly against the aiplatform protos with unknown fields rejected, and every cassette is checked
for secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from humortune.errors import TuningJobFailedError, TuningRequestError
from humortune.gemini import GeminiClient
from humortune.settings import Settings
from humortune.testing.vertex_schema import message_for, validate
from humortune.tuner import ModelRegistry, Tuner, TuningJob
from humortune.workspace import Corpus
from tests._tuner_support import Sleeps, gcs_dataset

CASSETTES = Path(__file__).parent / "cassettes" / "test_gemini_cassettes"
ALL_CASSETTES = sorted((Path(__file__).parent / "cassettes").rglob("*.yaml"))
JOB = "projects/demo-proj/locations/us-central1/tuningJobs/4567890123456789012"


@pytest.fixture
def db(demo: Settings) -> Iterator[Corpus]:
    with Corpus.open(settings=demo) as corpus:
        yield corpus


def cassette(name: str) -> str:
    return str(CASSETTES / name)


@pytest.mark.vcr(cassette("tuning_create.yaml"))
def test_submit_sends_the_recorded_request(vertex: GeminiClient, db: Corpus, demo: Settings) -> None:
    tuner = Tuner(epochs=4, learning_rate_multiplier=1.0, adapter_size=8, client=vertex, corpus=db, settings=demo)
    job = tuner.submit(gcs_dataset(), yes=True)
    assert job.name == JOB and job.state == "PENDING" and not job.reused
    row = ModelRegistry(db).job(JOB)
    assert row is not None and row.state == "JOB_STATE_PENDING" and row.dataset_id is None
    assert row.hyperparams["dataset_id"] == "ds-gcs00001" and row.estimate_usd == 2.08


@pytest.mark.vcr(cassette("tuning_lifecycle.yaml"))
def test_running_then_succeeded_registers_the_model(vertex: GeminiClient, db: Corpus) -> None:
    job = TuningJob.from_name(JOB, client=vertex, corpus=db)
    sleeps = Sleeps()
    model = job.wait(progress=False, poll_s=30, sleep=sleeps)
    assert sleeps.calls == [30]
    assert model.id == "projects/demo-proj/locations/us-central1/models/9876543210987654321@1"
    assert model.endpoint == "projects/demo-proj/locations/us-central1/endpoints/1122334455667788990"
    assert [c["epoch"] for c in model.checkpoints] == [1, 2, 3, 4]
    assert model.stats["total_billable_token_count"] == 10_800_000  # int64 string parsed
    assert job.info is not None and job.info.hyperparameters == {
        "epochs": 4,
        "learning_rate_multiplier": 1.0,
        "adapter_size": "ADAPTER_SIZE_EIGHT",
    }


@pytest.mark.vcr(cassette("tuning_lifecycle.yaml"))
def test_running_job_reports_its_data_statistics(vertex: GeminiClient) -> None:
    info = vertex.get_tuning_job(JOB)
    assert info.state == "JOB_STATE_RUNNING" and not info.has_ended
    assert info.stats["tuning_dataset_example_count"] == 480 and info.stats["total_truncated_example_count"] == 3
    assert len(info.stats["dropped_example_reasons"]) == 3
    assert info.experiment and info.experiment.endswith("tuning-experiment-20261125100003")


@pytest.mark.vcr(cassette("tuning_get_failed.yaml"))
def test_failed_job_message_is_verbatim(vertex: GeminiClient, db: Corpus) -> None:
    job = TuningJob.from_name(JOB, client=vertex, corpus=db)
    with pytest.raises(TuningJobFailedError) as info:
        job.wait(progress=False, sleep=Sleeps())
    assert info.value.vertex_message is not None
    assert info.value.vertex_message.startswith("Dataset validation failed: 52 of 480 examples (10.8%)")
    assert info.value.vertex_message in str(info.value) and "humortune validate" in str(info.value.hint)


@pytest.mark.vcr(cassette("tuning_list.yaml"))
def test_list_follows_pages(vertex: GeminiClient) -> None:
    jobs = vertex.list_tuning_jobs()
    assert [j.state for j in jobs] == ["JOB_STATE_RUNNING", "JOB_STATE_FAILED", "JOB_STATE_SUCCEEDED"]
    assert jobs[2].base_model == "gemini-2.5-pro" and jobs[2].hyperparameters["epochs"] == 3


@pytest.mark.vcr(cassette("tuning_cancel.yaml"))
def test_cancel(vertex: GeminiClient, db: Corpus) -> None:
    job = TuningJob.from_name(JOB, client=vertex, corpus=db)
    info = job.cancel()
    assert info.state == "JOB_STATE_CANCELLED" and info.error_code == 1
    with pytest.raises(TuningJobFailedError, match="was cancelled"):
        job.result()


@pytest.mark.vcr(cassette("tuning_cancel_ended.yaml"))
def test_cancel_after_the_end_is_refused_with_a_hint(vertex: GeminiClient) -> None:
    with pytest.raises(TuningRequestError) as info:
        vertex.cancel_tuning_job(JOB)
    assert "FAILED_PRECONDITION" in info.value.message and "already ended" in str(info.value.hint)


# -- every cassette: strict schema and hygiene -------------------------------------------------------------


def _interactions(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text("utf-8"))
    return list(data["interactions"])


def _ours() -> list[Path]:
    return sorted(CASSETTES.glob("*.yaml"))


@pytest.mark.parametrize("path", _ours(), ids=lambda p: p.name)
def test_cassette_bodies_are_valid_vertex_messages(path: Path) -> None:
    for interaction in _interactions(path):
        request, response = interaction["request"], interaction["response"]
        route = re.sub(r"^https://[^/]+", "", request["uri"]).split("?")[0]
        assert request["headers"]["Content-Type"] == ["application/json"]  # JSON-aware body matching
        if request["body"]:
            name = message_for(request["method"], route, response=False)
            assert name, route
            validate(name, json.loads(request["body"]))
        if response["status"]["code"] == 200:
            name = message_for(request["method"], route, response=True)
            assert name, route
            validate(name, json.loads(response["body"]["string"]))
        else:
            error = json.loads(response["body"]["string"])["error"]
            assert set(error) == {"code", "message", "status"} and error["code"] == response["status"]["code"]


_SECRETS = [
    (re.compile(r"projects/\d{5,}"), "a project number"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}"), "an email address"),
    (re.compile(r"ya29\.|Bearer |AIza[0-9A-Za-z_-]{20,}|-----BEGIN"), "a token or key"),
    (re.compile(r"fake-token|offline-fake-token"), "the test token"),
]


@pytest.mark.parametrize("path", ALL_CASSETTES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cassettes_hold_no_secrets(path: Path) -> None:
    text = path.read_text("utf-8")
    for pattern, what in _SECRETS:
        assert not pattern.search(text), f"{path.name} contains {what}: {pattern.search(text)}"
    for interaction in _interactions(path):
        headers = {k.lower() for k in interaction["request"].get("headers", {})}
        assert not headers & {"authorization", "x-goog-user-project", "cookie"}, path.name
