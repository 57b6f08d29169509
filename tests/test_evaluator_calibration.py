"""Judge calibration on a synthetic labelled set: agreement, Cohen's κ, false-pass / false-fail rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humortune.errors import EvaluationError
from humortune.evaluator.calibration import (
    OwnerLabel,
    calibrate,
    cohens_kappa,
    import_labels,
    latest_calibration,
    load_labels,
    read_labels_file,
    save_calibration,
)
from humortune.evaluator.judge import MechanismJudge, PairwiseJudge
from humortune.schema import Correction
from humortune.workspace import Corpus


def scripted(answers: dict[str, str], key: str) -> Any:
    """A backend that answers by looking up which candidate text the prompt holds."""

    def backend(*, prompt: str, **_: Any) -> str:
        for text, answer in answers.items():
            if (
                f"<<<\n{text}\n>>>"
                in prompt.split("Candidate explanation:" if key == "verdict" else "Explanation A:")[1]
            ):
                return json.dumps({key: answer, "reason": "scripted"})
        raise AssertionError(f"unexpected prompt {prompt!r}")

    return backend


def test_cohens_kappa_hand_computed() -> None:
    owner = ["P", "P", "P", "P", "F", "F", "F", "F", "F", "F"]
    judge = ["P", "P", "P", "F", "F", "F", "F", "F", "F", "P"]
    # p_o = 0.8; p_e = 0.4·0.4 + 0.6·0.6 = 0.52; κ = 0.28 / 0.48
    assert cohens_kappa(list(zip(owner, judge, strict=True))) == pytest.approx(0.28 / 0.48)
    assert cohens_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohens_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)
    assert cohens_kappa([("P", "P")] * 5) is None  # both raters constant: κ undefined
    assert cohens_kappa([]) is None


def _pass_fail_set() -> tuple[list[OwnerLabel], dict[str, str]]:
    # 4 owner PASS (judge: 3 PASS, 1 FAIL) and 6 owner FAIL (judge: 5 FAIL, 1 PASS).
    owner = ["PASS"] * 4 + ["FAIL"] * 6
    judge = ["PASS", "PASS", "PASS", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "PASS"]
    labels = [
        OwnerLabel("pass_fail", f"l{i}", reference="ägarens förklaring", owner=o, candidate=f"svar {i}")
        for i, o in enumerate(owner)
    ]
    return labels, {f"svar {i}": j for i, j in enumerate(judge)}


def test_mechanism_judge_calibration_figures() -> None:
    labels, answers = _pass_fail_set()
    judge = MechanismJudge(scripted(answers, "verdict"), model="judge")
    report = calibrate(judge, labels, min_agreement=0.75, min_labels=10)
    assert report.kind == "pass_fail" and report.n == 10
    assert report.agreement == pytest.approx(0.8)
    assert report.kappa == pytest.approx(0.28 / 0.48)
    assert report.false_pass_rate == pytest.approx(1 / 6)  # judge PASS where the owner said FAIL
    assert report.false_fail_rate == pytest.approx(1 / 4)
    assert report.confusion == {"PASS": {"PASS": 3, "FAIL": 1}, "FAIL": {"FAIL": 5, "PASS": 1}}
    assert report.calibrated and report.status.startswith("calibrated")
    assert not calibrate(judge, labels, min_agreement=0.85, min_labels=10).calibrated  # below the bar
    too_few = calibrate(judge, labels, min_agreement=0.5, min_labels=20)
    assert not too_few.calibrated and "need at least 20" in too_few.status


def test_pairwise_judge_calibration_counts_both_orders() -> None:
    def backend(*, prompt: str, **_: Any) -> str:
        a = prompt.split("Explanation A:")[1].split("Explanation B:")[0]
        return json.dumps({"preferred": "A" if "bra" in a else "B", "reason": "scripted"})

    labels = [
        OwnerLabel("pairwise", "1", reference="r", owner="a", a="bra svar", b="dåligt svar"),
        OwnerLabel("pairwise", "2", reference="r", owner="b", a="dåligt svar", b="bra svar"),
        OwnerLabel("pairwise", "3", reference="r", owner="tie", a="bra svar", b="dåligt svar"),
        OwnerLabel("pass_fail", "4", reference="r", owner="PASS", candidate="ignored by a pairwise judge"),
    ]
    report = calibrate(PairwiseJudge(backend, model="judge"), labels, min_agreement=0.6, min_labels=3)
    assert report.kind == "pairwise" and report.n == 3
    assert report.agreement == pytest.approx(2 / 3)
    assert report.false_pass_rate is None and report.false_fail_rate is None
    assert [item["judge"] for item in report.items] == ["a", "b", "a"]


def _corpus_with_analyses(corpus: Corpus) -> None:
    corpus.add_correction(
        Correction(id="c1", video_url="https://www.tiktok.com/@u/video/1", human_said="Ägarens egen förklaring.")
    )
    for aid, text in (("an-1", "Modellens förklaring ett."), ("an-2", "Modellens förklaring två.")):
        corpus.db.execute(
            "INSERT INTO analyses (id, video_uri, model, prompt_version, mode, narrative, created_at)"
            " VALUES (?, 'gs://b/v.mp4', 'm', 'p', 'two-stage', ?, '2026-01-01')",
            (aid, text),
        )


def test_labels_from_the_owner_labels_table(corpus: Corpus) -> None:
    _corpus_with_analyses(corpus)
    rows = [
        ("pass_fail", "c1", {"verdict": "PASS", "analysis_id": "an-1", "source": "review"}),
        ("pairwise", "c1", {"choice": "b", "a_analysis_id": "an-1", "b_analysis_id": "an-2"}),
        ("pass_fail", "c1", {"verdict": "PASS", "analysis_id": "an-gone"}),  # unresolvable: skipped
        ("pass_fail", None, {"verdict": "FAIL", "candidate": "text", "reference": "given reference"}),
    ]
    for kind, cid, payload in rows:
        corpus.db.execute(
            "INSERT INTO owner_labels (kind, correction_id, payload_json, created_at) VALUES (?, ?, ?, '2026-01-01')",
            (kind, cid, json.dumps(payload)),
        )
    labels = load_labels(corpus)
    assert [(label.kind, label.owner) for label in labels] == [
        ("pass_fail", "PASS"),
        ("pairwise", "b"),
        ("pass_fail", "FAIL"),
    ]
    assert labels[0].candidate == "Modellens förklaring ett." and labels[0].reference == "Ägarens egen förklaring."
    assert (labels[1].a, labels[1].b) == ("Modellens förklaring ett.", "Modellens förklaring två.")
    assert labels[2].reference == "given reference"


def test_import_labels_file_is_idempotent(corpus: Corpus, tmp_path: Path) -> None:
    _corpus_with_analyses(corpus)
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"kind": "pass_fail", "correction_id": "c1", "verdict": "underkänd", "candidate": "fel mekanism"}\n'
        '{"kind": "pairwise", "correction_id": "c1", "choice": "A", "a": "ett", "b": "två"}\n',
        "utf-8",
    )
    assert [(label.kind, label.owner) for label in read_labels_file(path, corpus)] == [
        ("pass_fail", "FAIL"),
        ("pairwise", "a"),
    ]
    assert import_labels(corpus, path) == 2
    assert import_labels(corpus, path) == 0
    assert len(load_labels(corpus)) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('[{"kind": "stars", "correction_id": "c1"}]', "utf-8")
    with pytest.raises(EvaluationError, match="unknown label kind"):
        import_labels(corpus, bad)
    with pytest.raises(EvaluationError, match="neither JSON nor JSONL"):
        (tmp_path / "broken.json").write_text("{nope", "utf-8")
        read_labels_file(tmp_path / "broken.json")


def test_saved_calibration_is_found_by_judge_version(corpus: Corpus) -> None:
    labels, answers = _pass_fail_set()
    judge = MechanismJudge(scripted(answers, "verdict"), model="judge")
    report = calibrate(judge, labels, min_agreement=0.75, min_labels=10)
    cal_id = save_calibration(corpus, report)
    assert cal_id.startswith("cal-")
    found = latest_calibration(corpus, "pass_fail", judge.version)
    assert found is not None and found.agreement == pytest.approx(0.8) and found.calibrated
    assert latest_calibration(corpus, "pairwise", judge.version) is None
    assert latest_calibration(corpus, "pass_fail", "another-judge@j-x") is None
    items = corpus.db.query("SELECT correction_id FROM evaluation_items WHERE evaluation_id = ?", (cal_id,))
    assert len(items) == 10
