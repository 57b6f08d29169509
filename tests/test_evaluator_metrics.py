"""Reference metrics against hand-computed values."""

from __future__ import annotations

import random

import pytest

from humortune.evaluator.metrics import (
    MISSING,
    ConfusionMatrix,
    FieldAccuracy,
    chrf,
    lcs_length,
    rouge_l,
    score_record,
    tokens,
)
from humortune.schema import Category, HumorRecord, Quality


def _record(**changes: object) -> HumorRecord:
    base = {
        "summary": "En kock steker ett ägg som om det vore en final.",
        "mechanism": "överdriven dramatik kring en banal vardagsuppgift",
        "why_it_works": "Kontrasten mellan allvar och ägg blir absurd.",
        "audience": "Matintresserade",
        "category": Category.COMEDY,
        "quality": Quality.GOOD,
        "replicable": True,
    }
    base.update(changes)
    return HumorRecord.model_validate(base)


def test_chrf_hand_computed() -> None:
    # "ab" vs "abc": order 1 P=1 R=2/3, order 2 P=1 R=1/2, higher orders absent → avgP=1, avgR=7/12,
    # F2 = 5·P·R / (4P + R) = (35/12) / (55/12) = 7/11.
    assert chrf("ab", "abc") == pytest.approx(100 * 7 / 11)
    # Swedish inflection: "katt" vs "katter": recalls 4/6, 3/5, 2/4, 1/3 → avgR = 0.525, F2 = 2.625/4.525.
    assert chrf("katt", "katter") == pytest.approx(100 * 2.625 / 4.525)
    assert chrf("Det roliga är äggen", "Det roliga är äggen") == pytest.approx(100.0)


def test_chrf_empty_is_zero() -> None:
    assert chrf("", "något") == 0.0
    assert chrf("något", "   ") == 0.0


def test_tokens_keep_swedish_letters() -> None:
    # rouge-score's default tokenizer would turn "häcken" into "h" + "cken".
    assert tokens("Häcken, ÅÄÖ! 3 katter") == ["häcken", "åäö", "3", "katter"]


def test_rouge_l_hand_computed() -> None:
    # LCS("katten hoppar över", ...) = 3; P = 3/4, R = 3/5, F1 = 2·0.45/1.35 = 2/3.
    assert rouge_l("katten hoppar över häcken", "katten hoppar inte över staketet") == pytest.approx(2 / 3)
    assert rouge_l("Åsa äter ärtsoppa", "åsa äter ärtsoppa") == pytest.approx(1.0)
    assert rouge_l("helt annat", "inget gemensamt") == 0.0
    assert rouge_l("", "något") == 0.0


def _lcs_table(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def test_bit_parallel_lcs_equals_the_textbook_table() -> None:
    rng = random.Random(7)
    for _ in range(500):
        a = [rng.choice("abcdå") for _ in range(rng.randint(0, 40))]
        b = [rng.choice("abcdå") for _ in range(rng.randint(0, 40))]
        assert lcs_length(a, b) == _lcs_table(a, b)
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4  # the CLRS example


def test_score_record_exact_and_similarity() -> None:
    owner = _record()
    same = score_record(owner, owner)
    assert same.exact == {"category": 1.0, "quality": 1.0, "replicable": 1.0}
    assert all(v == pytest.approx(1.0) for v in same.similarity.values())
    assert same.mean == pytest.approx(1.0)
    other = score_record(_record(category=Category.CHAOTIC, replicable=False), owner)
    assert other.exact == {"category": 0.0, "quality": 1.0, "replicable": 0.0}
    assert other.labels["category"] == ("comedy", "chaotic")
    assert other.labels["replicable"] == ("true", "false")


def test_missing_model_record_scores_zero() -> None:
    score = score_record(None, _record())
    assert score.missing
    assert score.mean == 0.0
    assert score.labels["quality"] == ("good", MISSING)


def test_confusion_matrix_and_accuracy() -> None:
    matrix = ConfusionMatrix.for_field("category")
    for owner, model in [("comedy", "comedy"), ("comedy", "clever"), ("clever", "clever"), ("chaotic", MISSING)]:
        matrix.add(owner, model)
    assert matrix.total == 4
    assert matrix.accuracy == pytest.approx(0.5)
    assert matrix.count("comedy", "clever") == 1
    assert MISSING in matrix.labels
    dense = matrix.as_dict()
    assert dense["matrix"][dense["labels"].index("comedy")][dense["labels"].index("comedy")] == 1
    assert sum(map(sum, dense["matrix"])) == 4
    assert ConfusionMatrix.for_field("quality").accuracy is None


def test_field_accuracy_aggregates() -> None:
    owner = _record()
    scores = [
        score_record(owner, owner),
        score_record(_record(quality=Quality.WEAK), owner),
        score_record(None, owner),
    ]
    acc = FieldAccuracy.from_scores(scores)
    assert acc.n == 3
    assert acc.missing == 1
    assert acc.exact["category"] == pytest.approx(2 / 3)
    assert acc.exact["quality"] == pytest.approx(1 / 3)
    assert acc.confusion["quality"].count("good", "weak") == 1
    assert set(acc.as_dict()["confusion"]) == {"category", "quality"}
