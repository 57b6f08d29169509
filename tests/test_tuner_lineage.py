"""Lineage of a tuned model built from a real dataset version, continued tuning, and sweeps with a cost cap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.app import default_client
from humortune.dataset import DatasetBuilder
from humortune.errors import CostLimitError, HyperparameterError
from humortune.gemini import GeminiClient
from humortune.schema import DatasetVersion
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing import FakeGemini
from humortune.tuner import ModelRegistry, Tuner
from humortune.workspace import Corpus
from tests._dataset_support import add_clip
from tests._tuner_support import Sleeps, estimate, local_dataset


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


@pytest.fixture
def built(db: Corpus, offline: Settings) -> DatasetVersion:
    storage = LocalStorage(offline.workspace / "storage")
    for n in range(12):
        add_clip(db, storage, n, seconds=6.0)
    version = DatasetBuilder(db, storage, settings=offline).build(split=(0.7, 0.3))
    assert version.valid
    return version


def test_lineage_links_model_job_dataset_prompt_and_videos(
    client: GeminiClient, db: Corpus, built: DatasetVersion
) -> None:
    job = Tuner(epochs=4, adapter_size=8, client=client, corpus=db).submit(built, yes=True)
    model = job.wait(progress=False, sleep=Sleeps())
    lineage = ModelRegistry(db).lineage(model.id)
    assert lineage["model"]["dataset_id"] == built.id and lineage["dataset"]["id"] == built.id
    assert lineage["prompt_version"] == built.prompt_version == lineage["dataset"]["prompt_version"]
    assert lineage["job"]["name"] == job.name
    assert lineage["job"]["hyperparameters"]["epochs"] == 4 and lineage["job"]["hyperparameters"]["adapter_size"] == 8
    rows = db.db.query("SELECT video_sha256, split FROM dataset_examples WHERE dataset_id = ?", (built.id,))
    assert len(lineage["examples"]) == len(rows) == 12
    assert lineage["videos"] == sorted({r[0] for r in rows if r[1] != "test"})
    # The same model is found by endpoint and by job name.
    registry = ModelRegistry(db)
    assert registry.model(str(model.endpoint)) == registry.model(job.name) == model
    # The token estimate is reconciled with what Vertex (here: the fake) counted.
    rec = model.stats["reconciliation"]
    assert rec["estimated_tokens_low"] == built.estimate.tokens_per_epoch_low  # type: ignore[union-attr]
    assert rec["ratio_to_low"] is not None and rec["ratio_to_low"] > 0


def test_continue_tuning_from_a_tuned_model(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    first = Tuner(client=client, corpus=db, epochs=3).submit(local_dataset(tmp_path), yes=True)
    parent = first.wait(progress=False, sleep=Sleeps())
    more = local_dataset(tmp_path, version_id="ds-test0002", n=6)
    follow = Tuner(parent.id, checkpoint_id="2", client=client, corpus=db, epochs=3)
    body = follow.request(more)
    assert body["preTunedModel"] == {"checkpoint_id": "2", "tuned_model_name": parent.id}
    assert "baseModel" not in body
    child = follow.submit(more, yes=True).wait(progress=False, sleep=Sleeps())
    assert child.base_model == "gemini-3.5-flash"  # the family, for pricing and hyperparameter rules
    assert child.stats["parent_model"] == parent.id and child.stats["parent_checkpoint"] == "2"
    assert ModelRegistry(db).lineage(child.id)["parent"] == parent.id
    with pytest.raises(HyperparameterError, match="adapter size 32"):
        Tuner(parent.id, adapter_size=32, client=client, corpus=db)


def test_sweep_refuses_above_the_cap_and_submits_nothing(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    data = local_dataset(tmp_path, cost=estimate(low=100_000, high=150_000))  # $3.75 per job at 5 epochs
    grid = {"epochs": [3, 4, 5], "adapter_size": [4, 8]}
    with pytest.raises(CostLimitError) as info:
        Tuner(client=client, corpus=db).sweep(data, grid, max_cost=10.0)
    assert "6 jobs" in info.value.message and "max_cost" in str(info.value.hint)
    assert isinstance(client.fake, FakeGemini) and client.fake.requests == []
    assert db.db.query("SELECT * FROM sweeps") == []


def test_sweep_submits_records_and_reports(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    data = local_dataset(tmp_path, cost=estimate(low=10_000, high=12_000))
    grid: dict[str, list[float]] = {"epochs": [3, 5], "learning_rate_multiplier": [0.5, 1.0]}
    sweep = Tuner(client=client, corpus=db, adapter_size=8).sweep(data, grid, max_cost=5.0)
    assert len(sweep.jobs) == 4 and len({j.name for j in sweep.jobs}) == 4
    assert sweep.total_usd_high == pytest.approx(2 * (0.36 + 0.6))  # at $10/1M (gemini-3.5-flash)
    results = sweep.wait(progress=False, sleep=Sleeps())
    assert all(not isinstance(r, Exception) for r in results)
    recorded = db.db.query("SELECT id, max_cost FROM sweeps")
    assert [tuple(r) for r in recorded] == [(sweep.id, 5.0)]
    assert {r.name for r in ModelRegistry(db).jobs(sweep_id=sweep.id)} == {j.name for j in sweep.jobs}
    report = sweep.report()
    losses = [r["eval_loss"] for r in report.rows]
    assert None not in losses and losses == sorted(losses)
    assert report.rows[0]["epochs"] == 5 and report.rows[0]["learning_rate_multiplier"] == 1.0
    # Running the same sweep again resumes it: no job is paid for twice.
    again = Tuner(client=client, corpus=db, adapter_size=8).sweep(data, grid, max_cost=5.0)
    assert again.id == sweep.id and [j.name for j in again.jobs] == [j.name for j in sweep.jobs]
    assert all(j.reused for j in again.jobs)
    assert len(client.fake.calls("/tuningJobs", method="POST")) == 4


def test_sweep_over_media_resolution_needs_both_versions(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    low = local_dataset(tmp_path, cost=estimate(low=1000, high=1200))
    grid: dict[str, list[str]] = {"media_resolution": ["MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM"]}
    with pytest.raises(HyperparameterError, match="--media-resolution MEDIA_RESOLUTION_MEDIUM"):
        Tuner(client=client, corpus=db).sweep(low, grid, max_cost=5)
    medium = local_dataset(
        tmp_path,
        version_id="ds-medium01",
        media_resolution="MEDIA_RESOLUTION_MEDIUM",
        cost=estimate(low=4000, high=5000),
    )
    sweep = Tuner(client=client, corpus=db).sweep([low, medium], grid, max_cost=5)
    assert [p.dataset.id for p in sweep.points] == ["ds-test0001", "ds-medium01"]
    assert [j.context["train_uri"] for j in sweep.jobs] == [low.train_uri, medium.train_uri]
