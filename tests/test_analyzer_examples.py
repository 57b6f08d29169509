"""The analyzer's and the service's examples run offline, as the docs promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from humortune.testing.videos import make_test_video
from tests.conftest import subprocess_env

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = subprocess_env() | {"NO_GCE_CHECK": "true"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_batch_analyze_example(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    for seed in range(3):
        make_test_video(folder / f"c{seed}.mp4", seconds=1.0, seed=seed)
    (folder / "broken.mp4").write_text("not a video")
    args = (str(EXAMPLES / "batch_analyze.py"), str(folder), "--workspace", str(tmp_path / "ws"), "--max-rps", "100")
    first = _run(*args, cwd=tmp_path)
    assert first.returncode == 1, first.stderr  # the broken clip fails; the three others are analysed
    assert "4 clip(s)" in first.stdout and "3 analysed, 0 from the cache, 1 failed" in first.stdout
    assert first.stdout.count("Det roliga i detta klipp är") == 3
    again = _run(*args, cwd=tmp_path)
    assert "0 analysed, 3 from the cache, 1 failed" in again.stdout and "$0.0000" in again.stdout


def test_call_service_example(tmp_path: Path) -> None:
    result = _run(str(EXAMPLES / "call_service.py"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "GET /healthz → 200" in out and "without a token → 401 Unauthorized" in out
    assert "POST /v1/analyze → 200" in out and "narrative: Det roliga i detta klipp är" in out
    assert "cached: True" in out and "fields: ['video', 'mode']" in out
