"""``humortune build | validate | estimate | datasets …`` on a workspace with ingested clips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humortune.cli import main
from humortune.dataset import list_versions
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.vertex_schema import validate as strict
from humortune.tuner.request import tuning_request_preview
from humortune.workspace import Corpus

from ._dataset_support import RECORD, add_clip


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    settings = Settings(workspace=ws)
    storage = LocalStorage(ws / "storage")
    with Corpus.open(settings=settings) as corpus:
        for n in range(12):
            add_clip(corpus, storage, n, niche=("mat", "katter")[n % 2], record=RECORD)
        add_clip(corpus, storage, 40, ingest=False)
    return ws


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_twice_then_list_show_and_diff(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-w", str(workspace), "build")
    assert code == 0, err
    with Corpus.open(settings=Settings(workspace=workspace)) as corpus:
        (version,) = list_versions(corpus)
    assert f"dataset {version.id} built" in out
    assert "9 train, 2 validation, 1 test" in out and "estimated training cost" in out
    assert "c00040: video not ingested" in err and "run `humortune ingest`" in err
    code, out, _ = run(capsys, "-w", str(workspace), "build")
    assert code == 0 and f"dataset {version.id} already built (nothing written)" in out

    code, out, _ = run(capsys, "-w", str(workspace), "datasets", "list")
    assert code == 0 and version.id in out
    code, out, _ = run(capsys, "-w", str(workspace), "datasets", "show", version.id[:7], "--json")
    shown = json.loads(out)
    assert shown["version"]["id"] == version.id and shown["settings"]["seed"] == "humortune"

    code, _, _ = run(capsys, "-w", str(workspace), "build", "--target", "narrative+record")
    code, out, _ = run(capsys, "-w", str(workspace), "datasets", "diff", version.id)
    assert code == 0 and "0 added, 0 removed, 12 changed" in out and "c00003" in out


def request_body(out: str, header: str) -> dict[str, Any]:
    start = out.index("\n{", out.index(header))
    body, _ = json.JSONDecoder().raw_decode(out, start + 1)
    assert isinstance(body, dict)
    return body


def test_build_prints_the_request_tune_would_send(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-w", str(workspace), "build", "--request", "--epochs", "3")
    assert code == 0, err
    body = request_body(out, "tuning request body")
    strict("TuningJob", body)
    spec = body["supervisedTuningSpec"]
    assert spec["hyperParameters"] == {"epochCount": 3}
    assert spec["trainingDatasetUri"].endswith("/train.jsonl")
    assert "the dataset is in local storage" in err
    # Exactly what `humortune tune --dry-run` prints for the same dataset and options.
    code, out, err = run(capsys, "-w", str(workspace), "tune", "--dry-run", "--epochs", "3")
    assert code == 0, err
    assert request_body(out, "tuningJobs") == body


def test_request_preview_uses_the_tuner_defaults(workspace: Path) -> None:
    settings = Settings(workspace=workspace)
    from humortune.dataset import DatasetBuilder

    with Corpus.open(settings=settings) as corpus:
        version = DatasetBuilder(corpus, settings=settings).build()
        body = tuning_request_preview(
            version, settings, corpus=corpus, base_model="gemini-3.1-flash-lite", adapter_size=4
        )
    strict("TuningJob", body)
    assert body["baseModel"] == "gemini-3.1-flash-lite"
    assert body["supervisedTuningSpec"] == {
        "trainingDatasetUri": version.train_uri,
        "validationDatasetUri": version.validation_uri,
        "hyperParameters": {"adapterSize": "ADAPTER_SIZE_FOUR"},
    }
    assert body["tunedModelDisplayName"].startswith(f"humortune-{version.id}-")
    assert body["labels"]["humortune-dataset"] == version.id
    assert body["labels"]["humortune-prompt"] == version.prompt_version


def test_an_invalid_request_option_does_not_fail_the_build(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-w", str(workspace), "build", "--request", "--epochs", "1")
    assert code == 0 and "built" in out
    assert "no tuning request preview:" in err


def test_validate_the_latest_dataset_and_an_external_file(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "-w", str(workspace), "validate")
    assert code == 1 and "no dataset version yet" in err
    run(capsys, "-w", str(workspace), "build")
    code, out, _ = run(capsys, "-w", str(workspace), "validate")
    assert code == 0 and "9 train, 2 validation → valid" in out
    code, out, err = run(capsys, "-w", str(workspace), "validate", "--vertex")
    assert code == 1 and "is a local file; Vertex reads gs:// URIs only" in err

    seed = tmp_path / "seed.jsonl"
    seed.write_text(
        json.dumps({"contents": [{"role": "user", "parts": [{"text": "Analysera"}]}], "response": "Det roliga …"})
        + "\n"
    )
    code, out, err = run(capsys, "-w", str(workspace), "validate", str(seed))
    assert code == 1
    assert "seed.jsonl:1: error [top-level-keys] top-level 'response' is not valid" in err
    assert "seed.jsonl:1: error [one-video] no video in this example" in err


def test_estimate_for_another_model_and_epochs(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "-w", str(workspace), "build")
    code, out, err = run(capsys, "-w", str(workspace), "estimate", "--base-model", "gemini-2.5-pro", "--epochs", "2")
    assert code == 0, err
    assert "gemini-2.5-pro, 2 epoch(s)" in out and "total" in out
    code, _, err = run(capsys, "-w", str(workspace), "estimate", "--base-model", "gemini-9")
    assert code == 1 and "no training price known for 'gemini-9'" in err


def test_invalid_build_is_one_line_error(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Corpus.open(settings=Settings(workspace=workspace)) as corpus:
        add_clip(corpus, LocalStorage(workspace / "storage"), 60, seconds=30 * 60)
    code, _, err = run(capsys, "-w", str(workspace), "build")
    assert code == 1 and err.startswith("error: DatasetValidationError:") and "Traceback" not in err
    assert "clip is 30:00 long" in err and "--drop-invalid" in err
    code, _, err = run(capsys, "-w", str(workspace), "build", "--drop-invalid")
    assert code == 0 and "c00060: [video-duration] clip is 30:00 long" in err
    code, _, err = run(capsys, "-w", str(workspace), "build", "--split", "0.8,x")
    assert code == 1 and "invalid --split '0.8,x'" in err
