"""The workspace on PostgreSQL (``HUMORTUNE_DATABASE_URL=postgresql://…``): SQLAlchemy Core with psycopg 3.

Same interface and the same concurrency as the SQLite `Database`: one write connection per process behind a
re-entrant lock, and every write transaction first takes a transaction-scoped advisory lock on the workspace
(the schema), so writers of all processes run one at a time exactly like SQLite's ``BEGIN IMMEDIATE`` — the
stale-save check, idempotent imports and builds keep their read-then-write meaning. Reads outside a
transaction take a pooled autocommit connection and see the last commit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from humortune.errors import CorpusError
from humortune.urls import redact
from humortune.workspace.db import Database
from humortune.workspace.dialect import POSTGRESQL, Dialect, to_pyformat
from humortune.workspace.migrations import REVISIONS

__all__ = ["PostgresDatabase", "Row"]

T = TypeVar("T")

_WRITE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('humortune:' || current_schema()))"


class Row:
    """A result row readable by position and by column name, like `sqlite3.Row`."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: Mapping[str, int]) -> None:
        self._values = tuple(_plain(v) for v in values)
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key] if isinstance(key, str) else key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._index)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=True))!r})"


class _Cursor:
    """The part of `sqlite3.Cursor` the workspace uses."""

    lastrowid = None  # PostgreSQL has none: the stores use RETURNING

    def __init__(self, result: CursorResult[Any] | None) -> None:
        self.rowcount = result.rowcount if result is not None else 0
        self._rows: list[Row] = []
        if result is not None and result.returns_rows:
            index = {name: i for i, name in enumerate(result.keys())}
            self._rows = [Row(values, index) for values in result.fetchall()]

    def fetchall(self) -> list[Row]:
        return self._rows

    def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


