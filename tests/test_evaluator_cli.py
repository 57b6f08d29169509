"""``humortune eval / compare / promote / rollback / report / calibrate / aliases`` offline on the sample battery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humortune.cli import main
from tests._workspace_support import open_workspace

from .conftest import SAMPLE_BATTERY


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A workspace with the sample battery ingested, a dataset with a held-out split, and an offline-tuned model."""
    ws = str(tmp_path / "ws")
    assert run(capsys, "-w", ws, "prepare", str(SAMPLE_BATTERY))[0] == 0
    assert run(capsys, "-w", ws, "build", "--split", "0.4,0.1,0.5")[0] == 0
    assert run(capsys, "-w", ws, "tune", "--offline", "--yes")[0] == 0
    with open_workspace(ws) as corpus:
        (model,) = corpus.db.query("SELECT id FROM models")
    return ws, str(model[0])


def test_eval_and_compare_write_reports_offline(sample: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    ws, model = sample
    code, out, err = run(capsys, "-w", ws, "eval", model, "--offline")
    assert code == 0, err
    assert "Old answer" in out and "Base" in out and "Tuned" in out and "small sample" in out
    html = next((Path(ws) / "reports").glob("ev-*/report.html"))
    assert html.read_text("utf-8").startswith("<!DOCTYPE html>")

    code, out, err = run(capsys, "-w", ws, "compare", model, "gemini-2.5-flash", "--offline", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["kind"] == "compare" and summary["test_set"]["n"] == 6
    assert summary["outcome_source"] == "pairwise judge (both orders)"
    assert summary["gate"]["allowed"] is False  # six clips and no calibrated judge cannot clear the gate
    assert Path(summary["report_path"]).is_file()

    code, out, _ = run(capsys, "-w", ws, "report", "--list")
    assert code == 0 and out.count("ev-") == 2
    code, out, _ = run(capsys, "-w", ws, "report", summary["id"][:8])
    assert code == 0 and "Comparison" in out and "promotion refused" in out
    code, _, err = run(capsys, "-w", ws, "report", "ev-nope")
    assert code == 1 and "no evaluation" in err


def test_promote_and_rollback_with_lineage(sample: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    ws, model = sample
    code, out, err = run(capsys, "-w", ws, "promote", model, "--offline", "--yes")
    assert code == 1 and "PromotionRefusedError" in err and "uncalibrated judge" in err
    assert "win_rate" in out  # the gate's checks are shown before the one-line error

    code, out, err = run(capsys, "-w", ws, "promote", model, "--offline", "--yes", "--override-judge", "--force")
    assert code == 0, err
    assert "promoted" in out and "gemini-3.5-flash" in out

    code, out, _ = run(capsys, "-w", ws, "aliases")
    assert code == 0 and "current →" in out and "refuse" in out and "promote" in out

    code, out, err = run(capsys, "-w", ws, "rollback", "--reason", "demo")
    assert code == 0, err
    assert "gemini-3.5-flash" in out
    with open_workspace(ws) as corpus:
        db = corpus.db
        assert tuple(db.query_one("SELECT model_id FROM aliases WHERE name = 'current'") or ()) == ("gemini-3.5-flash",)
        actions = [r[0] for r in db.query("SELECT action FROM alias_history ORDER BY id")]
        evidence = json.loads(
            (db.query_one("SELECT evidence_json FROM alias_history WHERE action = 'promote'") or [""])[0]
        )
    assert actions == ["refuse", "promote", "rollback"]
    # `forced`: --force overrode a gate that refused even with the judge overridden. The fake judge's verdicts
    # derive from the clips' content, not this run's temp paths, so that outcome is the same in every run.
    assert evidence["forced"] is True and evidence["gate"]["allowed"] is False and evidence["gate"]["checks"]
    assert evidence["judge_override"] is True
    assert evidence["confirmed_by"] == "owner (--yes)" and evidence["evaluation_id"].startswith("ev-")


def test_calibrate_without_labels_says_how_to_get_them(
    sample: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ws, _ = sample
    code, out, err = run(capsys, "-w", ws, "calibrate", "--offline")
    assert code == 0 and "humortune review" in err
    rows = [line for line in out.splitlines() if line.startswith(("mechanism", "pairwise"))]
    assert len(rows) == 2 and all(row.split("│")[1].strip() == "0" for row in rows)  # no labels checked


def test_eval_defaults_to_the_newest_tuned_model_before_any_promotion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """prepare → tune → eval works with no arguments: the default split holds out a test set from the start."""
    ws = str(tmp_path / "ws")
    assert run(capsys, "-w", ws, "prepare", str(SAMPLE_BATTERY))[0] == 0
    assert run(capsys, "-w", ws, "tune", "--offline", "--yes")[0] == 0
    code, out, err = run(capsys, "-w", ws, "eval", "--offline")
    assert code == 0, err
    assert "nothing is promoted yet; evaluating the newest tuned model" in err
    assert "test split of dataset" in out and "Tuned" in out
