"""CLI: the catalog behind `tune --dry-run`, lifecycle refusals, `models catalog`/`adopt`, retirement warnings."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from humortune.app import default_client
from humortune.cli import main
from humortune.cli.models import retirement_warning
from humortune.settings import Settings
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
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


def test_dry_run_on_a_fresh_workspace_uses_a_current_base_and_says_why(
    prepared: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "-w", str(prepared), "tune", "--dry-run")
    assert code == 0, err
    body = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert body["baseModel"] == "gemini-3.5-flash"
    assert "base model: gemini-3.5-flash: the newest generally available Flash model tunable with video" in err
    assert "model-versions" in err and "checked 2026-12-01" in err


@pytest.mark.parametrize("command", [["tune", "--dry-run"], ["tune", "--offline", "--yes"], ["sweep", "--offline"]])
def test_a_retired_base_is_refused_with_its_successor(
    prepared: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, out, err = run(capsys, "-w", str(prepared), *command, "-m", "gemini-2.5-flash", "--allow-retiring")
    assert code == 1 and "{" not in out
    assert "retired on 2026-10-20" in err and "--base-model gemini-3.5-flash" in err
    assert run(capsys, "-w", str(prepared), "jobs", "list")[1].count("ds-") == 0


def test_retrain_from_base_on_a_retired_base_is_refused(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["retrain", "--offline", "--force", "--yes", "--from", "base", "--base-model", "gemini-2.5-flash"]
    code, _, err = run(capsys, "-w", str(prepared), *argv)
    assert code != 0 and "retired on 2026-10-20" in err and "gemini-3.5-flash" in err


def test_models_catalog_prints_lifecycle_and_sources(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "-w", str(tmp_path), "models", "catalog", "--json")
    data = json.loads(out)
    states = {m["id"]: m["lifecycle"]["state"] for m in data["models"]}
    assert states["gemini-2.5-flash"] == "retired" and states["gemini-3.5-flash"] == "active"
    code, out, _ = run(capsys, "-w", str(tmp_path), "models", "catalog")
    assert code == 0 and "default: gemini-3.5-flash" in out
    assert "gemini-2.5-flash retirement: https://docs.cloud.google.com/" in out and "took the newest" in out


def test_retirement_warning_window_is_60_days_and_names_the_command() -> None:
    assert retirement_warning("gemini-3.5-flash", today=datetime.date(2027, 3, 19)) is None  # 61 days left
    warning = retirement_warning("gemini-3.5-flash", today=datetime.date(2027, 3, 21))
    assert warning is not None and "in 59 days" in warning and "humortune retrain --from base" in warning
    retired = retirement_warning("gemini-2.5-flash", today=datetime.date(2026, 12, 1))
    assert retired is not None and "--base-model gemini-3.5-flash" in retired and "compare" in retired


def _outside_model(ws: Path) -> str:
    """A model tuned straight through the offline client (the workspace's FakeGemini), not by humortune."""
    settings = Settings(workspace=ws, offline=True)
    client = default_client(settings)
    job = client.create_tuning_job(
        base_model="gemini-2.5-flash", train_uri="gs://owner/train.jsonl", display_name="humor-analysis-1"
    )
    for _ in range(50):
        job = client.get_tuning_job(job.name)
        if job.has_ended:
            break
    assert job.tuned_model
    return job.tuned_model


def test_adopt_then_list_warns_that_its_base_retired(prepared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(prepared)
    model = _outside_model(prepared)
    code, out, err = run(capsys, "-w", ws, "models", "adopt", model, "--offline")
    assert code == 0, err
    assert "adopted (external lineage), base gemini-2.5-flash" in out and model in out
    assert "humortune retrain --from base --base-model gemini-3.5-flash" in err
    assert run(capsys, "-w", ws, "models", "adopt", "humor-analysis-1", "--offline")[0] == 0  # idempotent
    with Corpus.open(settings=Settings(workspace=prepared)) as corpus:
        assert corpus.db.query_one("SELECT COUNT(*) AS n FROM models")["n"] == 1
    code, _, err = run(capsys, "-w", ws, "models", "list")
    assert code == 0 and "gemini-2.5-flash retired on 2026-10-20" in err
    clip = make_test_video(prepared.parent / "clip.mp4", seconds=1.0, seed=5)
    code, out, err = run(capsys, "-w", ws, "analyze", "--offline", "--model", model, str(clip))
    assert code == 0 and "Det roliga i detta klipp är" in out, err
    assert "humortune retrain --from base --base-model gemini-3.5-flash" in err


def test_serve_warns_when_the_served_model_base_retires(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from humortune.cli.analyze import _warn_if_serving_a_retiring_base

    model = "projects/p/locations/us-central1/models/7@1"
    with Corpus.open(settings=Settings(workspace=tmp_path)) as corpus:
        corpus.db.execute(
            "INSERT INTO models (id, endpoint, base_model, created_at) VALUES (?, ?, 'gemini-2.5-flash', '2026-11-25')",
            (model, "projects/p/locations/us-central1/endpoints/7"),
        )
        _warn_if_serving_a_retiring_base(SimpleNamespace(model=model, corpus=corpus))
        assert "--base-model gemini-3.5-flash" in capsys.readouterr().err
        _warn_if_serving_a_retiring_base(SimpleNamespace(model=None, corpus=corpus))  # nothing promoted: quiet
        assert capsys.readouterr().err == ""


def test_tune_warns_when_the_catalog_is_stale(
    prepared: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from humortune import catalog

    monkeypatch.setattr(catalog, "stale_warning", lambda **_: "the model catalog was checked 120 days ago")
    code, _, err = run(capsys, "-w", str(prepared), "tune", "--dry-run")
    assert code == 0 and "checked 120 days ago" in err