class _Connection:
    """The part of `sqlite3.Connection` that callers use inside ``transaction()``."""

    def __init__(self, conn: Connection, db: PostgresDatabase) -> None:
        self._session = conn
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> _Cursor:
        return self._db._run(self._session, sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> _Cursor:
        bound = [_bind(r) for r in rows]
        if not bound:
            return _Cursor(None)
        return _Cursor(self._session.exec_driver_sql(to_pyformat(sql), bound))


class PostgresDatabase(Database):
    """A migrated PostgreSQL workspace (a database, or the schema named by the URL's ``search_path``)."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, target: str | Path) -> None:
        url = str(target)
        self.url = url
        self.label = redact(url)
        self.path = Path(self.label)
        self._lock = threading.RLock()
        self._depth = 0
        self._writer: int | None = None
        self._closed = False
        driver_url = "postgresql+psycopg://" + url.split("://", 1)[1]
        try:
            # pre-ping: the one write connection is checked out again only after the server dropped it
            self._engine = create_engine(driver_url, pool_size=1, max_overflow=0, pool_pre_ping=True)
            self._session = self._engine.connect()
            # reads: autocommit for the engine's whole life (no isolation reset per checkout), connections
            # recycled so a server-side idle timeout (Cloud SQL) never hands out a dead one
            self._reads = create_engine(driver_url, isolation_level="AUTOCOMMIT", pool_size=8, pool_recycle=300)
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        self._migrate()

    @property
    def schema_version(self) -> int:
        """The number of applied migrations (from Alembic's ``alembic_version``)."""
        from humortune.workspace.schema import current_revision

        with self._lock:
            revision = current_revision(self._session)
            self._session.commit()
        return REVISIONS.index(revision) + 1 if revision in REVISIONS else 0

    def _migrate(self) -> None:
        with self.transaction():
            if self._at_head():
                return  # the common case: no Alembic on the way to a query (it costs ~30 ms per open)
            from humortune.workspace.schema import upgrade

            upgrade(self._session, legacy_version=0, item=self.label)

    def _at_head(self) -> bool:
        if not self._session.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar():
            return False
        heads = self._session.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
        return list(heads) == [REVISIONS[-1]]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the workspace's write lock; nested calls join the outer one."""
        with self._lock:
            outer = self._depth == 0
            try:
                if outer:
                    self._retry_dropped(self._begin)  # nothing is written yet: safe to start over
                self._depth += 1
                self._writer = threading.get_ident()
                try:
                    yield cast(sqlite3.Connection, _Connection(self._session, self))
                finally:
                    self._depth -= 1
                    if self._depth == 0:
                        self._writer = None
                if outer:
                    self._session.commit()
            except BaseException as exc:
                if outer and self._session.in_transaction():
                    self._session.rollback()
                if isinstance(exc, SQLAlchemyError):
                    raise self._error(exc) from exc
                raise

    def _begin(self) -> None:
        if self._session.in_transaction():
            self._session.commit()
        self._session.begin()
        self._session.exec_driver_sql(_WRITE_LOCK)

    def _retry_dropped(self, attempt: Callable[[], T], *, session: bool = True) -> T:
        """``attempt()``, once more on a new connection if the server dropped the old one (a restart, an idle
        timeout, ``pg_terminate_backend``). Only for work that is safe to repeat: a read, or a transaction that
        has not written anything yet; a write that may have committed is never replayed. ``session``: the
        attempt ran on the write connection (a pooled read connection is simply discarded)."""
        try:
            return attempt()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            if session and self._session.in_transaction():
                self._session.rollback()  # SQLAlchemy then reconnects on the next statement
        return attempt()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement in its own transaction (or the enclosing one)."""
        with self.transaction() as conn:
            return conn.execute(sql, params)

    def session_query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Read rows on the write connection, which alone sees its TEMP tables (without the write lock)."""
        with self._lock:
            if self._depth:  # inside this thread's transaction: its errors are the transaction's
                return cast(list[sqlite3.Row], self._run(self._session, sql, params).fetchall())
            try:
                rows = self._retry_dropped(lambda: self._run(self._session, sql, params).fetchall())
                self._session.commit()  # end the implicit transaction: never left idle in one
            except SQLAlchemyError as exc:
                if self._session.in_transaction():
                    self._session.rollback()
                raise self._error(exc) from exc
            return cast(list[sqlite3.Row], rows)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Read rows (the last committed state, or this thread's open transaction)."""
        if self._writer != threading.get_ident() and not self._closed:
            try:
                return cast(list[sqlite3.Row], self._retry_dropped(lambda: self._read(sql, params), session=False))
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != "42P01":  # else: a TEMP table of the write connection
                    raise self._error(exc) from exc
            except SQLAlchemyError as exc:
                raise self._error(exc) from exc
        with self.transaction() as conn:
            return cast(list[sqlite3.Row], conn.execute(sql, params).fetchall())

    def _read(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[Row]:
        with self._reads.connect() as reader:
            return self._run(reader, sql, params).fetchall()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Hold the workspace-wide lock ``name`` (a session advisory lock on its own connection, so every
        machine sharing the database sees it); yields ``False`` at once when someone else holds it."""
        key = "hashtext('humortune:' || current_schema() || ':' || %(name)s)"
        try:
            holder = self._reads.connect()
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        with holder:
            if not holder.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})", {"name": name}).scalar():
                yield False
                return
            try:
                yield True
            finally:
                holder.exec_driver_sql(f"SELECT pg_advisory_unlock({key})", {"name": name})

    def close(self) -> None:
        """Close the connections."""
        with self._lock:
            self._closed = True
            self._session.close()
            self._engine.dispose()
            self._reads.dispose()

    def _run(self, conn: Connection, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> _Cursor:
        # always rewritten, even without parameters: SQLAlchemy still hands psycopg a parameter list, so a bare
        # ``%`` would be parsed as a placeholder (``LIKE 'ev-%'`` fails, ``'a%b'`` reads back as ``'a$1'``)
        return _Cursor(conn.exec_driver_sql(to_pyformat(sql), _bind(params)))

    def _error(self, exc: SQLAlchemyError) -> CorpusError:
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        state = getattr(orig, "sqlstate", None) or ""
        if "NUL (0x00)" in text:  # psycopg's own refusal, before anything reaches the server
            hint = "remove the NUL character (U+0000): the workspace cannot store it in a text"
        elif state.startswith("23"):
            hint = "the write conflicts with existing data; this is a bug if you did not edit the database by hand"
        elif state.startswith(("08", "57")) or state == "":
            hint = "check that the PostgreSQL server in HUMORTUNE_DATABASE_URL is running and reachable"
        elif state.startswith("28"):
            hint = "check the user and password in HUMORTUNE_DATABASE_URL"
        else:
            hint = "check the database server's log"
        return CorpusError(f"database error: {redact(text)}", hint=hint, item=self.label)


def _bind(params: Sequence[Any] | Mapping[str, Any]) -> Any:
    if isinstance(params, Mapping):
        return {k: _param(v) for k, v in params.items()}
    return tuple(_param(v) for v in params)


def _param(value: Any) -> Any:
    # the schema keeps SQLite's integer booleans
    return int(value) if isinstance(value, bool) else value


def _plain(value: Any) -> Any:
    # SUM/AVG over integers are numeric in PostgreSQL; SQLite gives int or float
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
