"""Tuner, TuningJob and the model registry against FakeGemini (offline), with the real google-genai client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.app import default_client
from humortune.errors import (
    CostLimitError,
    DatasetError,
    HyperparameterError,
    TuningError,
    TuningJobFailedError,
)
from humortune.gemini import GeminiClient
from humortune.settings import Settings
from humortune.testing import DATASET_ERROR_MESSAGE, FakeGemini
from humortune.tuner import ModelRegistry, Tuner, TuningJob
from humortune.workspace import Corpus
from tests._tuner_support import Sleeps, client_for, estimate, local_dataset


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", project="demo-proj", offline=True, confirm_cost_above_usd=5.0)


@pytest.fixture
def db(offline: Settings) -> Iterator[Corpus]:
    with Corpus.open(settings=offline) as corpus:
        yield corpus


@pytest.fixture
def client(offline: Settings) -> GeminiClient:
    return default_client(offline, retry=Sleeps().policy())


def fake_of(client: GeminiClient) -> FakeGemini:
    assert isinstance(client.fake, FakeGemini)
    return client.fake


def tuner(client: GeminiClient, db: Corpus, **kwargs: object) -> Tuner:
    return Tuner(client=client, corpus=db, settings=client.settings, **kwargs)  # type: ignore[arg-type]


# -- refusing before anything is sent ---------------------------------------------------------------------


def test_refuses_datasets_outside_cloud_storage_with_the_fix(tmp_path: Path, db: Corpus) -> None:
    online = Settings(workspace=tmp_path / "ws", project="demo-proj")
    fake = FakeGemini()
    with pytest.raises(DatasetError) as info:
        Tuner(client=client_for(online, fake), corpus=db, settings=online).submit(local_dataset(tmp_path), yes=True)
    assert "Cloud Storage" in info.value.message
    assert "HUMORTUNE_STORAGE=gs://" in str(info.value.hint) and "humortune prepare" in str(info.value.hint)
    assert fake.requests == []


def test_offline_accepts_local_datasets_and_says_so(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    job = tuner(client, db).submit(local_dataset(tmp_path), yes=True)
    assert job.context["offline"] is True and job.state == "PENDING"
    assert job.context["train_uri"].startswith("file://")


def test_refuses_invalid_datasets(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        tuner(client, db).submit(local_dataset(tmp_path, valid=False), yes=True)
    assert "contents[1].role" in info.value.message and "humortune validate" in str(info.value.hint)
    assert fake_of(client).requests == []


@pytest.mark.parametrize(
    ("base", "kwargs", "fragment"),
    [
        ("gemini-2.5-flash", {"epochs": 2}, "epochs=2 is outside 3–5"),
        ("gemini-2.5-flash", {"epochs": 6}, "outside 3–5"),
        ("gemini-2.5-flash", {"learning_rate_multiplier": 0.4}, "outside 0.5–2.0"),
        ("gemini-2.5-flash", {"learning_rate_multiplier": 2.5}, "outside 0.5–2.0"),
        ("gemini-2.5-pro", {"adapter_size": 16}, "adapter size 16 is not allowed for gemini-2.5-pro"),
        ("gemini-2.5-flash", {"adapter_size": 2}, "adapter size 2 is not allowed"),
        ("gemini-1.5-flash", {}, "cannot be tuned"),
        ("gemini-2.5-flash", {"labels": {"Team": "x"}}, "label"),
    ],
)
def test_hyperparameters_are_checked_per_model(
    client: GeminiClient, db: Corpus, base: str, kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(HyperparameterError, match=fragment):
        tuner(client, db, base_model=base, **kwargs)


@pytest.mark.parametrize("key", ["1team", "_team", "-team", "", "Team"])
def test_label_keys_must_start_with_a_lowercase_letter(key: str) -> None:
    from humortune.tuner.catalog import validate_labels

    with pytest.raises(HyperparameterError, match="start with a lowercase letter"):
        validate_labels({key: "x"})
    validate_labels({"team": "", "t-1_x": "1-value_ok"})  # values may start with anything allowed, or be empty


def test_allowed_hyperparameters_pass(client: GeminiClient, db: Corpus) -> None:
    assert (
        tuner(client, db, base_model="gemini-2.5-flash", adapter_size=16, epochs=5).hyperparameters.adapter_size == 16
    )
    assert tuner(client, db, base_model="gemini-2.5-pro", adapter_size=8, learning_rate_multiplier=2.0)


def test_gemini_3_models_only_tune_in_their_regions(tmp_path: Path, db: Corpus) -> None:
    settings = Settings(workspace=tmp_path / "w2", offline=True, location="europe-west1")
    with pytest.raises(HyperparameterError, match="us-central1, europe-west4"):
        Tuner("gemini-3.5-flash", settings=settings, corpus=db)


# -- cost --------------------------------------------------------------------------------------------------


def test_costly_jobs_need_confirmation(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    costly = local_dataset(tmp_path, cost=estimate(low=200_000, high=300_000))  # up to $6 at 4 epochs
    fake = fake_of(client)
    with pytest.raises(CostLimitError) as info:
        tuner(client, db).submit(costly)
    assert "$8.00–$12.00" in info.value.message and "--yes" in str(info.value.hint)
    asked: list[str] = []

    def decline(message: str) -> bool:
        asked.append(message)
        return False

    with pytest.raises(CostLimitError, match="declined"):
        tuner(client, db).submit(costly, confirm=decline)
    assert "above the $5 confirmation threshold" in asked[0]
    assert fake.calls("/tuningJobs", method="POST") == []
    job = tuner(client, db).submit(costly, confirm=lambda m: True)
    assert job.context["estimate"]["usd_high"] == 12.0 and len(fake.calls("/tuningJobs", method="POST")) == 1


def test_cheap_jobs_go_without_asking_and_unknown_costs_ask(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    def never(message: str) -> bool:
        raise AssertionError(message)

    cheap = local_dataset(tmp_path, cost=estimate(low=1000, high=2000))
    assert tuner(client, db).submit(cheap, confirm=never).state == "PENDING"
    with pytest.raises(CostLimitError, match="unknown"):
        tuner(client, db).submit("gs://humortune-demo/train.jsonl")
    assert tuner(client, db).submit("gs://humortune-demo/train.jsonl", yes=True).state == "PENDING"


def test_estimate_is_repriced_for_epochs_and_model(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    data = local_dataset(tmp_path, cost=estimate(low=100_000, high=150_000, epochs=4))
    est = tuner(client, db, base_model="gemini-2.5-pro", epochs=3).estimate(data)
    assert est is not None
    assert (est["usd_low"], est["usd_high"], est["epochs"]) == (7.5, 11.25, 3)  # 25 $/Mtok × 3 epochs


# -- duplicate protection ----------------------------------------------------------------------------------


def test_same_request_returns_the_existing_job(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    data = local_dataset(tmp_path)
    first = tuner(client, db, epochs=4).submit(data, yes=True)
    second = tuner(client, db, epochs=4).submit(data, yes=True)
    assert second.name == first.name and second.reused and not first.reused
    other = tuner(client, db, epochs=5).submit(data, yes=True)
    assert other.name != first.name
    forced = tuner(client, db, epochs=4).submit(data, yes=True, force=True)
    assert forced.name != first.name
    assert len(fake_of(client).calls("/tuningJobs", method="POST")) == 3


def test_a_failed_job_may_be_submitted_again(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    data = local_dataset(tmp_path)
    fake_of(client).fail_next_job()
    job = tuner(client, db).submit(data, yes=True)
    with pytest.raises(TuningJobFailedError):
        job.wait(progress=False, sleep=Sleeps())
    retry = tuner(client, db).submit(data, yes=True)
    assert retry.name != job.name and not retry.reused


def test_lost_create_answer_is_found_by_label(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    data = local_dataset(tmp_path)
    job = tuner(client, db).submit(data, yes=True)
    db.db.execute("DELETE FROM tuning_jobs")  # as if we crashed before recording the job
    again = tuner(client, db).submit(data, yes=True)
    assert again.name == job.name and again.reused
    assert len(fake_of(client).calls("/tuningJobs", method="POST")) == 1
    assert ModelRegistry(db).job(job.name) is not None


# -- monitoring --------------------------------------------------------------------------------------------


def test_wait_registers_the_model_with_reconciled_estimate(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    sleeps = Sleeps()
    job = tuner(client, db, epochs=3, adapter_size=8).submit(local_dataset(tmp_path), yes=True)
    model = job.wait(progress=False, poll_s=10, max_poll_s=12, sleep=sleeps)
    assert job.state == "SUCCEEDED" and sleeps.calls == [10, 12]  # backoff ×1.5, capped
    assert model.endpoint and model.job_name == job.name and len(model.checkpoints) == 3
    assert model.prompt_version == "p-0123456789ab" and model.media_resolution == "MEDIA_RESOLUTION_LOW"
    rec = model.stats["reconciliation"]
    assert rec["billable_tokens"] == model.stats["total_billable_token_count"] > 0
    assert rec["ratio_to_low"] == round(rec["billable_tokens"] / 40_000, 3)
    assert rec["billed_usd"] == round(rec["billable_tokens"] * 3 / 1e6 * 10.0, 4)
    assert ModelRegistry(db).model(model.id) == model


def test_failed_job_surfaces_vertex_message_verbatim(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    fake_of(client).fail_next_job()
    job = tuner(client, db).submit(local_dataset(tmp_path), yes=True)
    with pytest.raises(TuningJobFailedError) as info:
        job.wait(progress=False, sleep=Sleeps())
    err = info.value
    assert err.vertex_message == DATASET_ERROR_MESSAGE and DATASET_ERROR_MESSAGE in str(err)
    assert err.state == "JOB_STATE_FAILED" and err.code == 3
    assert "humortune validate" in str(err.hint) and "humortune build" in str(err.hint)
    assert ModelRegistry(db).models() == []
    assert ModelRegistry(db).job(job.name).state == "JOB_STATE_FAILED"  # type: ignore[union-attr]


def test_cancel_then_result_says_cancelled(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    job = tuner(client, db).submit(local_dataset(tmp_path), yes=True)
    assert job.cancel().state == "JOB_STATE_CANCELLED"
    with pytest.raises(TuningJobFailedError, match="was cancelled"):
        job.result()


def test_ctrl_c_stops_waiting_but_never_cancels(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    job = tuner(client, db).submit(local_dataset(tmp_path), yes=True)

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job.wait(progress=False, sleep=interrupt)
    assert fake_of(client).calls(":cancel") == []
    assert job.refresh().state in ("JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED")


def test_wait_times_out_without_cancelling(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    job = tuner(client, db).submit(local_dataset(tmp_path), yes=True)
    with pytest.raises(TuningError, match="keeps running") as info:
        job.wait(progress=False, timeout_s=0, sleep=Sleeps())
    assert "humortune jobs wait" in str(info.value.hint) and fake_of(client).calls(":cancel") == []


def test_polling_survives_transient_503s_and_resets(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    fake = fake_of(client)
    job = tuner(client, db).submit(local_dataset(tmp_path), yes=True)
    # 8 failures against a 4-attempt policy: at least one poll fails completely, and wait() carries on.
    for kind in ("503", "reset") * 4:
        fake.inject(kind, match="/tuningJobs/")
    model = job.wait(progress=False, sleep=Sleeps())
    assert model.endpoint and len(fake.calls("/tuningJobs/", method="GET")) >= 10


def test_resume_watching_by_name_from_another_process(offline: Settings, tmp_path: Path) -> None:
    with Corpus.open(settings=offline) as first_db:
        first = default_client(offline)
        job = Tuner(client=first, corpus=first_db, settings=offline).submit(local_dataset(tmp_path), yes=True)
        short_id = job.name.rsplit("/", 1)[-1]
    # A new process: new corpus connection, new client, new FakeGemini instance reading the persisted state.
    with Corpus.open(settings=offline) as second_db:
        again = TuningJob.from_name(short_id, settings=offline, corpus=second_db)
        assert again.name == job.name and again.context["dataset_id"] == "ds-test0001"
        model = again.wait(progress=False, sleep=Sleeps())
        assert model.prompt_version == "p-0123456789ab"
        assert [j.name for j in Tuner(settings=offline, corpus=second_db).jobs()] == [job.name]


def test_wait_shows_progress(client: GeminiClient, db: Corpus, tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    job = tuner(client, db).submit(local_dataset(tmp_path), yes=True)
    job.wait(progress=True, console=Console(file=out, width=200), sleep=Sleeps())
    text = out.getvalue()
    assert "SUCCEEDED" in text and "billable tokens/epoch" in text and "offline FakeGemini" in text
