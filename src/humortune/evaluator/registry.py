"""Registry aliases: which model is ``current`` (or ``niche:<name>``), and every change to that, with evidence.

Models live in the ``models`` table (the tuner fills it; base models are registered here on first use).
An alias points at one model; `promote`, `rollback`, and the gate's ``propose``/``refuse`` decisions are
appended to ``alias_history`` with their evidence (the gate decision, evaluation id, report path, who
confirmed). Rolling back restores the model that was current before the current one was promoted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from humortune.errors import EvaluationError
from humortune.schema import utcnow
from humortune.workspace import Corpus

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


def _now() -> str:
    return utcnow().isoformat(timespec="microseconds")


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

    # -- models -----------------------------------------------------------------------------------

    def has_model(self, model_id: str) -> bool:
        """Whether ``model_id`` is registered."""
        return self.corpus.db.query_one("SELECT 1 FROM models WHERE id = ?", (model_id,)) is not None

    def base_model_of(self, model_id: str) -> str | None:
        """The base model a registered model was tuned from."""
        row = self.corpus.db.query_one("SELECT base_model FROM models WHERE id = ?", (model_id,))
        return str(row["base_model"]) if row else None

    def ensure_model(self, model_id: str) -> None:
        """Make sure ``model_id`` can be aliased: base models are registered on the fly, tuned ones must exist."""
        if self.has_model(model_id):
            return
        if _BASE_MODEL.match(model_id):
            self.corpus.db.execute(
                "INSERT OR IGNORE INTO models (id, base_model, created_at) VALUES (?, ?, ?)",
                (model_id, model_id.rsplit("/", 1)[-1], _now()),
            )
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
        row = self.corpus.db.query_one("SELECT model_id FROM aliases WHERE name = ?", (alias,))
        return str(row["model_id"]) if row else None

    def aliases(self) -> dict[str, str]:
        """Every alias and its model."""
        return {r["name"]: r["model_id"] for r in self.corpus.db.query("SELECT * FROM aliases ORDER BY name")}

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
        created = _now()
        with self.corpus.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO alias_history (name, model_id, previous_id, action, evidence_json, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (alias, model_id, previous_id, action, json.dumps(evidence or {}, ensure_ascii=False), created),
            )
            event_id = int(cursor.lastrowid or 0)
        return AliasEvent(event_id, alias, action, model_id, previous_id, evidence or {}, created)

    def _move(
        self, action: AliasAction, alias: str, model_id: str, evidence: dict[str, Any], before: str | None = None
    ) -> AliasEvent:
        self.ensure_model(model_id)
        with self.corpus.db.transaction() as conn:
            previous = self.current(alias) or before
            conn.execute(
                "INSERT INTO aliases (name, model_id, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET model_id = excluded.model_id, updated_at = excluded.updated_at",
                (alias, model_id, _now()),
            )
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
        row = self.corpus.db.query_one(
            "SELECT previous_id FROM alias_history WHERE name = ? AND action = 'promote' AND model_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (alias, current),
        )
        return str(row["previous_id"]) if row and row["previous_id"] else None

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
        if to is not None:
            was = self.corpus.db.query_one(
                "SELECT 1 FROM alias_history WHERE name = ? AND model_id = ? AND action IN ('promote', 'rollback')",
                (alias, to),
            )
            if was is None:
                raise EvaluationError(
                    f"{to!r} was never {alias!r}", hint="roll back only to a model that held the alias", item=to
                )
        if target == current:
            raise EvaluationError(f"{target!r} is already {alias!r}", item=alias)
        return self._move("rollback", alias, target, {"rolled_back": current, **(evidence or {})})

    def history(self, alias: str | None = None, *, limit: int = 100) -> list[AliasEvent]:
        """Recorded decisions, newest first."""
        sql = "SELECT * FROM alias_history"
        params: tuple[Any, ...] = ()
        if alias is not None:
            sql += " WHERE name = ?"
            params = (alias,)
        rows = self.corpus.db.query(sql + " ORDER BY id DESC LIMIT ?", (*params, int(limit)))
        return [
            AliasEvent(
                id=int(r["id"]),
                name=r["name"],
                action=r["action"],
                model_id=r["model_id"],
                previous_id=r["previous_id"],
                evidence=json.loads(r["evidence_json"] or "{}"),
                created_at=r["created_at"],
            )
            for r in rows
        ]
