"""The feedback loop: the owner reviews model outputs in a browser, reviews become corrections, and
corrections become the next tuned model.

* `create_review_app` / `create_review_router`: the review web UI (queue, clip page with video, blind A/B,
  promotions), secured by a random token (`ReviewSecurity`). These need the ``ui`` extra (FastAPI) and
  load on first use.
* `ReviewStore`: save, accept, skip, tag and undo reviews (each save is a ``source="review"`` correction
  with a field-level diff).
* `ReviewQueue`: what to review next (disagreements, low judge scores, new analyses), one `ClipRow` per clip.
* `ClipAdder`: links or stored clips → downloaded, stored, analysed by the current model, in the background.
* `BlindAB`: blind pairwise choices stored as owner labels for judge calibration and promotion.
* `Retrainer` / `RetrainPolicy`: new corrections → next dataset → tuned candidate → evaluated → proposed.
* `NicheRouter`, `train_niches`, `niche_report`: per-niche models, routing with fallback, and where they win.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from humortune._lazy import lazy_getattr
from humortune.feedback.abtest import ABPair, ABTally, BlindAB, ab_tally
from humortune.feedback.addclips import AddJob, ClipAdder
from humortune.feedback.niches import NicheRouter, NicheStatus, Route, niche_report, train_niches
from humortune.feedback.promotions import Proposal, ProposalFigures, decide_proposal, pending_proposals
from humortune.feedback.queue import ClipRow, QueueFilter, QueueItem, QueuePage, ReviewQueue
from humortune.feedback.retrain import Retrainer, RetrainOutcome, RetrainPolicy, Triggers, leaked_examples
from humortune.feedback.review import Clip, ReviewResult, ReviewStore, field_diff

if TYPE_CHECKING:  # pragma: no cover
    from humortune.feedback.app import create_review_app as create_review_app
    from humortune.feedback.app import review_context as review_context
    from humortune.feedback.router import ReviewContext as ReviewContext
    from humortune.feedback.router import create_review_router as create_review_router
    from humortune.feedback.security import ReviewSecurity as ReviewSecurity

# FastAPI-dependent names, loaded on first access (PEP 562) so the rest works without the ``ui`` extra.
_LAZY = {
    "create_review_app": "humortune.feedback.app",
    "review_context": "humortune.feedback.app",
    "ReviewContext": "humortune.feedback.router",
    "create_review_router": "humortune.feedback.router",
    "ReviewSecurity": "humortune.feedback.security",
}

__all__ = [
    "ABPair",
    "ABTally",
    "AddJob",
    "BlindAB",
    "Clip",
    "ClipAdder",
    "ClipRow",
    "NicheRouter",
    "NicheStatus",
    "Proposal",
    "ProposalFigures",
    "QueueFilter",
    "QueueItem",
    "QueuePage",
    "RetrainOutcome",
    "RetrainPolicy",
    "Retrainer",
    "ReviewContext",
    "ReviewQueue",
    "ReviewResult",
    "ReviewSecurity",
    "ReviewStore",
    "Route",
    "Triggers",
    "ab_tally",
    "create_review_app",
    "create_review_router",
    "decide_proposal",
    "field_diff",
    "leaked_examples",
    "niche_report",
    "pending_proposals",
    "review_context",
    "train_niches",
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
