"""The promotion gate: may a candidate replace the incumbent?

The default policy (`GatePolicy`) allows a promotion only when all of these hold:

1. **win rate** — the lower bound of the 95% bootstrap CI of the candidate's win rate (ties count half) is
   above 50%: the candidate is better, not just lucky;
2. **slices** — no niche or category slice of at least ``min_slice_size`` clips regresses: its win rate is
   not below 50% − ``slice_margin`` and its mean score difference not below −``slice_margin`` (smaller slices
   are listed in the evidence as small samples, never hidden);
3. **judges** — every model judge whose verdicts decided outcomes or scores is calibrated against the owner
   (`humortune.evaluator.calibration`), unless the owner explicitly overrides that check.

`decide` returns a `GateDecision` with every check and its numbers; the registry stores it as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from humortune.evaluator.calibration import CalibrationReport
from humortune.evaluator.stats import PairedStats

__all__ = ["GateCheck", "GateDecision", "GatePolicy", "decide"]


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """Thresholds of the promotion gate (see the module docs)."""

    min_win_rate_low: float = 0.5
    """The win rate's CI lower bound must be strictly above this."""
    slice_margin: float = 0.05
    """How far a slice may fall behind (win rate below 0.5, or mean score difference below 0) before it blocks."""
    min_slice_size: int = 10
    """Slices smaller than this are reported (labelled small samples) but do not block."""
    min_agreement: float = 0.8
    """A judge needs at least this agreement with the owner to gate."""
    min_labels: int = 20
    """…measured on at least this many owner labels."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One check of the gate, with the figures behind it."""

    name: str
    passed: bool
    detail: str
    overridden: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "passed": self.passed, "detail": self.detail, "overridden": self.overridden}


@dataclass(slots=True)
class GateDecision:
    """The gate's verdict: ``allowed`` only when every check passed (or was explicitly overridden)."""

    candidate: str
    incumbent: str
    checks: list[GateCheck]
    policy: GatePolicy
    evaluation_id: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        """Whether the candidate may be promoted."""
        return all(c.passed or c.overridden for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        """The failed checks' details (why the gate said no)."""
        return [c.detail for c in self.checks if not c.passed and not c.overridden]

    def summary(self) -> str:
        """One line for humans."""
        if self.allowed:
            extra = " (judge check overridden by the owner)" if any(c.overridden for c in self.checks) else ""
            return f"promotion allowed: {self.candidate} beats {self.incumbent}{extra}"
        return "promotion refused: " + "; ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready evidence."""
        return {
            "allowed": self.allowed,
            "candidate": self.candidate,
            "incumbent": self.incumbent,
            "evaluation_id": self.evaluation_id,
            "checks": [c.as_dict() for c in self.checks],
            "policy": self.policy.as_dict(),
            "notes": list(self.notes),
            "summary": self.summary(),
        }


def _win_rate_check(stats: PairedStats, policy: GatePolicy) -> GateCheck:
    wr = stats.win_rate
    detail = (
        f"win rate {wr.estimate:.3f} (95% CI {wr.low:.3f}–{wr.high:.3f}) over {stats.n} clips "
        f"[{stats.wins}W/{stats.ties}T/{stats.losses}L]"
    )
    if stats.n == 0:
        return GateCheck("win_rate", False, "no held-out clips were compared")
    if wr.low > policy.min_win_rate_low:
        return GateCheck("win_rate", True, f"{detail}: lower bound above {policy.min_win_rate_low:.0%}")
    return GateCheck("win_rate", False, f"{detail}: the CI reaches {policy.min_win_rate_low:.0%}, not a clear win")


def _slice_check(slices: Mapping[str, Mapping[str, PairedStats]], policy: GatePolicy) -> tuple[GateCheck, list[str]]:
    regressions: list[str] = []
    small: list[str] = []
    for dimension, groups in slices.items():
        for key, s in groups.items():
            name = f"{dimension}={key}"
            if s.n < policy.min_slice_size:
                small.append(f"{name} (n={s.n})")
                continue
            if s.win_rate.estimate < 0.5 - policy.slice_margin:
                regressions.append(f"{name}: win rate {s.win_rate.estimate:.3f} over n={s.n}")
            elif s.mean_difference.estimate < -policy.slice_margin:
                regressions.append(f"{name}: mean score difference {s.mean_difference.estimate:+.3f} over n={s.n}")
    notes = [f"slices too small to gate (n<{policy.min_slice_size}): " + ", ".join(small)] if small else []
    if regressions:
        return GateCheck("slices", False, "slice regression beyond margin: " + "; ".join(regressions)), notes
    return GateCheck("slices", True, f"no slice with n≥{policy.min_slice_size} regresses beyond the margin"), notes


def _judge_check(
    judges: Mapping[str, CalibrationReport | None], policy: GatePolicy, *, override: bool
) -> GateCheck | None:
    if not judges:
        return None
    problems: list[str] = []
    fine: list[str] = []
    for kind, report in judges.items():
        if report is None:
            problems.append(f"{kind} judge has no calibration against owner labels")
        elif report.n < policy.min_labels:
            problems.append(f"{kind} judge checked on {report.n} owner label(s), need {policy.min_labels}")
        elif report.agreement is None or report.agreement < policy.min_agreement:
            problems.append(f"{kind} judge agreement {report.agreement or 0:.2f} < {policy.min_agreement:.2f}")
        else:
            fine.append(f"{kind} judge agreement {report.agreement:.2f} on {report.n} labels")
    if problems:
        detail = "uncalibrated judge: " + "; ".join(problems)
        if override:
            detail += " (overridden by the owner)"
        return GateCheck("judge", False, detail, overridden=override)
    return GateCheck("judge", True, "; ".join(fine))


def decide(
    *,
    candidate: str,
    incumbent: str,
    stats: PairedStats,
    slices: Mapping[str, Mapping[str, PairedStats]],
    judges: Mapping[str, CalibrationReport | None],
    policy: GatePolicy | None = None,
    override_judge: bool = False,
    evaluation_id: str | None = None,
) -> GateDecision:
    """Apply the policy. ``judges`` maps each judge kind that decided outcomes or scores to its calibration."""
    policy = policy or GatePolicy()
    checks = [_win_rate_check(stats, policy)]
    slice_check, notes = _slice_check(slices, policy)
    checks.append(slice_check)
    judge_check = _judge_check(judges, policy, override=override_judge)
    if judge_check is not None:
        checks.append(judge_check)
    else:
        notes.append("no model judge was used: outcomes come from reference metrics only")
    if stats.small:
        notes.append(f"small sample: only {stats.n} held-out clips")
    return GateDecision(
        candidate=candidate,
        incumbent=incumbent,
        checks=checks,
        policy=policy,
        evaluation_id=evaluation_id,
        notes=notes,
    )
