"""``humortune doctor`` on the command line: offline on the sample, JSON, and no credentials without hanging."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from humortune.cli import main

from .conftest import SAMPLE_BATTERY


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_offline_passes_on_the_sample_in_under_two_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    assert run(capsys, "-w", ws, "import", str(SAMPLE_BATTERY))[0] == 0
    clock = time.monotonic()
    code, out, _ = run(capsys, "-w", ws, "doctor", "--offline")
    elapsed = time.monotonic() - clock
    assert code == 0, out
    assert "ready to tune" in out and "12 corrections" in out and elapsed < 2.0
    lines = [line for line in out.splitlines() if line.strip()]
    assert [line.split()[2].rstrip(":") for line in lines[:10]] == [
        "settings",
        "credentials",
        "vertex-api",
        "base-model",
        "bucket",
        "service-agent",
        "service-account",
        "tiktok",
        "disk",
        "workspace",
    ]


def test_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-w", str(tmp_path / "ws"), "doctor", "--offline", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["offline"] is True
    assert {c["status"] for c in report["checks"]} <= {"ok", "skip", "warn"}
    assert all(set(c) == {"name", "status", "message", "fix", "blocking"} for c in report["checks"])


def test_without_credentials_it_fails_fast_and_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import humortune.credentials

    # A laptop off Google Cloud: no ADC, no key file, and the GCE metadata check NOT disabled.
    monkeypatch.delenv("NO_GCE_CHECK", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "home" / "gcloud"))
    monkeypatch.setattr(humortune.credentials, "_DMI_PRODUCT", tmp_path / "no-dmi")
    monkeypatch.setenv("HUMORTUNE_PROJECT", "demo-proj")
    monkeypatch.setenv("HUMORTUNE_STORAGE", "gs://humortune-demo/h")
    connects: list[Any] = []
    real_connect = socket.socket.connect

    def recording(self: socket.socket, address: Any) -> Any:
        connects.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    clock = time.monotonic()
    code, out, _ = run(capsys, "-w", str(tmp_path / "ws"), "doctor")
    assert time.monotonic() - clock < 30
    assert code == 1 and connects == []  # nothing waited on 169.254.169.254 (or anything else)
    failed = [line for line in out.splitlines() if "✗" in line]
    assert len(failed) == 1 and "credentials" in failed[0], out
    assert "gcloud auth application-default login" in failed[0]
