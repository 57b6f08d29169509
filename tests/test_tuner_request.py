"""`TuningRequest` as a value: built without I/O, keyed like the recorded request hash, sent as one body."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]

from humortune.errors import TuningRequestError
from humortune.gemini import GeminiClient, render_tuning_body
from humortune.settings import Settings
from humortune.testing import FakeGemini
from humortune.tuner import Tuner, TuningRequest
from humortune.tuner.tuner import REQUEST_LABEL
from humortune.workspace import Corpus
from tests._tuner_support import client_for, gcs_dataset

CASSETTE = Path(__file__).parent / "cassettes" / "test_gemini_cassettes" / "tuning_create.yaml"


@pytest.fixture
def db(demo: Settings) -> Iterator[Corpus]:
    with Corpus.open(settings=demo) as corpus:
        yield corpus


def recorded_post() -> dict[str, Any]:
    """The tuning-job POST body recorded in the cassette (what google-genai sent before requests were values)."""
    interactions = yaml.safe_load(CASSETTE.read_text())["interactions"]
    (post,) = [i["request"] for i in interactions if i["request"]["method"] == "POST"]
    body: dict[str, Any] = json.loads(post["body"])
    return body


def refusing_client(settings: Settings) -> tuple[GeminiClient, list[httpx.Request]]:
    """A client whose transport records and fails every request: building a request must never use it."""
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    return GeminiClient.from_settings(settings, transport=httpx.MockTransport(refuse)), seen


def cassette_tuner(db: Corpus, settings: Settings, **kwargs: Any) -> Tuner:
    return Tuner(epochs=4, learning_rate_multiplier=1.0, adapter_size=8, corpus=db, settings=settings, **kwargs)


def test_key_is_the_request_hash_the_recorded_job_carries(db: Corpus, demo: Settings) -> None:
    request = cassette_tuner(db, demo).build(gcs_dataset())
    labels = recorded_post()["labels"]
    assert request.key[:32] == labels[REQUEST_LABEL] == "840c036876196a1c4d5d22a42b6a2129"
    assert request.label_dict == labels and request.display_name == "humortune-ds-gcs00001-840c0368"


def test_rendered_body_is_the_recorded_body(db: Corpus, demo: Settings) -> None:
    assert render_tuning_body(cassette_tuner(db, demo).build(gcs_dataset())) == recorded_post()


def test_build_does_no_io_and_builds_no_client(db: Corpus, demo: Settings) -> None:
    client, seen = refusing_client(demo)
    with_client = cassette_tuner(db, demo, client=client)
    without = cassette_tuner(db, demo)
    first, second = with_client.build(gcs_dataset()), without.build(gcs_dataset())
    assert render_tuning_body(first) == render_tuning_body(second)
    assert seen == [] and without._client is None
    assert first == second and first.key == second.key


def test_request_is_frozen_and_its_record_keeps_the_lineage(db: Corpus, demo: Settings) -> None:
    request = cassette_tuner(db, demo).build(gcs_dataset())
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.base_model = "other"  # type: ignore[misc]
    record = request.as_record()
    assert record["request_hash"] == request.key and record["dataset"] == "ds-gcs00001"
    assert record["prompt_version"] == "p-0123456789ab" and record["epochs"] == 4 and record["adapter_size"] == 8
    assert record["estimate"]["usd_high"] == request.estimate["usd_high"]  # type: ignore[index]


def test_key_changes_with_what_decides_the_model(db: Corpus, demo: Settings) -> None:
    base = cassette_tuner(db, demo).build(gcs_dataset())
    other_epochs = Tuner(epochs=5, learning_rate_multiplier=1.0, adapter_size=8, corpus=db, settings=demo)
    assert other_epochs.build(gcs_dataset()).key != base.key
    renamed = cassette_tuner(db, demo, display_name="mine").build(gcs_dataset())
    assert renamed.key == base.key and renamed.display_name == "mine"


def test_create_tuning_job_sends_exactly_the_rendered_body(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", project="demo-proj", location="us-central1")
    fake = FakeGemini()
    client = client_for(settings, fake)
    with Corpus.open(settings=settings) as corpus:
        request = cassette_tuner(corpus, settings, client=client).build(gcs_dataset())
    client.create_tuning_job(request)
    (post,) = fake.calls("/tuningJobs", method="POST")
    assert post.body == render_tuning_body(request)


def test_create_tuning_job_refuses_a_request_for_another_project(db: Corpus, demo: Settings, tmp_path: Path) -> None:
    request = cassette_tuner(db, demo).build(gcs_dataset())
    elsewhere = Settings(workspace=tmp_path / "other", project="other-proj", location="us-central1")
    fake = FakeGemini()
    with pytest.raises(TuningRequestError, match="demo-proj"):
        client_for(elsewhere, fake).create_tuning_job(request)
    assert fake.calls("/tuningJobs", method="POST") == []


def test_a_request_is_a_plain_value(db: Corpus, demo: Settings) -> None:
    request = cassette_tuner(db, demo).build(gcs_dataset())
    assert isinstance(request, TuningRequest) and dataclasses.replace(request, display_name="x").key == request.key


def printed_body(out: str, header: str) -> str:
    """The JSON text a command printed after ``header``, exactly as printed."""
    start = out.index("\n{", out.index(header)) + 1
    _, end = json.JSONDecoder().raw_decode(out, start)
    return out[start:end]


def test_prepare_build_and_tune_dry_run_print_byte_identical_bodies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from humortune.cli import main

    from .conftest import SAMPLE_BATTERY

    ws = str(tmp_path / "ws")
    outputs = []
    for args in (["prepare", str(SAMPLE_BATTERY)], ["build", "--request"], ["tune", "--dry-run"]):
        code = main(["-w", ws, *args])
        out, err = capsys.readouterr()
        assert code == 0, err
        outputs.append(printed_body(out, "tuningJobs"))
    prepared, built, dry_run = outputs
    assert prepared == built == dry_run
    assert json.loads(dry_run)["labels"][REQUEST_LABEL]
