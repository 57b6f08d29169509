"""examples/evaluate_models.py runs offline, as the docs promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import subprocess_env

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "evaluate_models.py"


def _run(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = subprocess_env() | {"NO_GCE_CHECK": "true"}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_example_evaluates_calibrates_promotes_and_rolls_back(tmp_path: Path) -> None:
    result = _run("--workspace", str(tmp_path / "ws"), "--clips", "150", "--yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Old answer" in out and "Tuned" in out
    assert "mechanism" in out and "calibrated: agreement" in out
    assert "not calibrated: agreement" in out  # the pairwise judge disagrees with the simulated owner on ties
    assert "promotion refused: uncalibrated judge: pairwise judge" in out
    assert "promote: projects/demo/locations/us-central1/models/101@1 (replacing gemini-3.5-flash)" in out
    assert "current is gemini-3.5-flash again" in out
    assert list((tmp_path / "ws" / "reports").glob("ev-*/report.html"))


def test_example_without_confirmation_only_proposes(tmp_path: Path) -> None:
    result = _run("--workspace", str(tmp_path / "ws"), "--clips", "150", cwd=tmp_path, stdin="n\n")
    assert result.returncode == 0, result.stderr
    assert "propose: projects/demo/locations/us-central1/models/101@1" in result.stdout
    assert "roll back" not in result.stdout
