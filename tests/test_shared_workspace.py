"""Two machines, one workspace (issue 16, item 3): the owner's laptop (A) and the deployed service (B).

Both are real processes running the ``humortune`` CLI, each with its own local workspace directory; they share
only ``HUMORTUNE_DATABASE_URL`` (the real PostgreSQL server of the fixtures) and storage (the GCS emulator). A
imports, ingests, builds, tunes offline, waits and promotes; B's ``serve`` (the Dockerfile's entrypoint, started
before any of that) answers with the promoted model without a restart; B's analysis reaches A's review queue;
and nothing of it lives only in A's local directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests._postgres import PostgresServer
from tests._service_support import serve_like_the_container
from tests.conftest import SAMPLE_BATTERY, SAMPLE_VIDEOS
from tests.rigs.gcs_emulator import GCSEmulator

BUCKET = "shared-ws"
HUMORTUNE = str(Path(sys.executable).parent / "humortune")

# What A sees of an analysis, read through the library in A's own process (its local directory may be empty):
# the stored analysis, whether a review of it is in effect, and A's review queue (or the queue's error).
READ_REVIEWS = """
import json, sys, traceback
from humortune import App
from humortune.feedback.queue import ReviewQueue
with App.from_env() as app:
    analysis = app.stores.analyses.get(sys.argv[1])
    seen = {"model": analysis.model if analysis else None, "reviewed": app.stores.reviews.last_action(sys.argv[1])}
    try:
        seen["queue"] = [item.analysis_id for item in ReviewQueue(app.corpus).items(limit=100)]
    except Exception:
        seen["queue_error"] = traceback.format_exc()
    print(json.dumps(seen))
"""


@pytest.fixture
def shared(postgres: PostgresServer) -> Iterator[dict[str, str]]:
    """What the two machines share: the database URL and the bucket (everything else is per machine)."""
    with GCSEmulator() as emulator, postgres.schema() as url:
        emulator.client().create_bucket(BUCKET)
        yield {
            **emulator.environ(),
            "HUMORTUNE_DATABASE_URL": url,
            "HUMORTUNE_STORAGE": f"gs://{BUCKET}/humortune",
            "HUMORTUNE_OFFLINE": "true",
            "NO_GCE_CHECK": "true",
        }


def machine(workspace: Path, shared: dict[str, str]) -> dict[str, str]:
    """The environment of one machine: its own local workspace directory, the shared database and bucket."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HUMORTUNE_", "GOOGLE_", "STORAGE_EMULATOR"))}
    return {**base, **shared, "HUMORTUNE_WORKSPACE": str(workspace)}


def run(env: dict[str, str], *args: str, cwd: Path) -> str:
    done = subprocess.run([HUMORTUNE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"humortune {' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_laptop_and_the_service_share_one_workspace(tmp_path: Path, shared: dict[str, str]) -> None:
    ws_a, ws_b = tmp_path / "laptop" / "ws", tmp_path / "service" / "ws"
    ws_a.parent.mkdir()
    ws_b.parent.mkdir()
    a, home = machine(ws_a, shared), ws_a.parent
    clip = hashlib.sha256((SAMPLE_VIDEOS / "clip01.mp4").read_bytes()).hexdigest()
    with serve_like_the_container(ws_b, **shared) as b:  # B runs before anything exists, and is never restarted
        auth = {"Authorization": f"Bearer {b.token}"}
        assert httpx.get(f"{b.url}/healthz", timeout=10).json()["model_kind"] == "base"

        run(a, "import", str(SAMPLE_BATTERY), cwd=home)
        run(a, "ingest", cwd=home)
        run(a, "build", cwd=home)
        run(a, "tune", "--yes", "--no-wait", cwd=home)
        [job] = json.loads(run(a, "jobs", "list", "--json", cwd=home))
        shutil.rmtree(ws_a / "offline", ignore_errors=True)  # the fake's jobs are not kept there
        run(a, "jobs", "wait", job["name"], "--poll", "0.01", cwd=home)
        [model] = json.loads(run(a, "models", "--json", cwd=home))
        run(a, "promote", model["id"], "--yes", "--force", cwd=home)

        health = httpx.get(f"{b.url}/healthz", timeout=10).json()
        assert (health["model"], health["model_kind"], health["alias"]) == (model["id"], "tuned", "current")
        asked = datetime.now(UTC)
        answer = httpx.post(f"{b.url}/v1/analyze", json={"video": clip, "refresh": True}, headers=auth, timeout=60)
        assert answer.status_code == 200, answer.text
        analysis = answer.json()
        assert analysis["model"] in (model["id"], model["endpoint"])
        assert datetime.fromisoformat(analysis["created_at"]) >= asked  # B's own analysis, not one A cached
        assert b.proc.poll() is None

    assert not (ws_a / "offline").exists()
    shutil.rmtree(ws_a)  # A's local directory holds only caches: without it, A still sees everything
    seen = json.loads(python(a, READ_REVIEWS, analysis["id"], cwd=home))
    assert seen["model"] == analysis["model"] and seen["reviewed"] is None  # stored, waiting for review
    assert "queue_error" not in seen, seen["queue_error"]
    assert analysis["id"] in seen["queue"]


def python(env: dict[str, str], script: str, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
