"""Global options before and after the subcommand, help text conventions, escaped hints, `status`, `config`."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import pytest

from humortune import catalog
from humortune.cli import main
from tests._workspace_support import has_database

from .conftest import SAMPLE_BATTERY

DEFAULT_BASE = catalog.default_base_model().id  # what an unpromoted service serves


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_workspace_works_before_and_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    after, before = tmp_path / "after", tmp_path / "before"
    code, out, _ = run(capsys, "import", str(SAMPLE_BATTERY), "--workspace", str(after))
    assert code == 0 and "12 new" in out
    assert has_database(after)
    code, out, _ = run(capsys, "-w", str(before), "import", str(SAMPLE_BATTERY))
    assert code == 0 and has_database(before)
    code, out, _ = run(capsys, "datasets", "list", "-w", str(after))  # nested subcommand too
    assert code == 0 and "no dataset versions yet" in out
    assert not (Path.cwd() / ".humortune").exists()  # nothing went to the default workspace


def test_offline_and_debug_work_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    code, _, err = run(capsys, "import", str(tmp_path / "missing.json"), "-w", ws, "--debug")
    assert code == 1 and "Traceback" in err
    code, out, _ = run(capsys, "config", "-w", ws, "--offline")
    assert code == 0
    cells = [[c.strip() for c in line.split("│")][1:3] for line in out.splitlines()]
    assert ["offline", "True"] in cells


def test_subcommand_help_lists_the_global_options_and_plain_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prepare", "--help")
    assert code == 0
    assert "Global options" in out and "--workspace" in out and "--debug" in out
    assert "Usage: humortune prepare [OPTIONS] BATTERY" in out
    assert "<bool>" not in out and "{battery}" not in out
    code, out, _ = run(capsys, "eval", "--help")
    assert "[default:" in out  # was eaten as rich markup
    code, out, _ = run(capsys, "models", "show", "--help")
    assert "--workspace" in out and "REF" in out


def test_hints_are_not_eaten_as_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_ui(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith(("uvicorn", "fastapi")):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ui)
    code, _, err = run(capsys, "-w", str(tmp_path / "ws"), "review")
    assert code == 1
    assert "pip install 'humortune[ui]'" in err


def test_status_in_an_empty_folder_says_it_created_the_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    code, out, _ = run(capsys, "-w", str(ws), "status")
    assert code == 0 and f"created {ws}/" in out
    assert "current model: none yet" in out and "next: humortune prepare BATTERY" in out
    code, out, _ = run(capsys, "-w", str(ws), "status")
    assert "created" not in out  # only the first time


def test_status_shows_model_dataset_waiting_and_next(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    assert run(capsys, "-w", ws, "prepare", str(SAMPLE_BATTERY))[0] == 0
    _, out, _ = run(capsys, "-w", ws, "status")
    assert "latest dataset: ds-" in out and "next: humortune tune" in out
    assert run(capsys, "-w", ws, "tune", "--offline", "--yes")[0] == 0
    video = str(SAMPLE_BATTERY.parent / "sample_videos" / "clip03.mp4")
    assert run(capsys, "-w", ws, "analyze", video, "--offline")[0] == 0
    _, out, _ = run(capsys, "-w", ws, "status")
    text = " ".join(out.split())
    assert f"(base {DEFAULT_BASE}) — nothing promoted yet" in text
    assert catalog.lifecycle(DEFAULT_BASE, within_days=60).message() in text  # the base's lifecycle
    assert "waiting: 1 unreviewed analyses, 0 corrections without video" in text
    assert "next: humortune eval, then humortune promote " in text and "@1" in text


def test_config_title_names_no_missing_file_as_if_it_existed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    _, out, _ = run(capsys, "-w", str(ws), "config")
    assert "settings file: none; optional" in " ".join(out.split())
    ws.mkdir()
    (ws / "humortune.toml").write_text("offline = true\n")
    _, out, _ = run(capsys, "-w", str(ws), "config")
    assert "none; optional" not in out and "humortune.toml" in out


def test_prepare_never_breaks_a_file_uri_across_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from humortune.cli import console

    monkeypatch.setattr(console, "width", 80)
    ws = tmp_path / "a-rather-long-folder-name-so-the-uris-are-wider-than-eighty-columns" / "ws"
    code, out, _ = run(capsys, "-w", str(ws), "prepare", str(SAMPLE_BATTERY))
    assert code == 0
    uris = [word for line in out.splitlines() for word in line.split() if word.startswith("file://")]
    assert uris and all(uri.endswith((".jsonl", "/storage")) for uri in uris), uris
    assert any(uri.endswith("/train.jsonl") and str(ws) in uri for uri in uris)


def test_status_in_a_new_folder_on_a_workspace_with_data_does_not_say_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A laptop's new local folder on a shared (or moved) database is not a new, empty workspace."""
    first = tmp_path / "first"
    assert run(capsys, "-w", str(first), "import", str(SAMPLE_BATTERY))[0] == 0
    # the same database from another local folder (SQLite: named explicitly; PostgreSQL: the shared URL)
    url = os.environ.get("HUMORTUNE_DATABASE_URL") or f"sqlite:///{first / 'humortune.db'}"
    monkeypatch.setenv("HUMORTUNE_DATABASE_URL", url)
    code, out, _ = run(capsys, "-w", str(tmp_path / "laptop"), "status")
    assert code == 0 and "created" not in out and (tmp_path / "laptop").is_dir()
