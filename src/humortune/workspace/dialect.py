"""The few SQL spellings where SQLite and PostgreSQL differ, one helper per difference.

Stores write portable SQL (``ON CONFLICT`` upserts, ``RETURNING``, ``IS DISTINCT FROM``, ISO-8601 text times) and
ask ``db.dialect`` for the rest, so no store branches on the engine. Placeholders stay ``?``/``:name``: the
PostgreSQL engine translates them (`to_pyformat`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["POSTGRESQL", "SQLITE", "Dialect", "to_pyformat"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """SQL fragments for one engine."""

    name: str

    def json_text(self, column: str, key: str) -> str:
        """The top-level ``key`` of a JSON text column, as text (NULL when missing)."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"not a plain JSON key: {key!r}")
        if self.name == "postgresql":
            return f"(({column})::jsonb ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def greatest(self, *expressions: str) -> str:
        """The largest of several expressions (SQLite's scalar ``MAX``)."""
        return f"{'GREATEST' if self.name == 'postgresql' else 'MAX'}({', '.join(expressions)})"

    @property
    def insertion_order(self) -> str:
        """A column ordering rows of ``evaluation_items`` as they were inserted."""
        return "seq" if self.name == "postgresql" else "rowid"


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")

# Quoted strings and identifiers are copied as they are; outside them ``?`` and ``:name`` become psycopg's
# ``%s`` and ``%(name)s``. ``%`` is doubled everywhere (psycopg parses it inside literals too); ``::`` casts stay.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``sql`` with qmark/named placeholders rewritten for psycopg."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1):
            return f"%({match.group(1)})s"
        return token.replace("%", "%%")

    return _TOKENS.sub(replace, sql)
