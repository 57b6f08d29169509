"""A compare whose inputs are unchanged reuses the stored evaluation; changing any one input recomputes (issue 13)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import humortune.evaluator.evaluator as evaluator_module
from humortune.evaluator import Evaluator
from humortune.evaluator.judge import LexicalJudge
from humortune.evaluator.results import EvaluationReport
from humortune.settings import Settings
from humortune.workspace import Corpus, Stores
from tests._evaluator_support import BASE, TUNED, agreeing_labels, build, evaluator

FIGURES = ("systems", "comparison", "slices", "slice_means", "gate", "position_consistency", "outcome_source")


def _figures(report: EvaluationReport) -> str:
    data = report.as_dict()
    return json.dumps({k: data[k] for k in FIGURES}, ensure_ascii=False, sort_keys=True)


def _shown(report: EvaluationReport) -> dict[str, Any]:
    data = report.as_dict()
    data.pop("created_at")
    return data


class Scored:
    """Counts full scoring passes (the reuse path never scores)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.passes = 0
        real = evaluator_module.score_clips

        def counting(*args: Any, **kwargs: Any) -> None:
            self.passes += 1
            real(*args, **kwargs)

        monkeypatch.setattr(evaluator_module, "score_clips", counting)


def _cache(settings: Settings) -> Path:
    return settings.workspace / "cache" / "evaluations"


def test_an_unchanged_rerun_reuses_the_evaluation_with_the_cold_runs_figures(
    corpus: Corpus, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(corpus, 30)
    scored = Scored(monkeypatch)
    judge = LexicalJudge(position_bias=0.2)
    cold = evaluator(corpus, settings, judge=judge).compare(TUNED, BASE)
    calls = judge.calls
    warm = evaluator(corpus, settings, judge=judge).compare(TUNED, BASE)  # a new evaluator, as a new process
    assert scored.passes == 1 and judge.calls == calls
    assert warm.id == cold.id and _figures(warm) == _figures(cold)
    assert Stores.of(corpus.db).evaluations.items(warm.id)  # kept
    # what the full path shows on a rerun (every verdict cached, nothing spent), byte for byte
    shutil.rmtree(_cache(settings))
    full = evaluator(corpus, settings, judge=judge).compare(TUNED, BASE)
    assert scored.passes == 2
    assert json.dumps(_shown(warm), ensure_ascii=False) == json.dumps(_shown(full), ensure_ascii=False)
    assert warm.judges["mechanism"]["usage"]["calls"] == 0 and warm.judges["mechanism"]["usage"]["cached"] > 0


def _edit_one_analysis(corpus: Corpus, settings: Settings) -> dict[str, Any]:
    row = corpus.db.query_one("SELECT id FROM analyses WHERE model = ? ORDER BY id LIMIT 1", (TUNED,))
    assert row is not None
    corpus.db.execute("UPDATE analyses SET narrative = narrative || ' Och så en poäng till.' WHERE id = ?", (row[0],))
    return {}


def _calibrate(corpus: Corpus, settings: Settings) -> dict[str, Any]:
    ev = evaluator(corpus, settings)
    agreeing_labels(corpus, ev)
    assert ev.calibrate()["mechanism"].n > 0
    return {}


CHANGES: dict[str, Callable[[Corpus, Settings], dict[str, Any]]] = {
    "one analysis's text": _edit_one_analysis,
    "the seed": lambda corpus, settings: {"seed": 12345},
    "the bootstrap count": lambda corpus, settings: {"resamples": 300},
    "the judge model": lambda corpus, settings: {"judge_model": "gemini-3.5-pro"},
    "the calibration": _calibrate,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_changing_any_one_input_recomputes(
    change: str, corpus: Corpus, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(corpus, 30)
    first = evaluator(corpus, settings).compare(TUNED, BASE)
    options = CHANGES[change](corpus, settings)
    scored = Scored(monkeypatch)
    again = evaluator(corpus, settings, **options).compare(TUNED, BASE)
    assert scored.passes == 1, f"changing {change} must recompute"
    if change in ("the seed", "the bootstrap count", "one analysis's text"):
        assert _figures(again) != _figures(first)
    evaluator(corpus, settings, **options).compare(TUNED, BASE)
    assert scored.passes == 1  # and that new state is reused in turn


def test_a_deleted_report_or_a_damaged_entry_takes_the_full_path(
    corpus: Corpus, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(corpus, 20)
    first = evaluator(corpus, settings).compare(TUNED, BASE)
    scored = Scored(monkeypatch)
    shutil.rmtree(Path(str(first.report_path)).parent)
    again = evaluator(corpus, settings).compare(TUNED, BASE)
    assert scored.passes == 1 and Path(str(again.report_path)).is_file()  # the files are back
    for entry in _cache(settings).iterdir():
        entry.write_bytes(b"not a pickle")
    third = evaluator(corpus, settings).compare(TUNED, BASE)
    assert scored.passes == 2 and _figures(third) == _figures(first)


def test_a_run_without_report_files_is_not_reused(
    corpus: Corpus, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(corpus, 20)
    ev: Evaluator = evaluator(corpus, settings)
    ev.compare(TUNED, BASE, write=False)
    scored = Scored(monkeypatch)
    ev.compare(TUNED, BASE, write=False)
    assert scored.passes == 1 and not _cache(settings).exists()
