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
        _plain_key(key)
        if self.name == "postgresql":
            return f"(({column})::jsonb ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def greatest(self, *expressions: str) -> str:
        """The largest of several expressions (SQLite's scalar ``MAX``)."""
        return f"{'GREATEST' if self.name == 'postgresql' else 'MAX'}({', '.join(expressions)})"

    def json_values(self, column: str, *keys: str) -> str:
        """Several top-level ``keys`` of a JSON text column as one compact JSON array text (``null`` for a
        missing key); NULL when the column is NULL or not valid JSON, so no row can fail the query."""
        for key in keys:
            _plain_key(key)
        if self.name == "postgresql":
            return f"humortune_json_values({column}, ARRAY[{', '.join(repr(k) for k in keys)}])"
        paths = ", ".join(f"'$.{k}'" for k in keys)
        return f"CASE WHEN json_valid({column}) THEN json_extract({column}, {paths}) END"

    def json_number(self, column: str, *paths: str) -> str:
        """The first of these dotted ``paths`` with a non-null value in a JSON text column, as a number
        (``true`` 1, ``false`` 0)."""
        for path in paths:
            for part in path.split("."):
                _plain_key(part)
        if self.name == "postgresql":
            return f"humortune_json_number({column}, ARRAY[{', '.join(repr(p) for p in paths)}])"
        return f"COALESCE({', '.join(f'json_extract({column}, {chr(39)}$.{p}{chr(39)})' for p in paths)})"

    def char(self, code: int) -> str:
        """The one-character text of a code point."""
        return f"{'chr' if self.name == 'postgresql' else 'char'}({int(code)})"

    def position(self, needle: str, haystack: str) -> str:
        """Where ``needle`` first occurs in ``haystack`` (1-based, 0 when it does not): case-sensitive, unlike
        SQLite's LIKE."""
        return f"strpos({haystack}, {needle})" if self.name == "postgresql" else f"instr({haystack}, {needle})"

    def bytewise(self, expression: str) -> str:
        """``expression`` compared and sorted by code point, as SQLite always does (PostgreSQL would use the
        database's collation, which can ignore punctuation and control characters)."""
        return f'({expression}) COLLATE "C"' if self.name == "postgresql" else expression

    def sorted_by(self, column: str) -> str:
        """An ``ORDER BY`` term that has the engine sort ``column`` by code point after reading the rows in
        table order, rather than walk its index and visit the rows in random order (``+`` keeps SQLite off the
        index; on PostgreSQL the "C" collation is not the index's, and the planner weighs both)."""
        return self.bytewise(column) if self.name == "postgresql" else f"+{column}"

    def latest_per_group(self, columns: str, table: str, group: str, newest: str) -> str:
        """A ``SELECT`` of ``columns`` from the row of each ``group`` with the largest ``newest``."""
        if self.name == "postgresql":
            return f"SELECT DISTINCT ON ({group}) {columns} FROM {table} ORDER BY {group}, {self.bytewise(newest)} DESC"
        return f"SELECT {columns}, MAX({newest}) FROM {table} GROUP BY {group}"  # SQLite's bare-column rule

    def temp_table(self, name: str) -> str:
        """A connection-private TEMP table's qualified name."""
        return f"{'pg_temp' if self.name == 'postgresql' else 'temp'}.{name}"

    @property
    def real(self) -> str:
        """The column type of an 8-byte float (PostgreSQL's ``REAL`` has 4 bytes)."""
        return "DOUBLE PRECISION" if self.name == "postgresql" else "REAL"

    @property
    def insertion_order(self) -> str:
        """A column ordering rows of ``evaluation_items`` as they were inserted."""
        return "seq" if self.name == "postgresql" else "rowid"


def _plain_key(key: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise ValueError(f"not a plain JSON key: {key!r}")


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
