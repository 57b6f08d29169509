"""The ``owner_labels`` table: the owner's blind A/B choices and PASS/FAIL marks (judge calibration)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from humortune._util import canonical_json
from humortune.workspace.stores._base import Store, loads_dict, now_text, parse_time

__all__ = ["LabelKind", "LabelStore", "StoredLabel"]

LabelKind = Literal["pairwise", "pass_fail"]


class StoredLabel(BaseModel):
    """One owner label as stored; its payload's meaning belongs to the evaluator."""

    model_config = ConfigDict(frozen=True)

    id: int
    kind: str
    correction_id: str | None = None
    video_sha256: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class LabelStore(Store):
    """Add, find and remove owner labels. Payloads are stored as canonical JSON, so equal labels compare equal."""

    def add(
        self,
        kind: LabelKind,
        payload: Mapping[str, Any],
        *,
        correction_id: str | None = None,
        video_sha256: str | None = None,
    ) -> int:
        """Store one label; returns its id."""
        cursor = self.db.execute(
            "INSERT INTO owner_labels (kind, correction_id, video_sha256, payload_json, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (kind, correction_id, video_sha256, canonical_json(dict(payload)), now_text()),
        )
        return int(cursor.fetchone()[0])

    def add_once(self, kind: LabelKind, payload: Mapping[str, Any], *, correction_id: str | None = None) -> bool:
        """Store a label unless an identical one (kind, correction, payload) is there; whether it was added."""
        with self.db.transaction():
            found = self.db.query_one(
                "SELECT 1 FROM owner_labels WHERE kind = ? AND correction_id IS NOT DISTINCT FROM ?"
                " AND payload_json = ?",
                (kind, correction_id, canonical_json(dict(payload))),
            )
            if found is not None:
                return False
            self.add(kind, payload, correction_id=correction_id)
            return True

    def all(self, *, kind: LabelKind | None = None) -> list[StoredLabel]:
        """Every label (optionally of one kind), oldest first."""
        where, params = ("WHERE kind = ?", (kind,)) if kind is not None else ("", ())
        return [_label(r) for r in self.db.query(f"SELECT * FROM owner_labels {where} ORDER BY id", params)]

    def pairwise(self, pair_key: str, *, video_sha256: str | None = None) -> list[StoredLabel]:
        """Pairwise labels for one model pair (``payload.pair_key``), optionally of one clip, oldest first."""
        pair_key_of = self.db.dialect.json_text("payload_json", "pair_key")
        sql = f"SELECT * FROM owner_labels WHERE kind = 'pairwise' AND {pair_key_of} = ?"
        params: tuple[Any, ...] = (pair_key,)
        if video_sha256 is not None:
            sql, params = sql + " AND video_sha256 = ?", (pair_key, video_sha256)
        return [_label(r) for r in self.db.query(sql + " ORDER BY id", params)]

    def delete(self, label_id: int) -> bool:
        """Remove one label (an undone review); whether it existed."""
        return self.db.execute("DELETE FROM owner_labels WHERE id = ?", (int(label_id),)).rowcount > 0

    def counts(self) -> dict[str, int]:
        """How many labels of each kind."""
        rows = self.db.query("SELECT kind, COUNT(*) FROM owner_labels GROUP BY kind ORDER BY kind")
        return {str(r[0]): int(r[1]) for r in rows}


def _label(row: Any) -> StoredLabel:
    return StoredLabel(
        id=int(row["id"]),
        kind=row["kind"],
        correction_id=row["correction_id"],
        video_sha256=row["video_sha256"],
        payload=loads_dict(row["payload_json"]),
        created_at=parse_time(row["created_at"]),
    )
