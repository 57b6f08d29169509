"""Reference metrics: how close a model's answer is to the owner's correction, with no model in the loop.

* `chrf`: character n-gram F-score (sacrebleu's chrF, 0–100). Character n-grams suit Swedish, whose
  compounds and inflections defeat word matching.
* `rouge_l`: ROUGE-L F1 over Unicode word tokens (0–1), with our own LCS (see `_tokens` for why).
* `score_record`: per-field agreement between a model's `HumorRecord` and the owner's: exact match for
  ``category``, ``quality`` and ``replicable``; chrF similarity (0–1) for the free-text fields.
* `ConfusionMatrix` and `FieldAccuracy`: the aggregates the report shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sacrebleu.metrics.chrf import CHRF

from humortune.schema import Category, HumorRecord, Quality

__all__ = [
    "ENUM_FIELDS",
    "MISSING",
    "TEXT_FIELDS",
    "ConfusionMatrix",
    "FieldAccuracy",
    "RecordScore",
    "chrf",
    "lcs_length",
    "rouge_l",
    "score_record",
    "tokens",
]

TEXT_FIELDS: tuple[str, ...] = ("summary", "mechanism", "why_it_works", "audience")
"""Free-text record fields, scored by chrF similarity."""
ENUM_FIELDS: tuple[str, ...] = ("category", "quality", "replicable")
"""Closed-set record fields, scored by exact match."""
MISSING = "(missing)"
"""The label used when a model gave no record (or no value) where the owner gave one."""

_CHRF = CHRF()  # chrF default: char order 6, beta 2, case-sensitive, whitespace ignored
# \w is Unicode-aware in Python 3: å, ä, ö, é … are word characters, digits too.
_WORD = re.compile(r"\w+")


def chrf(hypothesis: str, reference: str) -> float:
    """chrF (0–100) of ``hypothesis`` against one ``reference``; 0 when either is empty."""
    if not hypothesis.strip() or not reference.strip():
        return 0.0
    return float(_CHRF.sentence_score(hypothesis, [reference]).score)


def tokens(text: str) -> list[str]:
    """Lower-cased Unicode word tokens.

    rouge-score's default tokenizer replaces every character outside ``[a-z0-9]`` with a space, so
    "häcken" becomes "h", "cken" and Swedish text scores as noise. Python's ``\\w`` keeps å/ä/ö.
    """
    return _WORD.findall(text.lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences.

    Bit-parallel (Hyyrö 2004): one big-integer update per token of ``b`` instead of a |a|×|b| table, so
    scoring thousands of narratives stays fast in pure Python. Equal to the textbook dynamic programme.
    """
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(hypothesis: str, reference: str) -> float:
    """ROUGE-L F1 (0–1) over `tokens`: 2PR/(P+R) with P = LCS/|hyp|, R = LCS/|ref|."""
    hyp, ref = tokens(hypothesis), tokens(reference)
    lcs = lcs_length(ref, hyp)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def _label(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Category | Quality):
        return value.value
    return str(value)


@dataclass(frozen=True, slots=True)
class RecordScore:
    """How one model record agrees with the owner's, field by field.

    ``exact`` maps ``category``/``quality``/``replicable`` to 1.0 or 0.0; ``similarity`` maps the
    text fields to chrF/100. ``labels`` keeps (owner, model) for the confusion matrices.
    """

    exact: dict[str, float]
    similarity: dict[str, float]
    labels: dict[str, tuple[str, str]]
    missing: bool = False

    @property
    def mean(self) -> float:
        """Mean of every field score: exact matches and text similarities weigh the same."""
        values = [*self.exact.values(), *self.similarity.values()]
        return sum(values) / len(values)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "exact": dict(self.exact),
            "similarity": {k: round(v, 6) for k, v in self.similarity.items()},
            "labels": {k: list(v) for k, v in self.labels.items()},
            "missing": self.missing,
            "mean": round(self.mean, 6),
        }


