"""What an evaluation produces: per-clip answers and scores, per-system summaries, comparison statistics.

`EvaluationReport.as_dict` is the JSON report, the HTML report is rendered from exactly that dict, and
the ``evaluations`` / ``evaluation_items`` tables store its summary and its clips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from humortune.evaluator.gate import GateDecision
from humortune.evaluator.judge import MechanismJudgement, PairwiseJudgement
from humortune.evaluator.metrics import FieldAccuracy, RecordScore
from humortune.evaluator.stats import Outcome, PairedStats
from humortune.schema import HumorRecord

__all__ = ["ROLE_LABELS", "Answer", "ClipResult", "EvaluationReport", "SystemSummary"]

ROLE_LABELS: dict[str, str] = {
    "old": "Old answer",
    "base": "Base",
    "model": "Tuned",
    "incumbent": "Incumbent",
    "candidate": "Candidate",
}
"""Column headings per role. ``old`` is the battery's ``gemini_said``: the old system's answer, free to score."""


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(slots=True)
class Answer:
    """One system's answer for one clip, and how it scored against the owner."""

    role: str
    text: str
    record: HumorRecord | None = None
    analysis_id: str | None = None
    error: str | None = None
    chrf: float = 0.0
    rouge_l: float = 0.0
    record_score: RecordScore | None = None
    mechanism: MechanismJudgement | None = None
    score: float = 0.0

    def components(self) -> dict[str, float]:
        """The parts of the composite score, each in 0–1."""
        parts = {"chrf": self.chrf / 100, "rouge_l": self.rouge_l}
        if self.mechanism is not None:
            parts["mechanism"] = 1.0 if self.mechanism.passed else 0.0
        if self.record_score is not None:
            parts["record"] = self.record_score.mean
        return parts

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "role": self.role,
            "text": self.text,
            "record": self.record.model_dump(mode="json") if self.record else None,
            "analysis_id": self.analysis_id,
            "error": self.error,
            "chrf": _r(self.chrf),
            "rouge_l": _r(self.rouge_l),
            "record_score": self.record_score.as_dict() if self.record_score else None,
            "mechanism": (
                {"verdict": self.mechanism.verdict, "reason": self.mechanism.reason} if self.mechanism else None
            ),
            "score": _r(self.score),
        }


@dataclass(slots=True)
class ClipResult:
    """One held-out clip: the owner's correction, each system's answer, and the paired outcome."""

    correction_id: str
    video_key: str
    video_sha256: str | None
    niche: str | None
    category: str | None
    owner: str
    owner_record: HumorRecord | None
    answers: dict[str, Answer] = field(default_factory=dict)
    pairwise: PairwiseJudgement | None = None
    outcome: Outcome | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "correction_id": self.correction_id,
            "video_key": self.video_key,
            "video_sha256": self.video_sha256,
            "niche": self.niche,
            "category": self.category,
            "owner": self.owner,
            "owner_record": self.owner_record.model_dump(mode="json") if self.owner_record else None,
            "answers": {role: a.as_dict() for role, a in self.answers.items()},
            "pairwise": (
                {
                    "outcome": self.pairwise.outcome,
                    "first": self.pairwise.first,
                    "second": self.pairwise.second,
                    "reasons": list(self.pairwise.reasons),
                    "consistent": self.pairwise.consistent,
                }
                if self.pairwise
                else None
            ),
            "outcome": self.outcome,
        }


@dataclass(slots=True)
class SystemSummary:
    """One system's figures over the clips it answered."""

    role: str
    model: str
    n: int
    errors: int
    chrf: float
    rouge_l: float
    score: float
    mechanism_pass_rate: float | None
    mechanism_n: int
    record: FieldAccuracy | None
    scores: list[float]

    @property
    def label(self) -> str:
        """Column heading, e.g. ``Tuned`` or ``Old answer``."""
        return ROLE_LABELS.get(self.role, self.role)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "role": self.role,
            "label": self.label,
            "model": self.model,
            "n": self.n,
            "errors": self.errors,
            "chrf": _r(self.chrf),
            "rouge_l": _r(self.rouge_l),
            "score": _r(self.score),
            "mechanism_pass_rate": _r(self.mechanism_pass_rate),
            "mechanism_n": self.mechanism_n,
            "record": self.record.as_dict() if self.record else None,
            "scores": [round(s, 6) for s in self.scores],
        }


@dataclass(slots=True)
class EvaluationReport:
    """The result of `Evaluator.evaluate` or `Evaluator.compare`."""

    id: str
    kind: Literal["evaluate", "compare"]
    created_at: str
    test_set: dict[str, Any]
    systems: list[SystemSummary]
    clips: list[ClipResult]
    subject: str
    """Role of the system under test (``model`` or ``candidate``)."""
    reference_role: str | None = None
    """Role it is paired against (``base`` or ``incumbent``), if any."""
    comparison: PairedStats | None = None
    slices: dict[str, dict[str, PairedStats]] = field(default_factory=dict)
    slice_means: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    outcome_source: str | None = None
    position_consistency: float | None = None
    judges: dict[str, Any] = field(default_factory=dict)
    gate: GateDecision | None = None
    warnings: list[str] = field(default_factory=list)
    report_path: str | None = None

    def system(self, role: str) -> SystemSummary | None:
        """The summary of one role, if it took part."""
        return next((s for s in self.systems if s.role == role), None)

    @property
    def model(self) -> str:
        """The model under test."""
        subject = self.system(self.subject)
        return subject.model if subject else ""

    @property
    def reference_model(self) -> str | None:
        """The model it was paired against."""
        ref = self.system(self.reference_role) if self.reference_role else None
        return ref.model if ref else None

    def summary_dict(self) -> dict[str, Any]:
        """Everything but the clips (what the ``evaluations`` table stores)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "created_at": self.created_at,
            "model": self.model,
            "reference_model": self.reference_model,
            "subject": self.subject,
            "reference_role": self.reference_role,
            "test_set": self.test_set,
            "systems": [s.as_dict() for s in self.systems],
            "comparison": self.comparison.as_dict() if self.comparison else None,
            "slices": {dim: {k: s.as_dict() for k, s in groups.items()} for dim, groups in self.slices.items()},
            "slice_means": self.slice_means,
            "outcome_source": self.outcome_source,
            "position_consistency": _r(self.position_consistency),
            "judges": self.judges,
            "gate": self.gate.as_dict() if self.gate else None,
            "warnings": list(self.warnings),
            "report_path": self.report_path,
        }

    def as_dict(self) -> dict[str, Any]:
        """The full JSON report: the summary plus every clip."""
        data = self.summary_dict()
        data["clips"] = [c.as_dict() for c in self.clips]
        return data
