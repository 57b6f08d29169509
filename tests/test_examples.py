"""The starter scripts in examples/ run offline, as a new user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, subprocess_env


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("quickstart.py", "'corrections': 12"),
        ("ingest_battery.py", "first stored video"),
        ("build_dataset.py", '"humortune-prompt"'),
        ("submit_and_wait.py", "Det roliga i detta klipp är"),
    ],
)
def test_example_runs_offline(tmp_path: Path, script: str, expected: str) -> None:
    env = subprocess_env()
    cwd, temp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    temp.mkdir()
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / script)],
        cwd=cwd,
        env={**env, "NO_GCE_CHECK": "true", "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout
    # Nothing left behind but the user's own (git-ignored) default workspace: no temporary workspaces.
    assert {p.name for p in cwd.iterdir()} <= {".humortune"} and list(temp.iterdir()) == []
