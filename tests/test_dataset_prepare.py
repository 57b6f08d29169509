"""``humortune prepare`` on the sample battery ends with a validated, priced dataset and the request preview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humortune.cli import main
from humortune.dataset import list_versions
from humortune.errors import DatasetValidationError
from humortune.pipeline import prepare
from humortune.settings import Settings
from humortune.testing.vertex_schema import validate as strict
from humortune.workspace import Corpus

from .conftest import SAMPLE_BATTERY


def test_prepare_api_builds_validates_prices_and_previews(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws")
    result = prepare(SAMPLE_BATTERY, settings=settings)
    assert result.ingested is not None and result.dataset is not None
    version = result.dataset.version
    assert result.dataset.created and version.valid and version.counts == {"train": 9, "validation": 2, "test": 1}
    assert version.estimate is not None and 0 < version.estimate.usd_low <= version.estimate.usd_high
    assert result.request is not None and result.request_error is None
    strict("TuningJob", result.request)
    assert result.request["supervisedTuningSpec"]["trainingDatasetUri"] == version.train_uri
    with Corpus.open(settings=settings) as corpus:
        assert [v.id for v in list_versions(corpus)] == [version.id]

    again = prepare(SAMPLE_BATTERY, settings=settings)
    assert again.dataset is not None and again.dataset.version.id == version.id and not again.dataset.created
    assert again.request == result.request


def test_prepare_cli_ends_with_the_dataset_and_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    code = main(["-w", str(ws), "prepare", str(SAMPLE_BATTERY)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "3. build → validate → estimate" in out and "9 train, 2 validation, 1 test" in out
    assert "estimated training cost: gemini-3.5-flash" in out
    start = out.index("\n{", out.index("tuning request body"))
    body, _ = json.JSONDecoder().raw_decode(out, start + 1)
    strict("TuningJob", body)
    assert body["labels"]["humortune-dataset"].startswith("ds-")
    assert "not submittable to Vertex until stored in GCS" in out + err


def test_prepare_reports_an_invalid_dataset_after_the_ingest_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    battery = tmp_path / "battery.json"
    battery.write_text(json.dumps([{"id": "a", "video_url": "missing.mp4", "human_said": "Det roliga är a."}]))
    code = main(["-w", str(tmp_path / "ws"), "prepare", str(battery)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "1 failed" in out  # the ingest report is printed first
    assert "error: DatasetValidationError" in err and "no training examples" in err
    with pytest.raises(DatasetValidationError, match="no training examples"):
        prepare(battery, settings=Settings(workspace=tmp_path / "ws2"))


def test_the_build_dataset_example_runs_offline(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import REPO

    script = REPO / "examples" / "build_dataset.py"
    run = subprocess.run(
        [sys.executable, str(script), "--workspace", str(tmp_path / "ws"), "--target", "narrative+record"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    # 4 of the 12 sample corrections have no structured record: left out of a narrative+record dataset.
    assert "examples: {'train': 7, 'validation': 1, 'test': 0}   valid: True" in run.stdout
    skipped = [line for line in run.stdout.splitlines() if line.startswith("  skipped ")]
    assert len(skipped) == 4 and all("no structured record for the narrative+record format" in s for s in skipped)
    assert '"supervisedTuningSpec"' in run.stdout and "estimated training cost on gemini-3.5-flash" in run.stdout
