"""Helpers for the evaluator tests: a synthetic held-out set, a fake judge, and owner labels that agree with it."""

from __future__ import annotations

import json
from typing import Any

from humortune.evaluator import Evaluator
from humortune.evaluator.judge import LexicalJudge, MechanismJudge, PairwiseJudge
from humortune.settings import Settings
from humortune.workspace import Corpus
from tests.rigs.evaluation import populate_evaluation

TUNED = "projects/demo/locations/us-central1/models/101@1"
WORSE = "projects/demo/locations/us-central1/models/102@1"
BASE = "gemini-3.5-flash"


class NoAnalyzer:
    """An analyzer factory that must not be called (every analysis should come from the cache)."""

    def __call__(self, model: str) -> Any:
        raise AssertionError(f"the analyzer was built for {model}: cached analyses were not reused")


def build(corpus: Corpus, n: int = 60, *, seed: int = 3, models: dict[str, float] | None = None) -> None:
    populate_evaluation(corpus, n, models=models or {TUNED: 0.85, BASE: 0.4, WORSE: 0.2}, seed=seed)


def evaluator(corpus: Corpus, settings: Settings, *, judge: LexicalJudge | None = None, **kw: Any) -> Evaluator:
    return Evaluator(
        corpus, settings=settings, judge=judge or LexicalJudge(), analyzer=kw.pop("analyzer", NoAnalyzer()), **kw
    )


def agreeing_labels(corpus: Corpus, evaluator: Evaluator, n: int = 24) -> None:
    """Owner labels on which the fake judge agrees with the owner: the judges become calibrated."""
    rows = corpus.db.query("SELECT id, human_said FROM corrections ORDER BY id LIMIT ?", (n,))
    answers = corpus.db.query("SELECT narrative FROM analyses ORDER BY id LIMIT ?", (2 * n,))
    mech: MechanismJudge = evaluator.mechanism_judge
    pair: PairwiseJudge = evaluator.pairwise_judge
    for i, row in enumerate(rows):
        a, b = answers[2 * i]["narrative"], answers[2 * i + 1]["narrative"]
        verdict = mech.judge(candidate=a, reference=row["human_said"]).verdict
        outcome = pair.compare(reference=row["human_said"], candidate=a, incumbent=b).outcome
        choice = {"win": "a", "loss": "b", "tie": "tie"}[outcome]
        for kind, payload in (
            ("pass_fail", {"verdict": verdict, "candidate": a}),
            ("pairwise", {"choice": choice, "a": a, "b": b}),
        ):
            corpus.db.execute(
                "INSERT INTO owner_labels (kind, correction_id, payload_json, created_at)"
                " VALUES (?, ?, ?, '2026-01-01T00:00:00+00:00')",
                (kind, row["id"], json.dumps(payload, ensure_ascii=False)),
            )
