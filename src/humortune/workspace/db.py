"""The SQLite connection under the corpus: WAL, foreign keys, migrations, one writer at a time.

One write connection is shared by the threads of a process (ingest and analysis run in thread pools)
behind a re-entrant lock; other processes coordinate through SQLite's own locking (``BEGIN IMMEDIATE`` and
a busy timeout), so a second process writing at the same time waits instead of corrupting anything.
Reads outside a transaction use a per-thread connection of their own: WAL lets them see the last commit
while a write is in progress, so a page never waits behind a slow writer.

``Database(target)`` takes a path, a ``sqlite:///path`` URL or a ``postgresql://`` URL (``HUMORTUNE_DATABASE_URL``);
the last opens `humortune.workspace.postgres.PostgresDatabase`, which keeps this interface (``?``/``:name``
placeholders, rows by index and by name) on SQLAlchemy Core and psycopg. The schema is Alembic's
(`humortune.workspace.schema`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from humortune.errors import CorpusError, SchemaVersionError
from humortune.workspace.dialect import SQLITE, Dialect
from humortune.workspace.migrations import REVISIONS, SCHEMA_VERSION

__all__ = ["Database", "is_postgres_url", "sqlite_path"]

_BUSY_TIMEOUT_MS = 30_000


def is_postgres_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))


def sqlite_path(target: str | Path) -> str | Path:
    """The file of a ``sqlite:///…`` URL (``target`` itself when it is a path)."""
    if isinstance(target, str) and target.startswith("sqlite:///"):
        return target.removeprefix("sqlite:///") or ":memory:"
    return target


class Database:
    """A migrated SQLite database. Use `transaction` for writes and `query`/`query_one` for reads."""

    dialect: Dialect = SQLITE
    """The SQL spellings of this engine (`humortune.workspace.dialect`)."""

    def __new__(cls, target: str | Path) -> Database:
        if cls is Database and is_postgres_url(target):
            from humortune.workspace.postgres import PostgresDatabase

            return super().__new__(PostgresDatabase)
        return super().__new__(cls)

    def __init__(self, target: str | Path) -> None:
        path = sqlite_path(target)
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._writer: int | None = None  # the thread inside `transaction`, whose reads must see its writes
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()  # not `_lock`: a writer holds that for its whole transaction
        self._closed = False
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(path), timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            _set_wal(self._conn)
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise CorpusError(
                f"cannot open the workspace database: {exc}",
                hint="check that the path is writable and is a humortune workspace",
                item=str(path),
            ) from exc
        self._migrate()

    @property
    def schema_version(self) -> int:
        """The ``PRAGMA user_version`` of the open file."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.transaction():
            current = self.schema_version
            if current > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"the workspace has schema version {current}, this humortune understands up to {SCHEMA_VERSION}",
                    hint="upgrade humortune (pip install -U humortune) to open it",
                    item=str(self.path),
                )
            if current == SCHEMA_VERSION and self._stamped():
                return  # the common case: no SQLAlchemy or Alembic import on the way to a query
        self._upgrade()

    def _stamped(self) -> bool:
        if not self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
            return False
        row = self._conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row is not None and row[0] == REVISIONS[-1]

    def _upgrade(self) -> None:
        """Alembic on this very connection, inside ``BEGIN IMMEDIATE`` (SQLAlchemy's recipe for pysqlite)."""
        from humortune.workspace.schema import MIGRATION_LOCK

        with MIGRATION_LOCK:  # imports included: see MIGRATION_LOCK
            from sqlalchemy import create_engine, event
            from sqlalchemy.pool import StaticPool

            from humortune.workspace.schema import upgrade

            engine = create_engine("sqlite://", creator=lambda: self._conn, poolclass=StaticPool)
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
            with self._lock:
                try:
                    with engine.begin() as conn:
                        upgrade(conn, legacy_version=self.schema_version, item=str(self.path))
                        conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
                except sqlite3.Error as exc:
                    raise _translate(exc, self.path) from exc
                except Exception as exc:
                    cause = getattr(exc, "orig", None)
                    if isinstance(cause, sqlite3.Error):
                        raise _translate(cause, self.path) from exc
                    raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), nested calls join the outer one."""
        with self._lock:
            outer = self._depth == 0
            try:
                if outer:
                    self._conn.execute("BEGIN IMMEDIATE")
                self._depth += 1
                self._writer = threading.get_ident()
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                    if self._depth == 0:
                        self._writer = None
                if outer:
                    self._conn.execute("COMMIT")
            except BaseException as exc:
                if outer and self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from exc
                raise

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Hold the workspace-wide lock ``name`` while the block runs; yields ``False`` (at once) when another
        process holds it. SQLite: ``flock`` on ``.<name>.lock`` beside the database file."""
        lock = self.path.parent / f".{name}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement in its own transaction (or the enclosing one)."""
        with self.transaction() as conn:
            cursor = conn.execute(sql, params)
            if cursor.description is None:
                return cursor
            # RETURNING: step the statement to its end before COMMIT (SQLite refuses a commit mid-statement)
            return cast(sqlite3.Cursor, _Returned(cursor.fetchall(), cursor.rowcount))

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Read rows (the last committed state, or this thread's open transaction)."""
        reader = self._reader()
        if reader is not None:
            try:
                return reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):  # else: a TEMP table, private to the write connection
                    raise _translate(exc, self.path) from exc
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    def _reader(self) -> sqlite3.Connection | None:
        """This thread's read connection; ``None`` inside its own transaction or for ``:memory:``."""
        if str(self.path) == ":memory:" or self._writer == threading.get_ident() or self._closed:
            return None
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    str(self.path), timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
                )
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA query_only = ON")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def session_query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Read rows on the write connection, which alone sees its TEMP tables (no write lock is taken)."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    def query_one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """Read one row, or ``None``."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        """Close the connections."""
        with self._lock:
            self._closed = True
            with self._readers_lock:
                for reader in self._readers:
                    reader.close()
                self._readers.clear()
            self._conn.close()


class _Returned:
    """The rows of an ``INSERT … RETURNING``, read before the commit."""

    lastrowid = None

    def __init__(self, rows: list[sqlite3.Row], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def fetchone(self) -> sqlite3.Row | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[sqlite3.Row]:
        return self._rows


def _translate(exc: sqlite3.Error, path: Path) -> CorpusError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        hint = "another process holds the workspace; wait for it to finish and retry"
    elif isinstance(exc, sqlite3.IntegrityError):
        hint = "the write conflicts with existing data; this is a bug if you did not edit the database by hand"
    elif "malformed" in text or "not a database" in text:
        hint = "the file is not a humortune workspace or is damaged; restore it from a backup"
    else:
        hint = "check the disk and the file's permissions"
    return CorpusError(f"database error: {text}", hint=hint, item=str(path))


def _set_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. Several connections first-opening one new file at once can get SQLITE_BUSY here without the
    busy handler being consulted, so retry (bounded by the busy timeout) instead of failing the open."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