def score_record(
    model: HumorRecord | None, owner: HumorRecord, *, similarity: Callable[[str, str], float] = chrf
) -> RecordScore:
    """Score a model's record against the owner's. A missing model record scores 0 on every field.

    ``similarity`` is chrF (0–100) of a model's text field against the owner's, or a cached lookup of it.
    """
    labels = {f: (_label(getattr(owner, f)), _label(getattr(model, f) if model else None)) for f in ENUM_FIELDS}
    if model is None:
        return RecordScore(
            exact=dict.fromkeys(ENUM_FIELDS, 0.0),
            similarity=dict.fromkeys(TEXT_FIELDS, 0.0),
            labels=labels,
            missing=True,
        )
    exact = {f: float(getattr(model, f) == getattr(owner, f)) for f in ENUM_FIELDS}
    texts = {f: similarity(getattr(model, f), getattr(owner, f)) / 100 for f in TEXT_FIELDS}
    return RecordScore(exact=exact, similarity=texts, labels=labels)


@dataclass(slots=True)
class ConfusionMatrix:
    """Counts of (owner label, model label) for one closed-set field.

    Rows are the owner's labels, columns the model's; `MISSING` is a column when a model gave no record.
    """

    labels: list[str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def for_field(cls, name: str) -> ConfusionMatrix:
        """An empty matrix with the field's full label set (so absent classes still show as zeros)."""
        if name == "category":
            labels = [c.value for c in Category]
        elif name == "quality":
            labels = [q.value for q in Quality]
        else:
            labels = ["true", "false"]
        return cls(labels=labels)

    def add(self, owner: str, model: str) -> None:
        """Count one pair; unseen labels (e.g. `MISSING`) extend the label set."""
        for label in (owner, model):
            if label not in self.labels:
                self.labels.append(label)
        row = self.counts.setdefault(owner, {})
        row[model] = row.get(model, 0) + 1

    def count(self, owner: str, model: str) -> int:
        """How often the owner said ``owner`` and the model said ``model``."""
        return self.counts.get(owner, {}).get(model, 0)

    @property
    def total(self) -> int:
        """Number of pairs counted."""
        return sum(sum(row.values()) for row in self.counts.values())

    @property
    def accuracy(self) -> float | None:
        """Share of pairs on the diagonal; ``None`` when empty."""
        total = self.total
        if not total:
            return None
        return sum(self.count(label, label) for label in self.labels) / total

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: labels and a dense matrix (rows: owner, columns: model)."""
        return {
            "labels": list(self.labels),
            "matrix": [[self.count(o, m) for m in self.labels] for o in self.labels],
            "total": self.total,
            "accuracy": self.accuracy,
        }


@dataclass(slots=True)
class FieldAccuracy:
    """Aggregate record agreement for one system over many clips."""

    n: int = 0
    missing: int = 0
    exact: dict[str, float] = field(default_factory=dict)
    similarity: dict[str, float] = field(default_factory=dict)
    confusion: dict[str, ConfusionMatrix] = field(default_factory=dict)

    @classmethod
    def from_scores(cls, scores: Iterable[RecordScore]) -> FieldAccuracy:
        """Accuracy per closed field, mean similarity per text field, confusion matrices."""
        result = cls(confusion={f: ConfusionMatrix.for_field(f) for f in ENUM_FIELDS})
        sums_exact = dict.fromkeys(ENUM_FIELDS, 0.0)
        sums_sim = dict.fromkeys(TEXT_FIELDS, 0.0)
        for score in scores:
            result.n += 1
            result.missing += int(score.missing)
            for f in ENUM_FIELDS:
                sums_exact[f] += score.exact[f]
                result.confusion[f].add(*score.labels[f])
            for f in TEXT_FIELDS:
                sums_sim[f] += score.similarity[f]
        if result.n:
            result.exact = {f: v / result.n for f, v in sums_exact.items()}
            result.similarity = {f: v / result.n for f, v in sums_sim.items()}
        return result

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "n": self.n,
            "missing": self.missing,
            "accuracy": dict(self.exact),
            "similarity": dict(self.similarity),
            "confusion": {f: m.as_dict() for f, m in self.confusion.items() if f != "replicable"},
        }
