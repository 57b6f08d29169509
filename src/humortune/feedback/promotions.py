"""Promotions the owner confirms: what the retrain policy proposed, and the owner's yes or no.

The retrain policy never moves an alias. When a candidate passes the gate it appends a ``propose`` row to
``alias_history`` (through the evaluator's registry) with its evidence; the review UI lists those proposals
and the owner confirms (the alias moves, ``promote``) or rejects (``refuse``). Both decisions carry the
proposal's id in their evidence, which is how a proposal is known to be decided.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from humortune.errors import FeedbackError
from humortune.workspace import Corpus

__all__ = ["Proposal", "decide_proposal", "pending_proposals"]


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


def pending_proposals(corpus: Corpus) -> list[Proposal]:
    """Proposals not yet confirmed or rejected, and not already in effect; newest first, one per
    (alias, model)."""
    rows = corpus.db.query("SELECT * FROM alias_history WHERE action = 'propose' ORDER BY id DESC")
    decided = {
        int(r[0])
        for r in corpus.db.query(
            "SELECT CAST(json_extract(evidence_json, '$.proposal') AS INTEGER) FROM alias_history"
            " WHERE action IN ('promote', 'refuse') AND json_extract(evidence_json, '$.proposal') IS NOT NULL"
        )
    }
    current = {str(r["name"]): str(r["model_id"]) for r in corpus.db.query("SELECT name, model_id FROM aliases")}
    seen: set[tuple[str, str]] = set()
    out = []
    for row in rows:
        key = (str(row["name"]), str(row["model_id"]))
        if row["model_id"] is None or key in seen:
            continue
        seen.add(key)
        if int(row["id"]) in decided or current.get(key[0]) == key[1]:
            continue
        evidence: dict[str, Any] = json.loads(row["evidence_json"] or "{}")
        out.append(
            Proposal(
                id=int(row["id"]),
                alias=key[0],
                model_id=key[1],
                previous_id=row["previous_id"],
                evidence=evidence,
                created_at=str(row["created_at"]),
                summary=_summary(evidence),
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
