"""Evaluator: held-out selection, cached analyses, scoring, comparison, storage, promotion and rollback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humortune.errors import EvaluationError, PromotionRefusedError
from humortune.evaluator import Evaluator, GateDecision, scoring
from humortune.evaluator.judge import LexicalJudge
from humortune.schema import Analysis, VideoAsset
from humortune.settings import Settings
from humortune.workspace import Corpus
from tests._evaluator_support import BASE, TUNED, WORSE, agreeing_labels, build, evaluator


def test_evaluate_scores_tuned_base_and_old_answer_from_the_cache(corpus: Corpus, settings: Settings) -> None:
    build(corpus)
    report = evaluator(corpus, settings).evaluate(TUNED)
    assert [s.role for s in report.systems] == ["old", "base", "model"]
    assert report.system("base").model == BASE  # type: ignore[union-attr]  # the tuned model's registered base
    tuned, base, old = (report.system(r) for r in ("model", "base", "old"))
    assert tuned and base and old
    assert tuned.n == base.n == old.n == 60 == report.test_set["n"]
    assert tuned.score > base.score > old.score  # quality 0.85 > 0.4 > generic old answers
    assert tuned.chrf > base.chrf and tuned.mechanism_pass_rate > base.mechanism_pass_rate  # type: ignore[operator]
    assert old.record is None and tuned.record is not None and tuned.record.n == base.record.n  # type: ignore[union-attr]
    assert report.outcome_source == "score difference" and report.comparison is not None
    assert report.comparison.n == 60 and report.gate is None
    # Per-clip scores are the mean of their parts.
    clip = report.clips[0]
    answer = clip.answers["model"]
    parts = answer.components()
    assert answer.score == pytest.approx(sum(parts.values()) / len(parts))
    assert set(parts) == (
        {"chrf", "rouge_l", "mechanism", "record"} if clip.owner_record else {"chrf", "rouge_l", "mechanism"}
    )


def test_missing_analyses_go_through_the_analyzer(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 20)
    gone = corpus.db.query("SELECT id, video_sha256 FROM analyses WHERE model = ? LIMIT 4", (TUNED,))
    for row in gone:
        corpus.db.execute("DELETE FROM analyses WHERE id = ?", (row["id"],))
    asked: list[str] = []

    class Analyzer:
        def analyze(self, video: VideoAsset) -> Analysis:
            asked.append(video.sha256)
            if len(asked) == 1:
                raise RuntimeError("quota exceeded")
            return Analysis(
                video_uri=video.uri, narrative="Det roliga i detta klipp är något.", model=TUNED, prompt_version="p"
            )

    def factory(model: str) -> Analyzer:
        assert model == TUNED
        return Analyzer()

    report = evaluator(corpus, settings, analyzer=factory).evaluate(TUNED, base=False)
    assert sorted(asked) == sorted(r["video_sha256"] for r in gone)
    tuned = report.system("model")
    assert tuned is not None and tuned.errors == 1 and tuned.n == 20
    failed = [c.answers["model"] for c in report.clips if c.answers["model"].error]
    assert failed[0].score == 0.0 and failed[0].mechanism is not None
    assert (failed[0].mechanism.verdict, failed[0].mechanism.reason) == ("FAIL", "no answer")
    assert "RuntimeError: quota exceeded" in (failed[0].error or "")
    assert any("1 clip(s) failed" in w for w in report.warnings)


def test_all_analyses_failing_is_an_error(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 5, models={BASE: 0.5})

    class Broken:
        def analyze(self, video: VideoAsset) -> Analysis:
            raise RuntimeError("no credentials")

    with pytest.raises(EvaluationError, match=r"every analysis by .* failed"):
        evaluator(corpus, settings, analyzer=lambda m: Broken()).evaluate(TUNED, base=False)


def test_test_set_selection(corpus: Corpus, settings: Settings) -> None:
    ev = evaluator(corpus, settings)
    with pytest.raises(EvaluationError, match="no held-out test split"):
        ev.test_set()
    build(corpus, 30, models={BASE: 0.5})
    held_out = ev.test_set()
    assert len(held_out.entries) == 30 and held_out.source.startswith("held-out test split")
    # A dataset version's recorded test split wins over the split table.
    ids = [e.correction.id for e in held_out.entries]
    corpus.db.execute(
        "INSERT INTO dataset_versions (id, created_at, prompt_version, target_format, media_resolution,"
        " settings_json, manifest_json, storage_prefix)"
        " VALUES ('ds-1', '2026-01-01T00:00:00+00:00', 'p', 'narrative', 'LOW', '{}', '{}', 'x')"
    )
    for cid in ids[:7]:
        corpus.db.execute(
            "INSERT INTO dataset_examples (dataset_id, correction_id, video_sha256, split, row_hash)"
            " VALUES ('ds-1', ?, 'sha', 'test', 'h')",
            (cid,),
        )
    assert {e.correction.id for e in ev.test_set().entries} == set(ids[:7])
    assert ev.test_set("ds-1").dataset_id == "ds-1"
    with pytest.raises(EvaluationError, match="no held-out test clips"):
        ev.test_set("ds-unknown")
    everything = ev.test_set("all")
    assert len(everything.entries) == 30 and "not a held-out estimate" in everything.warnings[0]
    niche = held_out.entries[0].correction.niche
    assert all(e.correction.niche == niche for e in ev.test_set("test", niche=niche).entries)
    # A held-out clip without a stored video is listed as skipped, never silently dropped.
    corpus.db.execute("UPDATE corrections SET video_sha256 = NULL WHERE id = ?", (ids[0],))
    skipped = ev.test_set("test")
    assert skipped.skipped == [(ids[0], "no stored video: run ingest first")] and len(skipped.entries) == 29
    assert ev.test_set([ids[1], ids[2]]).source == "given clips"


def test_compare_uses_the_pairwise_judge_and_stores_everything(corpus: Corpus, settings: Settings) -> None:
    build(corpus)
    judge = LexicalJudge(position_bias=0.15)
    ev = evaluator(corpus, settings, judge=judge)
    report = ev.compare(TUNED, BASE)
    assert report.outcome_source == "pairwise judge (both orders)"
    assert report.comparison is not None and report.comparison.n == 60
    judged = [c.pairwise for c in report.clips if c.pairwise is not None]
    assert len(judged) == 60 and report.position_consistency == pytest.approx(sum(p.consistent for p in judged) / 60)
    assert all(c.outcome == "tie" for c in report.clips if c.pairwise and not c.pairwise.consistent)
    assert report.comparison.win_rate.low > 0.5  # 0.85 vs 0.4 quality
    assert set(report.slices) == {"niche", "category"}
    assert sum(s.n for s in report.slices["niche"].values()) == 60
    assert report.gate is not None and not report.gate.allowed  # judges not calibrated yet
    assert report.judges["pairwise"]["status"].startswith("not calibrated")
    # Stored: the summary, every clip, and the report files.
    row = corpus.db.query_one("SELECT * FROM evaluations WHERE id = ?", (report.id,))
    assert row is not None and row["model"] == TUNED and row["incumbent"] == BASE
    items = corpus.db.query("SELECT scores_json FROM evaluation_items WHERE evaluation_id = ?", (report.id,))
    assert len(items) == 60 and "answers" in json.loads(items[0]["scores_json"])
    assert Path(row["report_path"]).is_file() and (Path(row["report_path"]).parent / "report.json").is_file()
    calls = judge.calls
    again = ev.compare(TUNED, BASE)
    assert again.id == report.id and judge.calls == calls  # same inputs: same id, judge verdicts cached
    assert corpus.db.query_one("SELECT COUNT(*) FROM evaluations WHERE id LIKE 'ev-%'")[0] == 1  # type: ignore[index]


def test_compare_without_judges(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 30)
    report = evaluator(corpus, settings, judges=False).compare(TUNED, BASE, write=False)
    assert report.outcome_source == "score difference" and report.judges == {"used": False}
    assert all(a.mechanism is None for c in report.clips for a in c.answers.values())
    assert report.gate is not None and [c.name for c in report.gate.checks] == ["win_rate", "slices"]
    assert report.report_path is None


def test_compare_same_model_is_refused(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 5)
    with pytest.raises(EvaluationError, match="same model"):
        evaluator(corpus, settings).compare(TUNED, TUNED)


def test_promotion_flow_with_lineage(corpus: Corpus, settings: Settings) -> None:
    build(corpus)
    ev = evaluator(corpus, settings)
    # 1. Uncalibrated judges: refused and recorded with the evidence.
    with pytest.raises(PromotionRefusedError) as info:
        ev.promote(TUNED, yes=True)
    assert "uncalibrated judge" in str(info.value)
    refused = ev.registry.history()[0]
    assert refused.action == "refuse" and refused.evidence["gate"]["allowed"] is False
    assert ev.registry.current() is None
    # 2. Calibrate on owner labels the judge agrees with.
    agreeing_labels(corpus, ev)
    reports = ev.calibrate()
    assert all(r.calibrated for r in reports.values())
    # 3. Without the owner's confirmation the promotion is only proposed …
    proposed = ev.promote(TUNED)
    assert proposed.action == "propose" and ev.registry.current() is None
    asked: list[str] = []

    def decline(decision: GateDecision, report: object) -> bool:
        asked.append(decision.summary())
        return False

    declined = ev.promote(TUNED, confirm=decline)
    assert declined.action == "propose" and asked and asked[0].startswith("promotion allowed")
    # 4. … and with it the alias moves, evidence attached.
    event = ev.promote(TUNED, confirm=lambda decision, report: True)
    assert (event.action, event.model_id, event.previous_id) == ("promote", TUNED, BASE)  # what served before
    assert event.evidence["confirmed_by"] == "owner (prompt)" and event.evidence["gate"]["allowed"]
    assert event.evidence["summary"].startswith("win rate") and Path(event.evidence["report"]).is_file()
    assert ev.registry.current() == TUNED
    # 5. A worse candidate is refused against the new incumbent; forcing it is recorded as forced.
    with pytest.raises(PromotionRefusedError, match="not a clear win"):
        ev.promote(WORSE, yes=True)
    forced = ev.promote(WORSE, yes=True, force=True)
    assert forced.evidence["forced"] is True and ev.registry.current() == WORSE
    # 6. Rollback restores the previous model.
    back = ev.rollback(reason="forced promotion was a mistake")
    assert back.model_id == TUNED and back.evidence["reason"] == "forced promotion was a mistake"
    assert ev.registry.current() == TUNED
    assert ev.rollback().model_id == BASE  # the first promotion replaced the base model: back to it
    with pytest.raises(EvaluationError, match="nothing before it"):
        ev.rollback()
    actions = [e.action for e in reversed(ev.registry.history())]
    assert actions == ["refuse", "propose", "propose", "promote", "refuse", "promote", "rollback", "rollback"]


def test_override_judge_allows_an_uncalibrated_gate(corpus: Corpus, settings: Settings) -> None:
    build(corpus)
    ev = evaluator(corpus, settings)
    event = ev.promote(TUNED, yes=True, override_judge=True)
    assert event.action == "promote" and event.evidence["judge_override"] is True
    check = next(c for c in event.evidence["gate"]["checks"] if c["name"] == "judge")
    assert check["overridden"] and not check["passed"]


def test_niche_alias_compares_on_that_niche_only(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 80)
    ev = evaluator(corpus, settings)
    niche = corpus.entries()[0].correction.niche
    event = ev.promote(TUNED, alias=f"niche:{niche}", yes=True, override_judge=True, force=True)
    assert event.name == f"niche:{niche}"
    assert event.evidence["test_set"]["niche"] == niche
    assert ev.registry.current() is None  # "current" is untouched


def test_evaluator_through_fake_gemini_offline(settings: Settings, corpus: Corpus, tmp_path: Path) -> None:
    """Judges through the real client on the bundled FakeGemini (offline settings): valid verdicts end to end."""
    build(corpus, 12)
    offline = settings.model_copy(update={"offline": True})
    ev = Evaluator(corpus, settings=offline, analyzer=lambda m: (_ for _ in ()).throw(AssertionError(m)))
    try:
        report = ev.compare(TUNED, BASE, write=False)
    finally:
        ev.close()
    assert all(
        a.mechanism is not None and a.mechanism.verdict in ("PASS", "FAIL")
        for c in report.clips
        for a in c.answers.values()
    )
    assert all(c.pairwise is not None for c in report.clips)
    mechanism = report.judges["mechanism"]
    assert mechanism["usage"]["calls"] > 0 and mechanism["usage"]["prompt_tokens"] > 0
    expected = (mechanism["usage"]["prompt_tokens"] * 1.50 + mechanism["usage"]["output_tokens"] * 9.00) / 1e6
    assert mechanism["cost_usd"] == pytest.approx(expected)  # the judge defaults to gemini-3.5-flash (catalog price)


def test_calibrate_from_a_labels_file(corpus: Corpus, settings: Settings, tmp_path: Path) -> None:
    build(corpus, 10)
    ev = evaluator(corpus, settings)
    ref = corpus.correction(corpus.entries()[0].correction.id)
    assert ref is not None
    lines: list[dict[str, Any]] = [
        {"kind": "pass_fail", "correction_id": ref.id, "verdict": "PASS", "candidate": ref.human_said},
        {"kind": "pass_fail", "correction_id": ref.id, "verdict": "FAIL", "candidate": "Något helt annat."},
    ]
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(lines, ensure_ascii=False), "utf-8")
    reports = ev.calibrate(path)
    assert reports["mechanism"].n == 2 and reports["mechanism"].agreement == 1.0
    assert not reports["mechanism"].calibrated  # two labels are not enough to gate
    assert reports["pairwise"].n == 0


def test_an_alias_that_was_never_promoted_is_a_clear_error(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 5)
    ev = evaluator(corpus, settings)
    with pytest.raises(EvaluationError, match="no model has been promoted to 'current'") as info:
        ev.evaluate()
    assert "gemini-3.5-flash" in (info.value.hint or "")
    with pytest.raises(EvaluationError, match="niche:pets"):
        ev.compare(TUNED, "niche:pets")


def test_simulated_owner_labels_follow_the_mechanism(corpus: Corpus, settings: Settings) -> None:
    from humortune.evaluator.calibration import load_labels
    from tests.rigs.evaluation import simulate_owner_labels

    build(corpus, 40)
    stored = simulate_owner_labels(corpus, a=TUNED, b=BASE, limit=15)
    labels = load_labels(corpus)
    assert stored == len(labels) == 30
    assert {label.kind for label in labels} == {"pass_fail", "pairwise"}
    for label in labels:
        correction = corpus.correction(label.correction_id or "")
        assert correction is not None and correction.record is not None
        if label.kind == "pass_fail":
            assert (label.owner == "PASS") == (correction.record.mechanism in label.candidate)


def test_a_warm_compare_reads_text_scores_instead_of_recomputing(
    corpus: Corpus, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(corpus)
    cold = evaluator(corpus, settings).compare(TUNED, BASE, write=False)
    calls: list[str] = []
    real = scoring.chrf

    def counting_chrf(hypothesis: str, reference: str) -> float:
        calls.append(hypothesis)
        return real(hypothesis, reference)

    monkeypatch.setattr(scoring, "chrf", counting_chrf)
    warm = evaluator(corpus, settings).compare(TUNED, BASE, write=False)
    assert calls == []
    assert [c.as_dict() for c in warm.clips] == [c.as_dict() for c in cold.clips]
    assert warm.id == cold.id and warm.comparison == cold.comparison


def test_changed_texts_are_scored_again(corpus: Corpus, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    build(corpus)
    evaluator(corpus, settings).compare(TUNED, BASE, write=False)
    monkeypatch.setattr(scoring, "TEXT_METRICS_VERSION", "next")  # as after a change to chrF or ROUGE-L
    calls: list[str] = []
    monkeypatch.setattr(scoring, "chrf", lambda h, r: calls.append(h) or 50.0)
    report = evaluator(corpus, settings).compare(TUNED, BASE, write=False)
    assert calls and all(a.chrf == 50.0 for c in report.clips for a in c.answers.values() if a.text.strip())
