"""Tuner refuses retired/retiring bases (with date and successor), records --allow-retiring; adopting outside models."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.app import default_client
from humortune.errors import ModelLifecycleError, TuningJobNotFoundError
from humortune.gemini import GeminiClient
from humortune.settings import Settings
from humortune.tuner import ModelRegistry, Tuner
from humortune.tuner.adopt import adopt
from humortune.workspace import Corpus
from tests._tuner_support import Sleeps, local_dataset
from tests.conftest import subprocess_env

RETIRING_DAY = datetime.date(2027, 5, 1)  # 18 days before gemini-3.5-flash's earliest retirement


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", project="demo-proj", offline=True)


@pytest.fixture
def db(offline: Settings) -> Iterator[Corpus]:
    with Corpus.open(settings=offline) as corpus:
        yield corpus


@pytest.fixture
def client(offline: Settings) -> GeminiClient:
    return default_client(offline, retry=Sleeps().policy())


def test_a_retired_base_is_refused_before_anything_is_sent(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    tuner = Tuner("gemini-2.5-flash", client=client, corpus=db, allow_retiring=True)
    with pytest.raises(ModelLifecycleError) as info:
        tuner.request(local_dataset(tmp_path))
    assert "retired on 2026-10-20" in str(info.value) and "--base-model gemini-3.5-flash" in str(info.value.hint)
    with pytest.raises(ModelLifecycleError):
        tuner.submit(local_dataset(tmp_path), yes=True)
    assert ModelRegistry(db).jobs() == []


def test_a_retiring_base_needs_allow_retiring_which_is_recorded(
    client: GeminiClient, db: Corpus, tmp_path: Path
) -> None:
    data = local_dataset(tmp_path)
    with pytest.raises(ModelLifecycleError, match=r"retires on 2027-05-19 \(in 18 days\)") as info:
        Tuner("gemini-3.5-flash", client=client, corpus=db, today=RETIRING_DAY).request(data)
    assert "--allow-retiring" in str(info.value.hint)
    tuner = Tuner("gemini-3.5-flash", client=client, corpus=db, today=RETIRING_DAY, allow_retiring=True)
    assert tuner.request(data)["labels"]["humortune-allow-retiring"] == "2027-05-19"
    job = tuner.submit(data, yes=True)
    row = ModelRegistry(db).job(job.name)
    assert row is not None and row.hyperparams["allow_retiring"] is True


def test_allow_retiring_comes_from_settings_too(offline: Settings, db: Corpus, tmp_path: Path) -> None:
    settings = offline.model_copy(update={"allow_retiring": True})
    client = default_client(settings, retry=Sleeps().policy())
    tuner = Tuner("gemini-3.5-flash", client=client, corpus=db, settings=settings, today=RETIRING_DAY)
    assert "humortune-allow-retiring" in tuner.request(local_dataset(tmp_path))["labels"]
    current = Tuner("gemini-3.5-flash", client=client, corpus=db, settings=settings)
    assert "humortune-allow-retiring" not in current.request(local_dataset(tmp_path))["labels"]


def test_a_sweep_on_a_retired_base_submits_nothing(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    with pytest.raises(ModelLifecycleError):
        Tuner("gemini-2.5-pro", client=client, corpus=db).sweep(
            local_dataset(tmp_path), {"epochs": [3, 4]}, max_cost=50, yes=True
        )
    assert ModelRegistry(db).jobs() == []


# -- adopting a model tuned outside humortune -------------------------------------------------------------


def outside_job(client: GeminiClient) -> tuple[str, str]:
    """A job made straight through the client, as the owner did before humortune: (job name, model)."""
    job = client.create_tuning_job(
        base_model="gemini-2.5-flash",
        train_uri="gs://owner-bucket/old/train.jsonl",
        validation_uri="gs://owner-bucket/old/validation.jsonl",
        epochs=4,
        adapter_size=8,
        display_name="humor-analysis-v1",
    )
    for _ in range(20):
        job = client.get_tuning_job(job.name)
        if job.has_ended:
            break
    assert job.succeeded and job.tuned_model, job
    return job.name, job.tuned_model


@pytest.mark.parametrize("by", ["model", "job", "display name"])
def test_adopt_registers_what_vertex_reports_with_external_lineage(client: GeminiClient, db: Corpus, by: str) -> None:
    job_name, model_id = outside_job(client)
    name = {"model": model_id, "job": job_name, "display name": "humor-analysis-v1"}[by]
    model = adopt(name, client=client, corpus=db)
    assert model.id == model_id and model.job_name == job_name and model.endpoint
    assert model.base_model == "gemini-2.5-flash" and model.stats["lineage"] == "external"
    assert model.stats["train_uri"] == "gs://owner-bucket/old/train.jsonl"
    assert model.stats["validation_uri"] == "gs://owner-bucket/old/validation.jsonl"
    assert model.stats["hyperparameters"]["epochs"] == 4
    row = ModelRegistry(db).job(job_name)
    assert row is not None and row.request_hash == f"external:{job_name}"


def test_adopt_is_idempotent_and_the_model_can_be_analysed(client: GeminiClient, db: Corpus) -> None:
    from humortune.analyzer.resolve import resolve_model

    _, model_id = outside_job(client)
    first = adopt(model_id, client=client, corpus=db)
    again = adopt(model_id, client=client, corpus=db)
    assert again == first and len(ModelRegistry(db).models()) == 1 and len(ModelRegistry(db).jobs()) == 1
    resolved = resolve_model(model_id, db=db.db)
    assert resolved.kind == "tuned" and resolved.base_model == "gemini-2.5-flash"
    assert resolved.call_name == first.endpoint


def test_adopt_an_unknown_name_says_where_it_looked(client: GeminiClient, db: Corpus) -> None:
    with pytest.raises(TuningJobNotFoundError, match="demo-proj/us-central1"):
        adopt("projects/demo-proj/locations/us-central1/models/404@1", client=client, corpus=db)


def test_the_adopt_example_runs_offline(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    env = subprocess_env()
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "adopt_existing_model.py")],
        cwd=tmp_path,
        env={**env, "NO_GCE_CHECK": "true"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "default base model: gemini-3.5-flash" in done.stdout and "lineage external" in done.stdout
    assert "--base-model gemini-3.5-flash" in done.stdout
