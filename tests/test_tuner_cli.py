"""CLI: ``humortune prepare … && humortune tune --offline`` end to end, dry runs, jobs and models commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from humortune.cli import main
from tests.conftest import SAMPLE_BATTERY


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def prepared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    ws = tmp_path / "ws"
    assert run(capsys, "-w", str(ws), "prepare", str(SAMPLE_BATTERY))[0] == 0
    assert run(capsys, "-w", str(ws), "build")[0] == 0
    return ws


def test_prepare_then_tune_offline_end_to_end(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(prepared)
    code, out, err = run(capsys, "-w", ws, "tune", "--offline", "--epochs", "3", "--adapter-size", "8")
    assert code == 0, err
    assert "offline" in err and "FakeGemini" in err  # clearly labelled
    assert "estimated cost: $" in out and "submitted: PENDING" in out
    model_id = re.search(r"model (projects/\S+)", out)
    assert model_id, out
    # Submitting the same thing again does not pay twice.
    code, out, _ = run(capsys, "-w", ws, "tune", "--offline", "--epochs", "3", "--adapter-size", "8", "--no-wait")
    assert code == 0 and "already submitted" in out
    code, out, _ = run(capsys, "-w", ws, "jobs", "list")
    assert code == 0 and "SUCCEEDED" in out
    code, out, _ = run(capsys, "-w", ws, "models", "list", "--json")  # the table leaves resolution to --json
    assert code == 0 and json.loads(out)[0]["media_resolution"] == "MEDIA_RESOLUTION_LOW"
    code, out, _ = run(capsys, "-w", ws, "models", "show", model_id.group(1), "--json")
    lineage = json.loads(out)
    assert lineage["dataset"]["id"].startswith("ds-") and len(lineage["examples"]) == 12
    assert lineage["job"]["hyperparameters"]["epochs"] == 3
    code, out, _ = run(capsys, "-w", ws, "models", "show", model_id.group(1))
    assert code == 0 and "prompt version" in out and "billable" in out


def test_dry_run_prints_the_body_and_sends_nothing(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No --offline and no credentials: a dry run still works because nothing is sent.
    code, out, err = run(capsys, "-w", str(prepared), "tune", "--dry-run", "--epochs", "4", "--lr", "1.0")
    assert code == 0, err
    body = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert body["baseModel"] == "gemini-3.5-flash"
    assert body["supervisedTuningSpec"]["hyperParameters"] == {"epochCount": 4, "learningRateMultiplier": 1.0}
    assert body["supervisedTuningSpec"]["trainingDatasetUri"].endswith("/train.jsonl")
    assert body["labels"]["humortune-dataset"].startswith("ds-")
    assert "needs the dataset in gs://" in err
    code, out, _ = run(capsys, "-w", str(prepared), "jobs", "list")
    assert code == 0 and "ds-" not in out  # the dry run recorded no job


def test_tune_refuses_local_datasets_online(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-w", str(prepared), "tune", "--yes")
    assert code == 1
    assert "Cloud Storage" in err and "HUMORTUNE_STORAGE=gs://" in err and "--offline" in err


def test_bad_hyperparameters_fail_with_one_line(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-w", str(prepared), "tune", "--offline", "-m", "gemini-2.5-pro", "--adapter-size", "16")
    assert code == 1 and "HyperparameterError" in err and "choose one of 4, 8" in err


def test_jobs_wait_show_cancel_by_id(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(prepared)
    code, out, _ = run(capsys, "-w", ws, "tune", "--offline", "--no-wait", "--yes")
    assert code == 0
    name = re.search(r"(projects/\S+/tuningJobs/\d+)", out)
    assert name
    job_id = name.group(1).rsplit("/", 1)[-1]
    code, out, _ = run(capsys, "-w", ws, "jobs", "cancel", job_id, "--offline", "--yes")
    assert code == 0 and "CANCELLED" in out
    code, _, err = run(capsys, "-w", ws, "jobs", "wait", job_id, "--offline")
    assert code == 1 and "was cancelled" in err
    code, out, _ = run(capsys, "-w", ws, "jobs", "show", job_id, "--offline")
    assert code == 0 and json.loads(out)["state"] == "JOB_STATE_CANCELLED"


def test_sweep_command_reports_side_by_side(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(prepared)
    code, out, err = run(capsys, "-w", ws, "sweep", "--offline", "--epochs", "3,5", "--max-cost", "0.0001")
    assert code == 1 and "CostLimitError" in err
    code, out, err = run(capsys, "-w", ws, "sweep", "--offline", "--epochs", "3,5", "--max-cost", "5")
    assert code == 0, err
    assert "2 job(s)" in out and "val" in out
    assert len(re.findall(r"│ +0\.\d{4} │", out)) == 2  # a validation loss for each job (offline metrics)


def test_tune_runs_the_preflight_first(
    prepared: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10 * 2**30, 10 * 2**30 - 2**20, 2**20))  # type: ignore[attr-defined]
    code, out, err = run(capsys, "-w", str(prepared), "tune", "--offline", "--yes")
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("offline:")]
    assert code == 1 and len(lines) == 1 and "PreflightError: preflight disk" in lines[0], err
    assert "humortune doctor" in lines[0]
    monkeypatch.undo()
    code, out, _ = run(capsys, "-w", str(prepared), "jobs", "list")
    assert code == 0 and "ds-" not in out  # nothing was submitted
