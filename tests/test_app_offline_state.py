"""The offline fake's jobs live in the workspace database (`humortune.app.WorkspaceFakeState`), not in the local
workspace directory: two machines sharing the database share them, concurrent creations lose nothing, and a
workspace that kept them in ``offline/fake_gemini.json`` has them imported once."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from humortune.app import default_client
from humortune.settings import Settings
from humortune.testing.fake_gemini import LEGACY_STATE, FakeGemini
from tests._postgres import PostgresServer
from tests._tuner_support import owner_row
from tests.rigs.gcs_emulator import GCSEmulator

P = "/v1beta1/projects/offline-project/locations/us-central1"


def _fake(settings: Settings) -> FakeGemini:
    fake: FakeGemini = default_client(settings, offline=True).fake
    return fake


def _create(fake: FakeGemini, train: str = "gs://bucket/training/datasets/v1/train.jsonl") -> str:
    body = {"baseModel": "gemini-2.5-flash", "supervisedTuningSpec": {"trainingDatasetUri": train}}
    reply = fake.handle("POST", f"{P}/tuningJobs", {}, json.dumps(body).encode())
    assert reply.status == 200, reply.body
    return str(reply.body["name"]).rsplit("/", 1)[-1]


def _state(fake: FakeGemini, job: str) -> str:
    reply = fake.handle("GET", f"{P}/tuningJobs/{job}", {}, b"")
    assert reply.status == 200, reply.body
    return str(reply.body["state"])


def test_two_workspaces_on_one_database_share_the_offline_jobs(tmp_path: Path, postgres: PostgresServer) -> None:
    with postgres.schema() as url:
        laptop = Settings(workspace=tmp_path / "laptop", database_url=url)
        service = Settings(workspace=tmp_path / "service", database_url=url)
        job = _create(_fake(laptop))
        # pending 1 poll, running 2: the third poll succeeds only if each machine counts the other's polls
        states = [_state(_fake(s), job) for s in (service, laptop, service)]
        assert states == ["JOB_STATE_RUNNING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"]
        assert not (tmp_path / "laptop" / "offline").exists() and not (tmp_path / "service" / "offline").exists()


def test_concurrent_job_creations_lose_none(settings: Settings) -> None:
    """Two clients are two processes (each opens its own database connection): 2 × 5 jobs, all kept."""
    created: list[str] = []
    lock = threading.Lock()

    def submit(fake: FakeGemini) -> None:
        for _ in range(5):
            job = _create(fake)
            with lock:
                created.append(job)

    threads = [threading.Thread(target=submit, args=(_fake(settings),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    listed = _fake(settings).handle("GET", f"{P}/tuningJobs", {"pageSize": "50"}, b"").body["tuningJobs"]
    assert len(set(created)) == 10
    assert {str(j["name"]).rsplit("/", 1)[-1] for j in listed} == set(created)


def test_a_legacy_state_file_is_imported_once(settings: Settings) -> None:
    legacy = settings.workspace / LEGACY_STATE
    old = FakeGemini(project="offline-project", state_path=legacy)  # how offline workspaces kept jobs before
    first = _create(old)
    second = _create(_fake(settings))  # imports the file, then adds to the database
    assert not legacy.exists() and legacy.with_name(legacy.name + ".imported").is_file()
    legacy.write_text(json.dumps({"counter": 0, "tuning": {}}), "utf-8")  # no longer the source of truth
    listed = _fake(settings).handle("GET", f"{P}/tuningJobs", {}, b"").body["tuningJobs"]
    assert {str(j["name"]).rsplit("/", 1)[-1] for j in listed} == {first, second}


def test_a_tuned_model_remembers_a_dataset_in_cloud_storage(
    tmp_path: Path, monkeypatch: Any, settings: Settings
) -> None:
    with GCSEmulator() as emulator:
        emulator.client().create_bucket("offline-bucket")
        for name, value in emulator.environ().items():
            monkeypatch.setenv(name, value)
        stored = settings.model_copy(update={"storage": "gs://offline-bucket/ws"})
        row = owner_row(1, prefix="gs://offline-bucket/ws/training/videos")
        blob = emulator.client().bucket("offline-bucket").blob("ws/training/datasets/v1/train.jsonl")
        blob.upload_from_string(json.dumps(row, ensure_ascii=False) + "\n")
        fake = _fake(stored)
        job = _create(fake, "gs://offline-bucket/ws/training/datasets/v1/train.jsonl")
        while _state(fake, job) != "JOB_STATE_SUCCEEDED":
            pass
        endpoint = fake.handle("GET", f"{P}/tuningJobs/{job}", {}, b"").body["tunedModel"]["endpoint"]
        body = {"contents": [row["contents"][0]]}
        path = f"/v1beta1/{endpoint}:generateContent"
        answer = fake.handle("POST", path, {}, json.dumps(body).encode()).body
    owner_said = row["contents"][-1]["parts"][0]["text"]
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == owner_said


def test_a_failure_asked_for_in_one_process_hits_the_next_job_of_another(settings: Settings) -> None:
    _fake(settings).fail_next_job("Dataset validation failed: line 2 is broken.")
    other = _fake(settings)
    job = _create(other)
    while (state := _state(other, job)) == "JOB_STATE_PENDING":
        pass
    assert state == "JOB_STATE_FAILED"
    assert _state(_fake(settings), _create(other)) != "JOB_STATE_FAILED"  # only the next one
