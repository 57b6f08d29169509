"""Blind A/B: the owner picks the better of two models' outputs for one clip, without knowing which is which.

A pair is two analyses of the same clip by two models, shown in random order as "A" (left) and "B" (right)
with no model names. The page carries only an opaque, signed pair token; the server resolves it when the
owner chooses. The choice is stored in ``owner_labels`` (``kind="pairwise"``) in the payload shape the
evaluator's judge calibration reads::

    {"choice": "a" | "b" | "tie", "a_analysis_id": …, "b_analysis_id": …,   # as the owner saw them
     "a_model": …, "b_model": …, "winner": model | null, "pair_key": …, "source": "review-ab"}

`ab_tally` counts those choices per model pair, for the promotion evidence.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
from dataclasses import dataclass
from typing import Literal

from humortune.errors import FeedbackError
from humortune.feedback.review import load_analysis
from humortune.schema import Analysis
from humortune.workspace import Corpus, Stores

__all__ = ["ABChoice", "ABPair", "ABTally", "BlindAB", "ab_tally", "pair_key"]

ABChoice = Literal["a", "b", "tie"]
"""What the owner preferred: the left output (``a``), the right one (``b``), or neither (``tie``)."""
_CANDIDATES = 50  # pick the next pair at random among this many unlabelled clips


def pair_key(model_a: str, model_b: str) -> str:
    """An order-free key for a pair of models (the same for (a, b) and (b, a))."""
    first, second = sorted((model_a, model_b))
    return f"{first}\x1f{second}"


@dataclass(frozen=True, slots=True)
class ABPair:
    """Two outputs for one clip, in the order the owner sees them. ``token`` is all the page may carry."""

    token: str
    video_sha256: str
    a: Analysis
    b: Analysis

    @property
    def with_records(self) -> bool:
        """Whether both sides show their structured record. A record on one side only would give the model
        away, so then both sides show their narratives only."""
        return self.a.record is not None and self.b.record is not None


@dataclass(frozen=True, slots=True)
class ABTally:
    """The owner's blind choices between two models."""

    model_a: str
    model_b: str
    wins_a: int
    wins_b: int
    ties: int

    @property
    def n(self) -> int:
        """Choices made."""
        return self.wins_a + self.wins_b + self.ties

    @property
    def win_rate_a(self) -> float | None:
        """Share of choices won by ``model_a``, ties counting half; ``None`` with no choices."""
        return (self.wins_a + 0.5 * self.ties) / self.n if self.n else None


class BlindAB:
    """Serve blind pairs and record the owner's choices.

    ``key`` signs pair tokens (the review app derives it from its secret); ``rng`` decides which clip and
    which side, so tests can seed it.
    """

    def __init__(self, corpus: Corpus, *, key: bytes | None = None, rng: random.Random | None = None) -> None:
        self.corpus = corpus
        self.stores = Stores.of(corpus.db)
        self._key = key or secrets.token_bytes(32)
        self._rng = rng or random.SystemRandom()

    # -- models -----------------------------------------------------------------------------------

    def default_models(self) -> tuple[str, str] | None:
        """The pair worth comparing: ``current`` against the newest proposed candidate; else the two models
        with the most recent analyses that share a clip."""
        current = self.stores.aliases.target("current")
        proposed = self.stores.aliases.last("current", actions=["propose"])
        if current is not None and proposed is not None and proposed.model_id and current != proposed.model_id:
            return current, proposed.model_id
        return self.stores.analyses.latest_shared_models()

    # -- pairs ------------------------------------------------------------------------------------

    def next_pair(self, model_a: str, model_b: str, *, exclude: str | None = None) -> ABPair | None:
        """A clip both models analysed that the owner has not judged for this pair yet, in random order."""
        if model_a == model_b:
            raise FeedbackError("pick two different models", item=model_a)
        rows = self.stores.analyses.unjudged_pairs(
            model_a, model_b, pair_key=pair_key(model_a, model_b), exclude=exclude, limit=_CANDIDATES
        )
        if not rows:
            return None
        row = self._rng.choice(rows)
        first, second = load_analysis(self.corpus, row.first_id), load_analysis(self.corpus, row.second_id)
        if first is None or second is None:  # pragma: no cover - rows were just read
            return None
        if self._rng.random() < 0.5:
            first, second = second, first
        assert first.id is not None and second.id is not None
        return ABPair(self._sign(first.id, second.id), row.video_sha256, first, second)

    def resolve(self, token: str) -> tuple[Analysis, Analysis]:
        """The (A, B) analyses a token names. Raises `FeedbackError` for a forged or stale token."""
        body, _, signature = token.rpartition(".")
        expected = self._mac(body)
        if not body or not hmac.compare_digest(signature.encode(), expected.encode()):
            raise FeedbackError("this comparison expired or was tampered with", hint="reload the A/B page")
        try:
            ids = json.loads(base64.urlsafe_b64decode(body.encode() + b"=" * (-len(body) % 4)))
            first, second = load_analysis(self.corpus, ids[0]), load_analysis(self.corpus, ids[1])
        except (ValueError, IndexError, TypeError) as exc:
            raise FeedbackError("unreadable comparison token", hint="reload the A/B page") from exc
        if first is None or second is None:
            raise FeedbackError("an output of this comparison is gone", hint="reload the A/B page")
        return first, second

    def record(self, token: str, choice: ABChoice) -> int:
        """Store the owner's choice for a pair (idempotent per pair); returns the ``owner_labels`` id."""
        if choice not in ("a", "b", "tie"):
            raise FeedbackError(f"unknown choice {choice!r}", hint="choose a, b or tie", item="choice")
        a, b = self.resolve(token)
        winner = {"a": a.model, "b": b.model, "tie": None}[choice]
        key = pair_key(a.model, b.model)
        with self.corpus.db.transaction():
            existing = [
                label
                for label in self.stores.labels.pairwise(key, video_sha256=a.video_sha256)
                if label.video_sha256 == a.video_sha256  # a clip without a hash matches only hashless labels
            ]
            if existing:
                return existing[0].id
            ref = self.stores.corrections.latest_for_clip(a.video_sha256) if a.video_sha256 else None
            payload = {
                "choice": choice,
                "a_analysis_id": a.id,
                "b_analysis_id": b.id,
                "a_model": a.model,
                "b_model": b.model,
                "winner": winner,
                "pair_key": key,
                "source": "review-ab",
            }
            return self.stores.labels.add(
                "pairwise", payload, correction_id=ref.id if ref is not None else None, video_sha256=a.video_sha256
            )

    # -- tokens -----------------------------------------------------------------------------------

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def _sign(self, first: str, second: str) -> str:
        body = base64.urlsafe_b64encode(json.dumps([first, second]).encode()).decode().rstrip("=")
        return f"{body}.{self._mac(body)}"


def ab_tally(corpus: Corpus, model_a: str, model_b: str) -> ABTally:
    """The owner's blind choices between two models, from every pairwise label that names both."""
    wins = {model_a: 0, model_b: 0}
    ties = 0
    for label in Stores.of(corpus.db).labels.pairwise(pair_key(model_a, model_b)):
        winner = label.payload.get("winner")
        if winner is None:
            ties += 1
        elif winner in wins:
            wins[winner] += 1
    return ABTally(model_a, model_b, wins[model_a], wins[model_b], ties)
