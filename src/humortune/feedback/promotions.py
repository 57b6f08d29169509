"""Promotions the owner confirms: what the retrain policy proposed, and the owner's yes or no.

The retrain policy never moves an alias. When a candidate passes the gate it appends a ``propose`` row to
``alias_history`` (through the evaluator's registry) with its evidence; the review UI lists those proposals
and the owner confirms (the alias moves, ``promote``) or rejects (``refuse``). Both decisions carry the
proposal's id in their evidence, which is how a proposal is known to be decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from humortune.errors import FeedbackError
from humortune.workspace import Corpus, Stores

__all__ = ["GateLine", "JudgeCalibration", "Proposal", "ProposalFigures", "decide_proposal", "pending_proposals"]


@dataclass(frozen=True, slots=True)
class JudgeCalibration:
    """How far a judge agrees with the owner, as the evaluator recorded it for the comparison."""

    kind: str
    status: str
    agreement: float | None = None
    n: int | None = None


@dataclass(frozen=True, slots=True)
class GateLine:
    """One check of the promotion gate (the rows `humortune promote` prints)."""

    name: str
    passed: bool
    detail: str
    overridden: bool = False


@dataclass(frozen=True, slots=True)
class ProposalFigures:
    """The evaluator's numbers behind a proposal, read from its stored comparison (never recomputed)."""

    evaluation_id: str | None = None
    n: int | None = None
    """Held-out clips compared."""
    wins: int | None = None
    ties: int | None = None
    losses: int | None = None
    win_rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    """The win rate's 95 % confidence interval (bootstrap, as the evaluator computed it)."""
    sign_test_p: float | None = None
    judges: list[JudgeCalibration] = field(default_factory=list)
    checks: list[GateLine] = field(default_factory=list)
    report_path: str | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed promotion waiting for the owner."""

    id: int
    alias: str
    model_id: str
    previous_id: str | None
    evidence: dict[str, Any]
    created_at: str
    summary: list[str] = field(default_factory=list)
    """Lines for the UI, from the evidence."""
    figures: ProposalFigures = field(default_factory=ProposalFigures)
    """Win rate, its CI, sample size, judge calibration, gate checks and report, from the evaluation."""


def _summary(evidence: dict[str, Any]) -> list[str]:
    raw = evidence.get("summary")
    lines = [raw] if isinstance(raw, str) else [str(x) for x in raw] if isinstance(raw, list) else []
    gate = evidence.get("gate")
    if isinstance(gate, dict) and isinstance(gate.get("summary"), str) and gate["summary"] not in lines:
        lines.append(gate["summary"])
    ab = evidence.get("owner_ab")
    if isinstance(ab, dict) and ab.get("n"):
        lines.append(
            f"your blind A/B choices: candidate {ab.get('wins_candidate', 0)}, current {ab.get('wins_current', 0)},"
            f" ties {ab.get('ties', 0)}"
        )
    return lines


def _evaluation_summary(corpus: Corpus, evaluation_id: object) -> dict[str, Any]:
    if not isinstance(evaluation_id, str):
        return {}
    record = Stores.of(corpus.db).evaluations.get(evaluation_id)
    return dict(record.summary) if record is not None else {}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _judges(summary: dict[str, Any]) -> list[JudgeCalibration]:
    out = []
    for kind, raw in sorted(_dict(summary.get("judges")).items()):
        info, cal = _dict(raw), _dict(_dict(raw).get("calibration"))
        if not info:
            continue
        out.append(JudgeCalibration(str(kind), str(info.get("status") or ""), cal.get("agreement"), cal.get("n")))
    return out


def proposal_figures(corpus: Corpus, evidence: dict[str, Any]) -> ProposalFigures:
    """What the evaluator measured for a proposal: its stored comparison, gate checks and report."""
    summary = _evaluation_summary(corpus, evidence.get("evaluation_id"))
    comparison = _dict(summary.get("comparison"))
    rate = _dict(comparison.get("win_rate"))
    gate = _dict(evidence.get("gate")) or _dict(summary.get("gate"))
    checks = [
        GateLine(str(c.get("name")), bool(c.get("passed")), str(c.get("detail", "")), bool(c.get("overridden")))
        for c in gate.get("checks", [])
        if isinstance(c, dict)
    ]
    return ProposalFigures(
        evaluation_id=evidence.get("evaluation_id") if summary else None,
        n=comparison.get("n"),
        wins=comparison.get("wins"),
        ties=comparison.get("ties"),
        losses=comparison.get("losses"),
        win_rate=rate.get("estimate"),
        ci_low=rate.get("low"),
        ci_high=rate.get("high"),
        sign_test_p=comparison.get("sign_test_p"),
        judges=_judges(summary),
        checks=checks,
        report_path=evidence.get("report") or summary.get("report_path"),
    )


def pending_proposals(corpus: Corpus) -> list[Proposal]:
    """Proposals not yet confirmed or rejected, and not already in effect; newest first, one per
    (alias, model)."""
    aliases = Stores.of(corpus.db).aliases
    decided = aliases.answered_proposals()
    current = aliases.targets()
    seen: set[tuple[str, str]] = set()
    out = []
    for change in aliases.proposals():
        if change.model_id is None or (change.name, change.model_id) in seen:
            continue
        seen.add((change.name, change.model_id))
        if change.id in decided or current.get(change.name) == change.model_id:
            continue
        evidence = dict(change.evidence)
        out.append(
            Proposal(
                id=change.id,
                alias=change.name,
                model_id=change.model_id,
                previous_id=change.previous_id,
                evidence=evidence,
                created_at=change.created_at.isoformat(timespec="microseconds"),
                summary=_summary(evidence),
                figures=proposal_figures(corpus, evidence),
            )
        )
    return out


def decide_proposal(corpus: Corpus, proposal_id: int, confirm: bool, *, who: str = "owner (review UI)") -> str:
    """Confirm (promote) or reject a pending proposal; returns a one-line message for the owner."""
    from humortune.evaluator.registry import AliasRegistry

    pending = {p.id: p for p in pending_proposals(corpus)}
    proposal = pending.get(int(proposal_id))
    if proposal is None:
        raise FeedbackError(
            "this proposal is not waiting any more (decided, superseded or already in effect)",
            hint="reload the promotions page",
            item=str(proposal_id),
        )
    registry = AliasRegistry(corpus)
    if confirm:
        registry.promote(
            proposal.model_id,
            alias=proposal.alias,
            evidence={**proposal.evidence, "proposal": proposal.id, "confirmed_by": who},
        )
        return f"{proposal.model_id} is now {proposal.alias!r} (undo with `humortune rollback`)."
    registry.record(
        "refuse",
        alias=proposal.alias,
        model_id=proposal.model_id,
        previous_id=registry.current(proposal.alias),
        evidence={"proposal": proposal.id, "rejected_by": who},
    )
    return f"Rejected {proposal.model_id} for {proposal.alias!r}; {proposal.alias!r} is unchanged."
