"""JobStore against a real workspace file: duplicate-submit key, state updates, sweeps."""

from __future__ import annotations

from humortune.workspace import Corpus
from humortune.workspace.stores import JobRecord, JobStore, SweepRecord

_NAME = "projects/p/locations/europe-west4/tuningJobs/"


def _job(n: int, *, state: str = "JOB_STATE_RUNNING", request_hash: str = "h1", sweep: str | None = None) -> JobRecord:
    return JobRecord(
        name=f"{_NAME}{n}",
        base_model="gemini-2.5-flash",
        request_hash=request_hash,
        hyperparams={"epochs": 4, "train_uri": "gs://b/train.jsonl"},
        display_name=f"job-{n}",
        state=state,
        sweep_id=sweep,
        estimate_usd=1.5,
        job={"name": f"{_NAME}{n}", "state": state},
    )


def test_record_then_get_round_trips(corpus: Corpus) -> None:
    store = JobStore(corpus.db)
    store.record(_job(1))
    got = store.get(f"{_NAME}1")
    assert got is not None
    assert got.model_dump(exclude={"created_at", "updated_at"}) == _job(1).model_dump(
        exclude={"created_at", "updated_at"}
    )
    assert got.created_at is not None and got.updated_at is not None


def test_recording_a_known_job_keeps_its_context_and_first_sweep(corpus: Corpus) -> None:
    store = JobStore(corpus.db)
    store.add_sweep(SweepRecord(id="sw1", grid={"epochs": [3, 4]}))
    store.add_sweep(SweepRecord(id="sw2"))
    store.record(_job(1, sweep="sw1"))
    store.record(_job(1, state="JOB_STATE_SUCCEEDED", sweep="sw2").model_copy(update={"hyperparams": {"epochs": 9}}))
    got = store.get(f"{_NAME}1")
    assert got is not None
    assert (got.state, got.sweep_id, got.hyperparams["epochs"]) == ("JOB_STATE_SUCCEEDED", "sw1", 4)


def test_live_for_skips_dead_jobs(corpus: Corpus) -> None:
    store = JobStore(corpus.db)
    store.record(_job(1, state="JOB_STATE_FAILED"))
    assert store.live_for("h1") is None
    store.record(_job(2))
    live = store.live_for("h1")
    assert live is not None and live.name == f"{_NAME}2"
    store.update_state(f"{_NAME}2", "JOB_STATE_CANCELLED", {"state": "JOB_STATE_CANCELLED"})
    assert store.live_for("h1") is None
    cancelled = store.get(f"{_NAME}2")
    assert cancelled is not None and cancelled.job == {"state": "JOB_STATE_CANCELLED"}


def test_short_ids_and_sweeps(corpus: Corpus) -> None:
    store = JobStore(corpus.db)
    assert store.add_sweep(SweepRecord(id="sw", grid={"lr": [1.0]}, max_cost=5.0)) is True
    assert store.add_sweep(SweepRecord(id="sw", grid={"other": 1})) is False  # a rerun resumes it
    for n in (10, 11, 2):
        store.record(_job(n))
    store.attach_to_sweep(f"{_NAME}11", "sw")
    store.attach_to_sweep(f"{_NAME}2", "sw")
    assert [j.name for j in store.with_id("1")] == [f"{_NAME}10", f"{_NAME}11"]
    assert [j.name for j in store.with_id("2")] == [f"{_NAME}2"]
    assert {j.name for j in store.all(sweep_id="sw")} == {f"{_NAME}11", f"{_NAME}2"}
    assert len(store.all()) == 3
    sweep = store.sweep("sw")
    assert sweep is not None and sweep.grid == {"lr": [1.0]} and sweep.max_cost == 5.0
    assert [s.id for s in store.sweeps()] == ["sw"]
    assert store.sweep("missing") is None
