"""Listing commands (`--json`, 80 columns) and naming a model by its short id or as ``current`` everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humortune import catalog
from humortune.cli import console, main

from .conftest import SAMPLE_BATTERY, SAMPLE_VIDEOS


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tuned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A workspace with the sample prepared (held-out clips) and one offline-tuned model: (workspace, model id)."""
    ws = str(tmp_path / "ws")
    assert run(capsys, "-w", ws, "prepare", str(SAMPLE_BATTERY), "--split", "0.4,0.1,0.5")[0] == 0
    assert run(capsys, "-w", ws, "tune", "--offline", "--yes")[0] == 0
    _, out, _ = run(capsys, "-w", ws, "models", "list", "--json")
    (model,) = json.loads(out)
    return ws, str(model["id"])


def test_every_listing_has_a_parseable_json_shape(tuned: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    ws, model_id = tuned
    _, out, _ = run(capsys, "-w", ws, "models", "list", "--json")
    (model,) = json.loads(out)
    assert model["short_id"] == model_id.rsplit("/", 1)[-1] and model["aliases"] == []
    assert {"id", "endpoint", "base_model", "dataset_id", "created_at"} <= model.keys()
    _, out, _ = run(capsys, "-w", ws, "jobs", "list", "--json")
    (job,) = json.loads(out)
    assert job["state"] == "JOB_STATE_SUCCEEDED" and job["dataset_id"] == model["dataset_id"]
    _, out, _ = run(capsys, "-w", ws, "datasets", "list", "--json")
    (dataset,) = json.loads(out)
    assert dataset["id"] == model["dataset_id"] and sum(dataset["counts"].values()) == 12
    _, out, _ = run(capsys, "-w", ws, "batch", "list", "--json")
    assert json.loads(out) == []
    _, out, _ = run(capsys, "-w", ws, "aliases", "--json")
    assert json.loads(out) == {"aliases": {}, "history": []}


def test_models_without_a_subcommand_lists_them(tuned: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    ws, model_id = tuned
    code, out, _ = run(capsys, "-w", ws, "models")
    assert code == 0 and model_id.rsplit("/", 1)[-1] in out
    code, out, _ = run(capsys, "-w", ws, "models", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == model_id


def test_listings_are_readable_at_80_columns(
    tuned: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, model_id = tuned
    monkeypatch.setattr(console, "width", 80)
    for command in (["models", "list"], ["datasets", "list"]):
        _, out, _ = run(capsys, "-w", ws, *command)
        lines = out.splitlines()
        assert all(len(line) <= 80 for line in lines), out
        assert "…" not in out, out  # nothing cut
        assert len(lines) == 3, out  # title, header, one row: nothing wrapped
    _, out, _ = run(capsys, "-w", ws, "models", "list")
    assert model_id.rsplit("/", 1)[-1] in out


def test_the_short_id_works_wherever_a_model_is_named(
    tuned: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ws, model_id = tuned
    short = model_id.rsplit("/", 1)[-1]
    video = str(SAMPLE_VIDEOS / "clip03.mp4")
    code, out, err = run(capsys, "-w", ws, "analyze", video, "-m", short, "--offline", "--json")
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["analysis"]["model"] == model_id
    code, out, err = run(capsys, "-w", ws, "eval", short, "--offline", "--no-judge", "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == model_id
    evaluation_id = json.loads(out)["id"]
    _, out, _ = run(capsys, "-w", ws, "report", "--list", "--json")
    (listed,) = json.loads(out)
    assert (listed["id"], listed["model"], listed["kind"]) == (evaluation_id, model_id, "evaluate")
    assert f"analysing (base: {catalog.default_base_model().id})" in err and "scoring" in err  # progress, on stderr
    code, out, _ = run(capsys, "-w", ws, "models", "show", f"{short[:4]}…{short[-2:]}")  # as abbreviated
    assert code == 0 and model_id in out
    code, out, err = run(capsys, "-w", ws, "promote", short, "--offline", "--yes", "--force")
    assert code == 0, err
    assert f"promoted {model_id} to 'current'" in " ".join(out.split())


def test_current_falls_back_to_the_newest_tuned_model_out_loud(
    tuned: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ws, model_id = tuned
    video = str(SAMPLE_VIDEOS / "clip03.mp4")
    code, out, err = run(capsys, "-w", ws, "analyze", video, "--model", "current", "--offline", "--json")
    assert code == 0, err
    assert "nothing is promoted as 'current' yet; using the newest tuned model" in err
    assert json.loads(out.splitlines()[0])["analysis"]["model"] == model_id
    code, out, _ = run(capsys, "-w", ws, "models", "show", "current")
    assert code == 0 and model_id in out
    code, _, err = run(capsys, "-w", ws, "compare", model_id.rsplit("/", 1)[-1], "--offline")
    assert code == 1 and "nothing is promoted yet, so 'current' is the newest tuned model" in err


def test_an_unknown_short_id_is_refused_with_a_hint(tuned: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    ws, _ = tuned
    code, _, err = run(capsys, "-w", ws, "analyze", str(SAMPLE_VIDEOS / "clip03.mp4"), "-m", "999@1", "--offline")
    assert code == 1 and "ModelNotFoundError" in err


def test_eval_messages_name_cli_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    assert run(capsys, "-w", ws, "import", str(SAMPLE_BATTERY))[0] == 0
    code, _, err = run(capsys, "-w", ws, "eval", "gemini-2.5-flash", "--offline")
    assert code == 1 and "--on all" in err
