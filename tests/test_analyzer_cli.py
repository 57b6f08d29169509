"""``humortune analyze`` and ``humortune serve`` offline (the bundled FakeGemini)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from humortune.cli import main
from humortune.testing.videos import make_test_video


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_test_video(tmp_path / "clip.mp4", seconds=1.0, seed=5)


def test_analyze_offline_prints_a_panel(tmp_path: Path, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-w", str(tmp_path / "ws"), "analyze", "--offline", str(clip))
    assert code == 0, err
    assert "Det roliga i detta klipp är" in out and "mechanism" in out and "gemini-3.5-flash" in out
    assert "no model is promoted as 'current'" in err


def test_analyze_json_lines_errors_and_cache(tmp_path: Path, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    args = ("-w", ws, "analyze", "--offline", "--json", "-j", "2")
    code, out, _ = run(capsys, *args, str(clip), str(tmp_path / "missing.mp4"))
    assert code == 1  # one clip failed; the other was still analysed
    lines = {line["input"]: line for line in map(json.loads, out.splitlines())}
    assert lines[str(clip)]["ok"] is True
    analysis: dict[str, Any] = lines[str(clip)]["analysis"]
    assert analysis["record"]["category"] and analysis["cached"] is False
    assert lines[str(tmp_path / "missing.mp4")]["error"]["type"] == "SourceError"
    code, out, _ = run(capsys, *args, "--mode", "two-stage", str(clip))
    assert code == 0 and json.loads(out)["analysis"]["cached"] is True
    assert json.loads(out)["analysis"]["id"] == analysis["id"]


def test_analyze_refuses_unknown_models_and_modes(
    tmp_path: Path, clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(tmp_path / "ws")
    code, _, err = run(capsys, "-w", ws, "analyze", "--offline", "--model", "current", str(clip))
    assert code == 1 and "ModelNotFoundError" in err and "promote" in err and "Traceback" not in err
    code, _, err = run(capsys, "-w", ws, "analyze", "--offline", "--mode", "both", str(clip))
    assert code == 2 and "--mode" in err


def test_serve_wires_the_app(
    tmp_path: Path, clip: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    token_file = tmp_path / "token"
    monkeypatch.setenv("HUMORTUNE_STORAGE", "gs://b")  # the server analyses objects of its own storage only
    code, _, err = run(capsys, "-w", str(tmp_path / "ws"), "serve", "--offline", "--token-file", str(token_file))
    assert code == 0
    assert (started["host"], started["port"], started["access_log"]) == ("127.0.0.1", 8000, False)
    token = token_file.read_text().strip()
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    assert f"bearer token (random, this run only): {token}" in err
    with TestClient(started["app"]) as api:
        assert api.post("/v1/analyze", json={"video": "gs://b/v.mp4"}).status_code == 401
        ok = api.post("/v1/analyze", json={"video": "gs://b/v.mp4"}, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["narrative"].startswith("Det roliga")
    run(capsys, "-w", str(tmp_path / "ws"), "serve", "--offline", "--access-log")
    assert started["access_log"] is True


def test_serve_warns_off_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    monkeypatch.setenv("HUMORTUNE_API_TOKEN", "configured-token")
    code, _, err = run(capsys, "-w", str(tmp_path / "ws"), "serve", "--offline", "--host", "0.0.0.0")
    assert code == 0 and "warning" in err and "0.0.0.0" in err
    assert "configured-token" not in err and "random" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_for_real_on_loopback(tmp_path: Path) -> None:
    """The real process: uvicorn on 127.0.0.1, offline, answering a bearer-authenticated request."""
    port, token_file = _free_port(), tmp_path / "token"
    program = "import sys; from humortune.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["-w", str(tmp_path / "ws"), "serve", "--offline", "--port", str(port), "--token-file", str(token_file)]
    cmd = [sys.executable, "-c", program, *args]
    env = {**os.environ, "NO_GCE_CHECK": "true", "HUMORTUNE_STORAGE": "gs://b"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
        # a real process on a loaded machine: the first request imports the analyzer; the bound only stops a hang
        response = httpx.post(
            f"{base}/v1/analyze", json={"video": "gs://b/v.mp4", "mode": "narrative"}, headers=headers, timeout=60
        )
        assert response.status_code == 200 and response.json()["mode"] == "narrative"
        assert httpx.post(f"{base}/v1/analyze", json={"video": "gs://b/v.mp4"}).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_batch_offline_submit_then_collect(tmp_path: Path, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Offline batch prediction end to end: file:// storage reaches the fake through typed batch sources."""
    ws = str(tmp_path / "ws")
    code, out, err = run(capsys, "-w", ws, "analyze", "--offline", "--batch", str(clip))
    assert code == 0, err
    batch_id = next(word.rstrip(":") for word in out.split() if word.startswith("batch-"))
    code, out, err = run(capsys, "-w", ws, "batch", "collect", batch_id, "--wait", "--offline", "--json")
    assert code == 0, err
    results = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(results) == 1
    assert results[0]["ok"] is True
    assert results[0]["analysis"]["narrative"].startswith("Det roliga i detta klipp är")
