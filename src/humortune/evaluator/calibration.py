"""Judge calibration: how often does a model judge agree with the owner?

The owner's own judgements are the ground truth: PASS/FAIL marks ("does this explanation get the humour
mechanism right?") and blind A/B choices from the review UI, stored in the ``owner_labels`` table, or a
labels file (JSON list or JSONL) imported with `import_labels`. `calibrate` runs a judge on every labelled
item and reports agreement, Cohen's κ, and for PASS/FAIL the false-pass rate (judge PASS where the owner
said FAIL) and false-fail rate. A judge whose agreement is below ``min_agreement``, or that was checked on
fewer than ``min_labels`` items, is not calibrated and cannot gate a promotion unless overridden.

Label payloads (``owner_labels.payload_json``, or one line of a labels file with ``kind`` and
``correction_id`` beside them):

* ``pass_fail``: ``{"verdict": "PASS"|"FAIL", "candidate": text | "analysis_id": id, "reference"?: text}``
* ``pairwise``: ``{"choice": "a"|"b"|"tie", "a": text | "a_analysis_id": id, "b": … , "reference"?: text}``

``reference`` defaults to the correction's ``human_said``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from humortune._util import short_hash
from humortune.errors import EvaluationError
from humortune.evaluator.judge import MechanismJudge, PairwiseJudge
from humortune.schema import utcnow
from humortune.workspace import Corpus, Stores
from humortune.workspace.stores import EvaluationItem, EvaluationRecord

__all__ = [
    "CalibrationReport",
    "LabelKind",
    "OwnerLabel",
    "calibrate",
    "cohens_kappa",
    "import_labels",
    "latest_calibration",
    "load_labels",
    "read_labels_file",
    "save_calibration",
]

LabelKind = Literal["pass_fail", "pairwise"]
"""``pass_fail`` calibrates the mechanism judge, ``pairwise`` the preference judge."""

_PASS_WORDS = {"pass": "PASS", "passed": "PASS", "true": "PASS", "yes": "PASS", "ja": "PASS", "godkänd": "PASS"}
_FAIL_WORDS = {"fail": "FAIL", "failed": "FAIL", "false": "FAIL", "no": "FAIL", "nej": "FAIL", "underkänd": "FAIL"}
_CHOICES = {"a": "a", "b": "b", "tie": "tie", "oavgjort": "tie", "lika": "tie", "equal": "tie"}


@dataclass(frozen=True, slots=True)
class OwnerLabel:
    """One owner judgement, resolved to texts the judge can read.

    For ``pass_fail``: ``candidate`` is the judged text, ``owner`` is ``PASS``/``FAIL``. For ``pairwise``:
    ``a`` and ``b`` are the two texts as the owner saw them, ``owner`` is ``a``/``b``/``tie``.
    """

    kind: LabelKind
    key: str
    reference: str
    owner: str
    candidate: str = ""
    a: str = ""
    b: str = ""
    correction_id: str | None = None


@dataclass(slots=True)
class CalibrationReport:
    """Judge-vs-owner agreement on labelled items."""

    kind: LabelKind
    judge: str
    n: int
    agreement: float | None
    kappa: float | None
    false_pass_rate: float | None
    false_fail_rate: float | None
    confusion: dict[str, dict[str, int]]
    min_agreement: float
    min_labels: int
    items: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: utcnow().isoformat(timespec="seconds"))

    @property
    def calibrated(self) -> bool:
        """Enough labels, and agreement at or above the threshold."""
        return self.n >= self.min_labels and self.agreement is not None and self.agreement >= self.min_agreement

    @property
    def status(self) -> str:
        """One line for reports: calibrated, or why not."""
        if self.n < self.min_labels:
            return f"not calibrated: {self.n} owner label(s), need at least {self.min_labels}"
        if not self.calibrated:
            return f"not calibrated: agreement {self.agreement:.2f} < {self.min_agreement:.2f}"
        return f"calibrated: agreement {self.agreement:.2f} on {self.n} owner labels"

    def as_dict(self, *, with_items: bool = False) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "judge": self.judge,
            "n": self.n,
            "agreement": self.agreement,
            "kappa": self.kappa,
            "false_pass_rate": self.false_pass_rate,
            "false_fail_rate": self.false_fail_rate,
            "confusion": self.confusion,
            "min_agreement": self.min_agreement,
            "min_labels": self.min_labels,
            "calibrated": self.calibrated,
            "status": self.status,
            "created_at": self.created_at,
        }
        if with_items:
            data["items"] = self.items
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationReport:
        """Rebuild a stored report."""
        return cls(
            kind=data["kind"],
            judge=data["judge"],
            n=int(data["n"]),
            agreement=data.get("agreement"),
            kappa=data.get("kappa"),
            false_pass_rate=data.get("false_pass_rate"),
            false_fail_rate=data.get("false_fail_rate"),
            confusion=data.get("confusion", {}),
            min_agreement=float(data["min_agreement"]),
            min_labels=int(data["min_labels"]),
            items=list(data.get("items", [])),
            created_at=data.get("created_at", ""),
        )


def cohens_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's κ for (owner, judge) label pairs; ``None`` when undefined (both raters constant and equal)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    labels = {a for a, _ in pairs} | {b for _, b in pairs}
    expected = sum(
        (sum(1 for a, _ in pairs if a == label) / n) * (sum(1 for _, b in pairs if b == label) / n) for label in labels
    )
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def _report(
    kind: LabelKind, judge: str, rows: list[dict[str, Any]], *, min_agreement: float, min_labels: int
) -> CalibrationReport:
    pairs = [(r["owner"], r["judge"]) for r in rows]
    n = len(pairs)
    confusion: dict[str, dict[str, int]] = {}
    for owner, said in pairs:
        confusion.setdefault(owner, {})
        confusion[owner][said] = confusion[owner].get(said, 0) + 1
    false_pass = false_fail = None
    if kind == "pass_fail":
        owner_fail = [s for o, s in pairs if o == "FAIL"]
        owner_pass = [s for o, s in pairs if o == "PASS"]
        false_pass = sum(1 for s in owner_fail if s == "PASS") / len(owner_fail) if owner_fail else None
        false_fail = sum(1 for s in owner_pass if s == "FAIL") / len(owner_pass) if owner_pass else None
    return CalibrationReport(
        kind=kind,
        judge=judge,
        n=n,
        agreement=sum(1 for o, s in pairs if o == s) / n if n else None,
        kappa=cohens_kappa(pairs),
        false_pass_rate=false_pass,
        false_fail_rate=false_fail,
        confusion=confusion,
        min_agreement=min_agreement,
        min_labels=min_labels,
        items=rows,
    )


def calibrate(
    judge: MechanismJudge | PairwiseJudge,
    labels: Iterable[OwnerLabel],
    *,
    min_agreement: float = 0.8,
    min_labels: int = 20,
) -> CalibrationReport:
    """Run ``judge`` on every label of its kind and measure agreement with the owner.

    A `MechanismJudge` is checked on ``pass_fail`` labels, a `PairwiseJudge` on ``pairwise`` labels (in
    both orders, like in a comparison: the owner's A is the judge's candidate).
    """
    kind: LabelKind = "pass_fail" if isinstance(judge, MechanismJudge) else "pairwise"
    rows: list[dict[str, Any]] = []
    for label in labels:
        if label.kind != kind:
            continue
        said: str
        if isinstance(judge, MechanismJudge):
            verdict = judge.judge(candidate=label.candidate, reference=label.reference)
            said, reason = verdict.verdict, verdict.reason
        else:
            result = judge.compare(reference=label.reference, candidate=label.a, incumbent=label.b)
            said = {"win": "a", "loss": "b", "tie": "tie"}[result.outcome]
            reason = " | ".join(result.reasons)
        rows.append({"key": label.key, "owner": label.owner, "judge": said, "reason": reason})
    return _report(kind, judge.version, rows, min_agreement=min_agreement, min_labels=min_labels)


# -- reading labels ---------------------------------------------------------------------------------


def _text_or_analysis(corpus: Corpus | None, payload: dict[str, Any], text_keys: tuple[str, ...]) -> str:
    for key in text_keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            if key.endswith("analysis_id"):
                if corpus is None:
                    continue
                analysis = Stores.of(corpus.db).analyses.get(value)
                if analysis is not None:
                    return analysis.narrative
                continue
            return value
    return ""


def _normalise(
    corpus: Corpus | None, kind: str, correction_id: str | None, payload: dict[str, Any], key: str
) -> OwnerLabel | None:
    reference = payload.get("reference")
    if not (isinstance(reference, str) and reference.strip()) and corpus is not None and correction_id:
        correction = corpus.correction(correction_id)
        reference = correction.human_said if correction else None
    if not isinstance(reference, str) or not reference.strip():
        return None
    if kind == "pass_fail":
        raw = payload.get("verdict", payload.get("pass"))
        word = str(raw).strip().lower() if raw is not None else ""
        owner = _PASS_WORDS.get(word) or _FAIL_WORDS.get(word)
        candidate = _text_or_analysis(corpus, payload, ("candidate", "text", "analysis_id"))
        if owner is None or not candidate:
            return None
        return OwnerLabel("pass_fail", key, reference, owner, candidate=candidate, correction_id=correction_id)
    if kind == "pairwise":
        choice = _CHOICES.get(str(payload.get("choice", "")).strip().lower())
        a = _text_or_analysis(corpus, payload, ("a", "a_text", "a_analysis_id", "analysis_a"))
        b = _text_or_analysis(corpus, payload, ("b", "b_text", "b_analysis_id", "analysis_b"))
        if choice is None or not a or not b:
            return None
        return OwnerLabel("pairwise", key, reference, choice, a=a, b=b, correction_id=correction_id)
    return None


def load_labels(corpus: Corpus) -> list[OwnerLabel]:
    """Every usable owner label in the ``owner_labels`` table (unresolvable ones are skipped)."""
    out = []
    for stored in Stores.of(corpus.db).labels.all():
        label = _normalise(corpus, stored.kind, stored.correction_id, dict(stored.payload), f"label:{stored.id}")
        if label is not None:
            out.append(label)
    return out


def _file_items(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text("utf-8-sig")
    except OSError as exc:
        raise EvaluationError(f"cannot read the labels file: {exc.strerror}", item=str(path)) from exc
    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else data.get("labels", [])
    except json.JSONDecodeError:
        try:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise EvaluationError(
                f"the labels file is neither JSON nor JSONL (line {exc.lineno}): {exc.msg}",
                hint='write a JSON list of {"kind": "pass_fail"|"pairwise", "correction_id": …, …}',
                item=str(path),
            ) from exc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise EvaluationError("the labels file must hold a list of objects", item=str(path))
    return items


def read_labels_file(path: str | Path, corpus: Corpus | None = None) -> list[OwnerLabel]:
    """Labels from a JSON/JSONL file, without storing them."""
    out = []
    for i, item in enumerate(_file_items(Path(path))):
        payload = {k: v for k, v in item.items() if k not in ("kind", "correction_id")}
        label = _normalise(corpus, str(item.get("kind", "")), item.get("correction_id"), payload, f"file:{i}")
        if label is not None:
            out.append(label)
    return out


def import_labels(corpus: Corpus, path: str | Path) -> int:
    """Store a labels file's items in ``owner_labels`` (identical items are not stored twice)."""
    added = 0
    labels = Stores.of(corpus.db).labels
    with corpus.db.transaction():
        for item in _file_items(Path(path)):
            kind = str(item.get("kind", ""))
            if kind not in ("pass_fail", "pairwise"):
                raise EvaluationError(f"unknown label kind {kind!r}", hint="use pass_fail or pairwise", item=str(path))
            payload = {k: v for k, v in item.items() if k not in ("kind", "correction_id")}
            added += labels.add_once(kind, payload, correction_id=item.get("correction_id"))  # type: ignore[arg-type]
    return added


# -- stored calibrations ----------------------------------------------------------------------------


def save_calibration(corpus: Corpus, report: CalibrationReport) -> str:
    """Record a calibration (in ``evaluations``, id ``cal-…``) so the gate can find it; returns the id."""
    summary = report.as_dict()
    cal_id = "cal-" + short_hash([report.kind, report.judge, report.items])
    record = EvaluationRecord(id=cal_id, model=report.judge, created_at=utcnow(), summary=summary)
    items = [EvaluationItem(correction_id=item["key"], scores=item) for item in report.items]
    Stores.of(corpus.db).evaluations.replace(record, items)
    return cal_id


_MAX_CALIBRATIONS = 100_000


def latest_calibration(corpus: Corpus, kind: LabelKind, judge: str) -> CalibrationReport | None:
    """The most recent stored calibration of this judge (model@prompt-version) for this label kind."""
    # Every calibration of the judge, newest first (a judge has a handful; the limit only bounds a runaway).
    for record in Stores.of(corpus.db).evaluations.all(prefix="cal-", model=judge, limit=_MAX_CALIBRATIONS):
        if record.summary.get("kind") == kind:
            return CalibrationReport.from_dict(dict(record.summary))
    return None
