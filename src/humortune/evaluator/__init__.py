"""Evaluate models against the owner, compare two models, and gate promotions.

* `Evaluator` — held-out evaluation (`Evaluator.evaluate`), paired A/B (`Evaluator.compare`), judge
  calibration (`Evaluator.calibrate`), promotion and rollback (`Evaluator.promote`, `Evaluator.rollback`).
* `metrics` — chrF, ROUGE-L on Unicode words, record-field accuracy and confusion matrices.
* `judge` — the humour-mechanism PASS/FAIL judge and the position-debiased pairwise judge.
* `calibration` — judge vs owner agreement, Cohen's κ, false-pass / false-fail rates.
* `stats` — paired win/tie/loss, bootstrap CIs, the sign test, slices.
* `gate` and `registry` — the promotion policy, aliases (``current``), and their recorded history.
* `report` — JSON, self-contained HTML and a terminal summary.
"""

from __future__ import annotations

from humortune.evaluator.calibration import CalibrationReport, OwnerLabel, calibrate, import_labels
from humortune.evaluator.evaluator import AnalyzerFactory, AnalyzerLike, Evaluator
from humortune.evaluator.gate import GateCheck, GateDecision, GatePolicy, decide
from humortune.evaluator.judge import LexicalJudge, MechanismJudge, PairwiseJudge
from humortune.evaluator.registry import AliasEvent, AliasRegistry
from humortune.evaluator.results import EvaluationReport
from humortune.evaluator.stats import PairedStats

__all__ = [
    "AliasEvent",
    "AliasRegistry",
    "AnalyzerFactory",
    "AnalyzerLike",
    "CalibrationReport",
    "EvaluationReport",
    "Evaluator",
    "GateCheck",
    "GateDecision",
    "GatePolicy",
    "LexicalJudge",
    "MechanismJudge",
    "OwnerLabel",
    "PairedStats",
    "PairwiseJudge",
    "calibrate",
    "decide",
    "import_labels",
]
