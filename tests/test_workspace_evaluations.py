"""EvaluationStore and LabelStore against a real workspace file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from humortune.evaluator.calibration import import_labels
from humortune.schema import utcnow
from humortune.workspace import Corpus
from humortune.workspace.stores import EvaluationItem, EvaluationRecord, EvaluationStore, LabelStore


def _eval(eid: str, model: str = "m2", *, incumbent: str | None = "m1", age_s: int = 0) -> EvaluationRecord:
    return EvaluationRecord(
        id=eid,
        model=model,
        incumbent=incumbent,
        dataset_id="ds-a",
        created_at=utcnow() - timedelta(seconds=age_s),
        summary={"kind": "compare", "systems": [{"model": model, "score": 0.8, "n": 3}]},
        report_path=f"/reports/{eid}/report.html",
    )


def test_replace_keeps_one_copy_and_the_item_order(corpus: Corpus) -> None:
    store = EvaluationStore(corpus.db)
    items = [EvaluationItem(correction_id=c, scores={"score": i}) for i, c in enumerate(["c9", "c1", "c5"])]
    store.replace(_eval("ev-1"), items)
    store.replace(_eval("ev-1"), items[:2])  # a rerun replaces, never duplicates
    got = store.get("ev-1")
    assert got is not None and got.summary["systems"][0]["score"] == 0.8
    assert store.items("ev-1") == items[:2]
    store.replace(_eval("ev-2"), items)
    assert [i.correction_id for i in store.items("ev-2")] == ["c9", "c1", "c5"]  # stored order, not sorted


def test_latest_matching_and_listing_by_prefix(corpus: Corpus) -> None:
    store = EvaluationStore(corpus.db)
    store.replace(_eval("ev-aa", age_s=30), [])
    store.replace(_eval("ev-ab", age_s=20), [])
    store.replace(_eval("cal-1", model="judge@p", incumbent=None, age_s=10), [])
    latest = store.latest()
    assert latest is not None and latest.id == "ev-ab"  # calibrations are not evaluations
    assert [e.id for e in store.all()] == ["ev-ab", "ev-aa"]
    assert [e.id for e in store.all(prefix="cal-", model="judge@p")] == ["cal-1"]
    assert store.all(prefix="cal-", model="other") == []
    assert [e.id for e in store.matching("ev-a")] == ["ev-aa", "ev-ab"]
    assert [e.id for e in store.matching("ev-ab")] == ["ev-ab"]
    assert store.matching("ev-%") == []


def test_comparisons_and_involving(corpus: Corpus) -> None:
    store = EvaluationStore(corpus.db)
    store.replace(_eval("ev-1", "m2", incumbent="m1", age_s=30), [])
    store.replace(_eval("ev-2", "m3", incumbent="m2", age_s=20), [])
    store.replace(_eval("ev-3", "m2", incumbent="m1", age_s=10), [])
    assert [e.id for e in store.comparisons("m2", "m1")] == ["ev-3", "ev-1"]
    assert [e.id for e in store.involving("m2")] == ["ev-1", "ev-2", "ev-3"]  # oldest first, both roles


def test_labels_add_find_count_and_delete(corpus: Corpus) -> None:
    store = LabelStore(corpus.db)
    a = store.add("pairwise", {"pair_key": "m1|m2", "winner": "m1"}, video_sha256="s1")
    store.add("pairwise", {"pair_key": "m1|m2", "winner": None}, video_sha256="s2")
    store.add("pass_fail", {"verdict": "PASS"}, correction_id="c1")
    assert store.counts() == {"pairwise": 2, "pass_fail": 1}
    assert [label.payload["winner"] for label in store.pairwise("m1|m2")] == ["m1", None]
    assert [label.id for label in store.pairwise("m1|m2", video_sha256="s1")] == [a]
    assert store.pairwise("m1|m3") == []
    assert [label.kind for label in store.all(kind="pass_fail")] == ["pass_fail"]
    assert store.delete(a) is True and store.delete(a) is False
    assert store.counts() == {"pairwise": 1, "pass_fail": 1}


def test_add_once_ignores_key_order_and_dedupes_with_the_calibration_import(corpus: Corpus, tmp_path: Path) -> None:
    store = LabelStore(corpus.db)
    assert store.add_once("pass_fail", {"verdict": "PASS", "text": "x"}, correction_id="c1") is True
    assert store.add_once("pass_fail", {"text": "x", "verdict": "PASS"}, correction_id="c1") is False
    assert store.add_once("pass_fail", {"text": "x", "verdict": "PASS"}, correction_id="c2") is True
    labels = tmp_path / "labels.json"
    labels.write_text('[{"kind": "pass_fail", "correction_id": "c1", "text": "x", "verdict": "PASS"}]')
    assert import_labels(corpus, labels) == 0  # the evaluator sees the store's label as the same label


def test_text_scores_round_trip_and_first_write_wins(corpus: Corpus) -> None:
    store = EvaluationStore(corpus.db)
    assert store.text_scores(["k1"]) == {}
    store.save_text_scores({"k1": (41.5, 0.25), "k2": (0.0, 0.0)})
    store.save_text_scores({"k1": (99.0, 0.99)})  # same key = same texts: the stored scores stay
    store.save_text_scores({})
    keys = [f"missing-{i}" for i in range(1200)] + ["k1", "k2"]  # more keys than one IN (...) query takes
    assert store.text_scores(keys) == {"k1": (41.5, 0.25), "k2": (0.0, 0.0)}
