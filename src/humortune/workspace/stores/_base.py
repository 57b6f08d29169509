"""What every store shares: the database it owns tables in, and the column codecs.

Stores translate between rows and typed values here and nowhere else, so a later engine (SQLAlchemy Core on
SQLite or PostgreSQL) changes this layer only: callers see pydantic models, `str`, `int` and `datetime`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from humortune.schema import utcnow
from humortune.workspace.db import Database

__all__ = [
    "Store",
    "dumps",
    "like_prefix",
    "loads",
    "loads_dict",
    "now_text",
    "nul_path",
    "parse_time",
    "time_text",
]


class Store:
    """A typed owner of some workspace tables. Calls join an enclosing ``db.transaction()``."""

    def __init__(self, db: Database) -> None:
        self.db = db


def now_text() -> str:
    """The current time as the workspace stores it (ISO 8601, microseconds, UTC)."""
    return utcnow().isoformat(timespec="microseconds")


def time_text(value: datetime) -> str:
    """A datetime as the workspace stores it."""
    return value.isoformat(timespec="microseconds")


def parse_time(value: str) -> datetime:
    """A stored time back as a datetime."""
    return datetime.fromisoformat(value)


def dumps(value: Any, *, sort_keys: bool = True) -> str:
    """JSON for a ``*_json`` column: stable key order (or the caller's, ``sort_keys=False``), unicode kept,
    unknown types as text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, default=str)


def loads(text: str | None, default: Any) -> Any:
    """A ``*_json`` column decoded, ``default`` when it is NULL or empty."""
    return json.loads(text) if text else default


def loads_dict(text: str | None) -> dict[str, Any]:
    """A ``*_json`` column holding an object ({} when NULL or not an object)."""
    value = loads(text, {})
    return dict(value) if isinstance(value, Mapping) else {}


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching ``prefix`` literally, followed by anything (use with ``ESCAPE '\\'``)."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def nul_path(value: Any, at: str = "") -> str | None:
    """Where a JSON-like value holds a NUL character (U+0000) in a text or a key (``record.summary``,
    ``tags[2]``; ``at`` alone for a bare text), or ``None``.

    The workspace refuses NUL in what it stores on both engines: PostgreSQL text cannot hold it, and its JSON
    functions fail on a whole row whose JSON text holds a ``\\u0000`` escape anywhere."""
    if isinstance(value, str):
        return (at or "text") if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{at}.{key}" if at else str(key)
            if "\x00" in str(key):
                return where
            found = nul_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = nul_path(item, f"{at}[{index}]")
            if found is not None:
                return found
    return None
