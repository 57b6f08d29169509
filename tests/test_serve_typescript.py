"""The TypeScript client (clients/typescript) against a live offline server started as the container starts it.

``npm test`` type-checks the client and its test with ``tsc --strict`` and runs them (node:test) against
``HUMORTUNE_URL``/``HUMORTUNE_API_TOKEN``. Its dependencies come from ``npm ci`` (scripts/test and .ci/run do
that); a machine without npm or without them fails here, loudly, instead of skipping.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from humortune.analyzer.video import store_local
from humortune.service import create_app
from humortune.settings import Settings
from humortune.storage import open_storage
from humortune.workspace import Corpus
from tests._service_support import REPO, serve_like_the_container
from tests.conftest import SAMPLE_VIDEOS

CLIENT = REPO / "clients" / "typescript"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: the TypeScript client's test needs node 20+ and npm")
    if not (CLIENT / "node_modules" / ".bin" / "tsc").exists():
        pytest.fail("clients/typescript has no node_modules: run `npm ci` there (scripts/test does)")
    return npm


def _stored_clip(workspace: Path) -> str:
    settings = Settings(workspace=workspace)
    with Corpus.open(settings=settings) as corpus:
        storage = open_storage(settings.storage_uri)
        sha = store_local(SAMPLE_VIDEOS / "clip01.mp4", corpus=corpus, storage=storage).sha256
    assert sha is not None
    return sha


def test_the_committed_schema_is_the_served_one(tmp_path: Path) -> None:
    """clients/typescript/openapi.json (and so src/schema.ts) must be regenerated when the API changes."""
    app = create_app(Settings(workspace=tmp_path / "ws", offline=True), token="t" * 24)
    committed = json.loads((CLIENT / "openapi.json").read_text("utf-8"))
    assert committed == app.openapi(), (
        "the API changed: `humortune serve --offline --write-openapi clients/typescript/openapi.json`, "
        "then `npm run generate` in clients/typescript"
    )
    assert "Do not edit" in (CLIENT / "src" / "schema.ts").read_text("utf-8")


def test_npm_test_passes_against_a_live_offline_server(tmp_path: Path) -> None:
    npm = _npm()
    workspace = tmp_path / "ws"
    sha = _stored_clip(workspace)
    with serve_like_the_container(workspace) as served:
        env = {**served.env, "HUMORTUNE_URL": served.url, "HUMORTUNE_VIDEO": sha}
        result = subprocess.run([npm, "test"], cwd=CLIENT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "# fail 0" in output and "# skipped 0" in output
    assert "# pass 4" in output
