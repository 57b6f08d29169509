"""The ``offline_state`` table: small JSON documents by key, read and rewritten whole under the write lock.

The offline FakeGemini keeps its tuning and batch jobs here (one document per fake project), so every process
that shares the workspace database (the laptop, the deployed service) sees the same offline jobs and tuned
models. `edit` is a read-modify-write inside one write transaction, which holds the workspace's write lock
(SQLite ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock), so two processes creating jobs at once never lose
each other's update.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from humortune.errors import CorpusError
from humortune.workspace.stores._base import Store, dumps, now_text

__all__ = ["OfflineStateStore"]


class OfflineStateStore(Store):
    """Key → JSON object, for state that must be shared but has no schema of its own (the offline fake)."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The document under ``key`` as last committed, or ``None``."""
        row = self.db.query_one("SELECT value_json FROM offline_state WHERE key = ?", (key,))
        return _decode(key, row[0]) if row is not None else None

    @contextmanager
    def edit(self, key: str, *, default: Callable[[], dict[str, Any]] = dict) -> Iterator[dict[str, Any]]:
        """Yield the document under ``key`` (``default()`` when there is none) and store it as the block left it.

        The read and the write happen in one write transaction: no other writer runs in between, on any
        machine. An exception in the block rolls everything back. Nothing is written when nothing changed.
        """
        with self.db.transaction():
            row = self.db.query_one("SELECT value_json FROM offline_state WHERE key = ?", (key,))
            value = _decode(key, row[0]) if row is not None else default()
            before = row[0] if row is not None else None
            yield value
            text = dumps(value, sort_keys=False)
            if text != before:
                self.db.execute(
                    "INSERT INTO offline_state (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                    "DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at",
                    (key, text, now_text()),
                )

    def keys(self) -> list[str]:
        """Every key, sorted."""
        return [r[0] for r in self.db.query("SELECT key FROM offline_state ORDER BY key")]


def _decode(key: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CorpusError(
            f"the offline state {key!r} is not valid JSON ({exc})",
            hint="delete that row of offline_state to start the offline fake afresh",
            item=key,
        ) from None
    if not isinstance(value, dict):
        raise CorpusError(
            f"the offline state {key!r} is not a JSON object",
            hint="delete that row of offline_state to start the offline fake afresh",
            item=key,
        )
    return value
