"""The ``aliases`` and ``alias_history`` tables: which model serves under a name, and every decision about it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from humortune.workspace.stores._base import Store, dumps, loads_dict, now_text, parse_time

__all__ = ["AliasAction", "AliasChange", "AliasStore", "ModelAlias"]

AliasAction = Literal["promote", "rollback", "propose", "refuse"]


class ModelAlias(BaseModel):
    """A name ("current", "niche:restaurant", …) and the model it points at."""

    model_config = ConfigDict(frozen=True)

    name: str
    model_id: str
    updated_at: datetime


class AliasChange(BaseModel):
    """One recorded decision about an alias, with its evidence."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    action: AliasAction
    model_id: str | None
    previous_id: str | None
    evidence: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime

    @property
    def proposal_id(self) -> int | None:
        """The proposal a promote/refuse answered (``evidence["proposal"]``), if any."""
        value = self.evidence.get("proposal")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


class AliasStore(Store):
    """Move aliases and keep their history. Moving never checks a gate: that is the caller's decision."""

    def target(self, name: str) -> str | None:
        """The model ``name`` points at, or ``None``."""
        row = self.db.query_one("SELECT model_id FROM aliases WHERE name = ?", (name,))
        return str(row["model_id"]) if row is not None else None

    def all(self) -> list[ModelAlias]:
        """Every alias, by name."""
        rows = self.db.query("SELECT name, model_id, updated_at FROM aliases ORDER BY name")
        return [ModelAlias(name=r[0], model_id=r[1], updated_at=parse_time(r[2])) for r in rows]

    def targets(self) -> dict[str, str]:
        """Every alias and its model."""
        return {a.name: a.model_id for a in self.all()}

    def move(self, name: str, model_id: str) -> None:
        """Point ``name`` at ``model_id`` (which must be registered)."""
        self.db.execute(
            "INSERT INTO aliases (name, model_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET model_id = excluded.model_id, updated_at = excluded.updated_at",
            (name, model_id, now_text()),
        )

    def record(
        self,
        action: AliasAction,
        *,
        name: str,
        model_id: str | None,
        previous_id: str | None,
        evidence: dict[str, Any] | None = None,
    ) -> AliasChange:
        """Append one decision to the history (without moving the alias)."""
        created = now_text()
        cursor = self.db.execute(
            "INSERT INTO alias_history (name, model_id, previous_id, action, evidence_json, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (name, model_id, previous_id, action, dumps(evidence or {}), created),
        )
        return AliasChange(
            id=int(cursor.fetchone()[0]),
            name=name,
            action=action,
            model_id=model_id,
            previous_id=previous_id,
            evidence=evidence or {},
            created_at=parse_time(created),
        )

    def history(self, name: str | None = None, *, limit: int = 100) -> list[AliasChange]:
        """Recorded decisions (of one alias, or all), newest first."""
        where, params = ("WHERE name = ?", (name,)) if name is not None else ("", ())
        rows = self.db.query(f"SELECT * FROM alias_history {where} ORDER BY id DESC LIMIT ?", (*params, int(limit)))
        return [_change(r) for r in rows]

    def last(self, name: str, *, actions: Iterable[AliasAction], model_id: str | None = None) -> AliasChange | None:
        """The newest decision on ``name`` among ``actions`` about ``model_id`` (without it: naming any model)."""
        wanted = sorted(set(actions))
        if not wanted:
            return None
        marks = ", ".join("?" * len(wanted))
        sql = f"SELECT * FROM alias_history WHERE name = ? AND action IN ({marks})"
        params: list[Any] = [name, *wanted]
        if model_id is not None:
            sql += " AND model_id = ?"
            params.append(model_id)
        else:
            sql += " AND model_id IS NOT NULL"
        row = self.db.query_one(sql + " ORDER BY id DESC LIMIT 1", params)
        return _change(row) if row is not None else None

    def proposals(self) -> list[AliasChange]:
        """Every ``propose`` decision, newest first."""
        rows = self.db.query("SELECT * FROM alias_history WHERE action = 'propose' ORDER BY id DESC")
        return [_change(r) for r in rows]

    def answered_proposals(self) -> set[int]:
        """Ids of proposals a later promote or refuse answered."""
        rows = self.db.query("SELECT * FROM alias_history WHERE action IN ('promote', 'refuse') ORDER BY id")
        return {p for p in (_change(r).proposal_id for r in rows) if p is not None}


def _change(row: Any) -> AliasChange:
    return AliasChange(
        id=int(row["id"]),
        name=row["name"],
        action=row["action"],
        model_id=row["model_id"],
        previous_id=row["previous_id"],
        evidence=loads_dict(row["evidence_json"]),
        created_at=parse_time(row["created_at"]),
    )
