"""cli/_render: the library hands out values and progress events; the CLI draws them with rich."""

from __future__ import annotations

import ast
import re
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from humortune.app import default_client
from humortune.cli._render import JobSpinner, sweep_table
from humortune.gemini import GeminiClient
from humortune.settings import Settings
from humortune.tuner import Tuner
from humortune.tuner.jobs import JobProgress
from humortune.workspace import Corpus
from tests._tuner_support import Sleeps, estimate, local_dataset

SRC = Path(__file__).resolve().parent.parent / "src" / "humortune"


@pytest.fixture
def client(tmp_path: Path) -> GeminiClient:
    offline = Settings(workspace=tmp_path / "ws", project="demo-proj", offline=True, confirm_cost_above_usd=5.0)
    return default_client(offline, retry=Sleeps().policy())


def test_wait_reports_typed_progress_events_ending_with_the_final_one(client: GeminiClient, tmp_path: Path) -> None:
    events: list[JobProgress] = []
    with Corpus.open(settings=client.settings) as db:
        job = Tuner(client=client, corpus=db, settings=client.settings).submit(local_dataset(tmp_path), yes=True)
        job.wait(on_progress=events.append, sleep=Sleeps())
    assert len(events) >= 2 and events[-1].ended and not any(e.ended for e in events[:-1])
    assert {e.name for e in events} == {job.name}
    assert events[-1].state == "SUCCEEDED" and "billable tokens/epoch" in events[-1].text
    assert [e.elapsed_s for e in events] == sorted(e.elapsed_s for e in events)


def test_wait_without_a_callback_prints_plain_lines_to_the_given_printer(client: GeminiClient, tmp_path: Path) -> None:
    lines: list[str] = []

    class Printer:
        def print(self, *objects: object) -> None:
            lines.append(" ".join(map(str, objects)))

    with Corpus.open(settings=client.settings) as db:
        job = Tuner(client=client, corpus=db, settings=client.settings).submit(local_dataset(tmp_path), yes=True)
        job.wait(console=Printer(), sleep=Sleeps())
    assert lines and "SUCCEEDED" in lines[-1] and "offline FakeGemini" in lines[-1]
    assert len(lines) == len(set(lines))  # one line per state change, not one per poll


def test_job_spinner_shows_progress_and_keeps_the_final_line() -> None:
    out = StringIO()
    console = Console(file=out, width=120, force_terminal=True)
    with JobSpinner(console) as spinner:
        spinner(JobProgress("tuningJobs/1", "RUNNING", 1.0, "1  RUNNING  0:01 waited"))
        spinner(JobProgress("tuningJobs/1", "SUCCEEDED", 2.0, "1  SUCCEEDED  0:02 waited", ended=True))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # drop colours and cursor moves
    assert "1  RUNNING  0:01 waited" in text and "1  SUCCEEDED  0:02 waited\n" in text


def test_sweep_table_shows_every_job_best_loss_first(client: GeminiClient, tmp_path: Path) -> None:
    data = local_dataset(tmp_path, cost=estimate(low=10_000, high=12_000))
    with Corpus.open(settings=client.settings) as db:
        sweep = Tuner(client=client, corpus=db, adapter_size=8).sweep(data, {"epochs": [3, 5]}, max_cost=5.0)
        sweep.wait(progress=False, sleep=Sleeps())
        report = sweep.report()
    console = Console(record=True, width=200)
    console.print(sweep_table(report))
    text = console.export_text()
    assert f"sweep {report.sweep_id}" in text
    assert text.index(report.rows[0]["job"]) < text.index(report.rows[1]["job"])
    assert "val loss" in text and f"{report.rows[0]['eval_loss']:.4f}" in text


@pytest.mark.parametrize("module", ["tuner/jobs.py", "tuner/sweep.py", "evaluator/report.py"])
def test_library_modules_do_not_import_rich(module: str) -> None:
    tree = ast.parse((SRC / module).read_text("utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n == "rich" or n.startswith("rich.")]
