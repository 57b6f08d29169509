"""The feedback loop: the owner reviews model outputs in a browser, reviews become corrections, and
corrections become the next tuned model.

* `create_review_app` / `create_review_router`: the review web UI (queue, clip page with video, blind A/B,
  promotions), secured by a random token (`ReviewSecurity`).
* `ReviewStore`: save, accept, skip, tag and undo reviews (each save is a ``source="review"`` correction
  with a field-level diff).
* `ReviewQueue`: what to review next (disagreements, low judge scores, new analyses).
* `BlindAB`: blind pairwise choices stored as owner labels for judge calibration and promotion.
"""

from __future__ import annotations

from humortune.feedback.abtest import ABPair, ABTally, BlindAB, ab_tally
from humortune.feedback.app import create_review_app, review_context
from humortune.feedback.promotions import Proposal, decide_proposal, pending_proposals
from humortune.feedback.queue import QueueFilter, QueueItem, QueuePage, ReviewQueue
from humortune.feedback.review import Clip, ReviewResult, ReviewStore, field_diff
from humortune.feedback.router import ReviewContext, create_review_router
from humortune.feedback.security import ReviewSecurity

__all__ = [
    "ABPair",
    "ABTally",
    "BlindAB",
    "Clip",
    "Proposal",
    "QueueFilter",
    "QueueItem",
    "QueuePage",
    "ReviewContext",
    "ReviewQueue",
    "ReviewResult",
    "ReviewSecurity",
    "ReviewStore",
    "ab_tally",
    "create_review_app",
    "create_review_router",
    "decide_proposal",
    "field_diff",
    "pending_proposals",
    "review_context",
]
