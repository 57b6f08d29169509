"""Registry aliases: which model is ``current`` (or ``niche:<name>``), and every change to that, with evidence.

Models live in the ``models`` table (the tuner fills it; base models are registered here on first use).
An alias points at one model; `promote`, `rollback`, and the gate's ``propose``/``refuse`` decisions are
appended to ``alias_history`` with their evidence (the gate decision, evaluation id, report path, who
confirmed). Rolling back restores the model that was current before the current one was promoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from humortune.errors import EvaluationError
from humortune.workspace import Corpus, Stores
from humortune.workspace.stores import AliasChange

__all__ = ["DEFAULT_ALIAS", "AliasAction", "AliasEvent", "AliasRegistry"]

DEFAULT_ALIAS = "current"
"""The alias analysis and review use by default."""

AliasAction = Literal["promote", "rollback", "propose", "refuse"]
"""What happened to an alias: moved (promote, rollback) or only considered (propose, refuse)."""

_BASE_MODEL = re.compile(r"^(?:publishers/google/models/)?gemini-[A-Za-z0-9.\-]+$")


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One row of ``alias_history``."""

    id: int
    name: str
    action: AliasAction
    model_id: str | None
    previous_id: str | None
    evidence: dict[str, Any]
    created_at: str

    @classmethod
    def of(cls, change: AliasChange) -> AliasEvent:
        """The event a store's `AliasChange` records (its time as the stored ISO text)."""
        return cls(
            id=change.id,
            name=change.name,
            action=change.action,
            model_id=change.model_id,
            previous_id=change.previous_id,
            evidence=dict(change.evidence),
            created_at=change.created_at.isoformat(timespec="microseconds"),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "action": self.action,
            "model_id": self.model_id,
            "previous_id": self.previous_id,
            "evidence": self.evidence,
            "created_at": self.created_at,
        }


class AliasRegistry:
    """Aliases over the ``models`` table.

    ```python
    registry = AliasRegistry(corpus)
    registry.current()                      # model id or None
    registry.promote("projects/…/models/7@1", evidence={...})
    registry.rollback()
    ```
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.stores = Stores.of(corpus.db)

    # -- models -----------------------------------------------------------------------------------

    def has_model(self, model_id: str) -> bool:
        """Whether ``model_id`` is registered."""
        return self.stores.models.exists(model_id)

    def base_model_of(self, model_id: str) -> str | None:
        """The base model a registered model was tuned from."""
        model = self.stores.models.get(model_id)
        return model.base_model if model is not None else None

    def ensure_model(self, model_id: str) -> None:
        """Make sure ``model_id`` can be aliased: base models are registered on the fly, tuned ones must exist."""
        if self.has_model(model_id):
            return
        if _BASE_MODEL.match(model_id):
            self.stores.models.ensure(model_id, base_model=model_id.rsplit("/", 1)[-1])
            return
        raise EvaluationError(
            f"model {model_id!r} is not in the registry",
            hint="tune it with humortune (the tuner registers it) or pass a base model name",
            item=model_id,
        )

    def resolve(self, name: str) -> str:
        """An alias's model id, a registered model's id (endpoint, short id → id), or the name itself."""
        from humortune.tuner.registry import match_model

        found = match_model(self.corpus.db, name)
        return found.model.id if found is not None else name

    # -- aliases ----------------------------------------------------------------------------------

    def current(self, alias: str = DEFAULT_ALIAS) -> str | None:
        """The model an alias points at, or ``None`` if nothing was promoted yet."""
        return self.stores.aliases.target(alias)

    def aliases(self) -> dict[str, str]:
        """Every alias and its model."""
        return self.stores.aliases.targets()

    def record(
        self,
        action: AliasAction,
        *,
        alias: str = DEFAULT_ALIAS,
        model_id: str | None,
        previous_id: str | None,
        evidence: dict[str, Any] | None = None,
    ) -> AliasEvent:
        """Append one decision to ``alias_history`` without moving the alias (``propose``/``refuse``)."""
        with self.corpus.db.transaction():
            change = self.stores.aliases.record(
                action, name=alias, model_id=model_id, previous_id=previous_id, evidence=evidence
            )
        return AliasEvent.of(change)

    def _move(
        self, action: AliasAction, alias: str, model_id: str, evidence: dict[str, Any], before: str | None = None
    ) -> AliasEvent:
        self.ensure_model(model_id)
        with self.corpus.db.transaction():
            previous = self.current(alias) or before
            self.stores.aliases.move(alias, model_id)
            return self.record(action, alias=alias, model_id=model_id, previous_id=previous, evidence=evidence)

    def promote(
        self,
        model_id: str,
        *,
        alias: str = DEFAULT_ALIAS,
        evidence: dict[str, Any] | None = None,
        replacing: str | None = None,
    ) -> AliasEvent:
        """Point ``alias`` at ``model_id`` and record why. Gate and confirmation are the caller's job.

        ``replacing`` names what served before when the alias was never set (usually the base model the
        candidate was compared with), so the first promotion can be rolled back to it.
        """
        if self.current(alias) == model_id:
            raise EvaluationError(
                f"{model_id!r} is already {alias!r}", hint="nothing to do; see `humortune rollback`", item=model_id
            )
        if replacing is not None and self.current(alias) is None:
            self.ensure_model(replacing)
        return self._move("promote", alias, model_id, evidence or {}, before=replacing)

    def previous(self, alias: str = DEFAULT_ALIAS) -> str | None:
        """The model that was current before the current one was promoted (the rollback target)."""
        current = self.current(alias)
        if current is None:
            return None
        last = self.stores.aliases.last(alias, actions=["promote"], model_id=current)
        return last.previous_id if last is not None and last.previous_id else None

    def rollback(
        self, *, alias: str = DEFAULT_ALIAS, to: str | None = None, evidence: dict[str, Any] | None = None
    ) -> AliasEvent:
        """Restore the previous model (or ``to``, one that was ``alias`` before), recorded with evidence."""
        current = self.current(alias)
        if current is None:
            raise EvaluationError(f"alias {alias!r} was never promoted", hint="nothing to roll back", item=alias)
        target = to or self.previous(alias)
        if target is None:
            raise EvaluationError(
                f"{current!r} is the first model promoted to {alias!r}; there is nothing before it",
                hint="promote another model instead",
                item=alias,
            )
        if to is not None and self.stores.aliases.last(alias, actions=["promote", "rollback"], model_id=to) is None:
            raise EvaluationError(
                f"{to!r} was never {alias!r}", hint="roll back only to a model that held the alias", item=to
            )
        if target == current:
            raise EvaluationError(f"{target!r} is already {alias!r}", item=alias)
        return self._move("rollback", alias, target, {"rolled_back": current, **(evidence or {})})

    def history(self, alias: str | None = None, *, limit: int = 100) -> list[AliasEvent]:
        """Recorded decisions, newest first."""
        return [AliasEvent.of(change) for change in self.stores.aliases.history(alias, limit=limit)]
