"""The CLI skeleton: init, import, status, config, prepare, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humortune.cli import main
from tests._workspace_support import has_database

from .conftest import SAMPLE_BATTERY


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_creates_the_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-w", str(tmp_path / "ws"), "init")
    assert code == 0 and "workspace ready" in out
    assert has_database(tmp_path / "ws") and (tmp_path / "ws").is_dir()  # the folder too, on either engine


def test_import_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    code, out, _ = run(capsys, "-w", ws, "import", str(SAMPLE_BATTERY))
    assert code == 0 and "12 new" in out and "json-object[examples]" in out
    code, out, _ = run(capsys, "-w", ws, "status")
    assert code == 0
    assert any(line.split("│")[1:3] == [" corrections               ", "    12 "] for line in out.splitlines())


def test_import_reports_bad_items_and_strict_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    battery = tmp_path / "b.json"
    battery.write_text(
        json.dumps(
            [
                {"video_url": "https://www.tiktok.com/@a/video/1", "human_said": "h"},
                {"video_url": "x", "human_said": "h"},
            ]
        )
    )
    code, out, err = run(capsys, "-w", str(tmp_path / "ws"), "import", str(battery))
    assert code == 0 and "1 new" in out and "item 1: video_url" in err
    code, _, err = run(capsys, "-w", str(tmp_path / "ws2"), "import", "--strict", str(battery))
    assert code == 1
    assert "BatteryError" in err and "Traceback" not in err


def test_errors_are_one_line_unless_debug(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.json")
    code, _, err = run(capsys, "-w", str(tmp_path / "ws"), "import", missing)
    assert code == 1
    assert err.startswith("error: CorpusError:") and "Traceback" not in err
    code, _, err = run(capsys, "--debug", "-w", str(tmp_path / "ws"), "import", missing)
    assert code == 1 and "Traceback" in err


def test_config_shows_origin_and_redacts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMORTUNE_API_TOKEN", "very-secret-token")
    monkeypatch.setenv("HUMORTUNE_PROJECT", "demo-proj")
    code, out, _ = run(capsys, "-w", str(tmp_path / "ws"), "config")
    assert code == 0
    assert "very-secret-token" not in out and "**********" in out
    assert "demo-proj" in out and "env HUMORTUNE_PROJECT" in out


def test_prepare_imports_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-w", str(tmp_path / "ws"), "prepare", str(SAMPLE_BATTERY))
    assert code == 0 and "imported 12 item(s)" in out


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "no-such-command")
    assert code == 2 and "No such command" in err
