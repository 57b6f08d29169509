"""A real PostgreSQL server for the tests: Debian's binaries, a temp dir owned by ``postgres``, a loopback port.

initdb and the server refuse to run as root, so both run as the ``postgres`` user (``runuser``). Each test gets
its own schema (the URL's ``search_path``), dropped afterwards, so tests never see each other's rows.

Migrating a schema with Alembic costs ~150 ms, too much for every test of the whole suite on PostgreSQL
(``HUMORTUNE_TEST_ENGINE=postgresql``): `PostgresServer.migrated_schema` records the SQL one real migration sent
(once per session) and replays it into each new schema in one round trip (tests/test_postgres_rig.py checks that
the copy equals a migrated schema).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["PostgresServer", "postgres_bin", "running_server"]


def postgres_bin() -> Path | None:
    """The newest installed server's ``bin`` dir, or ``None``."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


class PostgresServer:
    """A running server; `schema_url` makes an isolated workspace URL."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self._migration: str | None = None
        self._migration_lock = threading.Lock()
        self._free: list[str] = []  # migrated schemas a test left untouched, ready for the next one
        self._admin_conn: Any = None
        self._admin_lock = threading.Lock()
        self._tables: list[str] = []  # and the tables and alembic head of a migrated one
        self._template_head: list[Any] = []

    def schema_url(self, schema: str) -> str:
        return f"{self.url}?options=-csearch_path%3D{schema}"

    @contextmanager
    def schema(self) -> Iterator[str]:
        """A fresh schema's URL, dropped afterwards."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        try:
            yield self.schema_url(name)
        finally:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {name} CASCADE")

    @contextmanager
    def migrated_schema(self) -> Iterator[str]:
        """A schema at the newest revision with no rows, for one test. A schema the test left untouched (no rows,
        no tables of its own) goes back to a free list for the next test instead of being dropped."""
        script = self.migration_script()
        with self._admin() as conn:
            name = self._free.pop() if self._free else None
            if name is None:
                name = f"t_{uuid.uuid4().hex[:12]}"
                # one round trip: schema, search_path and every migration statement in one implicit transaction
                conn.execute(f"CREATE SCHEMA {name}; SET search_path TO {name}; {script}; RESET search_path".encode())
        try:
            yield self.schema_url(name)
        finally:
            with self._admin() as conn:
                if self._untouched(conn, name):
                    self._free.append(name)
                else:
                    conn.execute(f"DROP SCHEMA {name} CASCADE")

    @contextmanager
    def _admin(self) -> Iterator[Any]:
        """The rig's own autocommit connection (one per session: connecting costs more than the queries)."""
        import psycopg

        with self._admin_lock:
            if self._admin_conn is None or self._admin_conn.closed:
                self._admin_conn = psycopg.connect(self.url, autocommit=True)
                # a connection the test leaked inside a transaction must not hang the suite
                self._admin_conn.execute("SET lock_timeout = '10s'")
            yield self._admin_conn

    def close(self) -> None:
        """Close the rig's own connection (before the server stops)."""
        with self._admin_lock:
            if self._admin_conn is not None:
                self._admin_conn.close()

    def _untouched(self, conn: Any, name: str) -> bool:
        tables = [str(t) for (t,) in conn.execute(_TABLES, {"schema": name})]
        if sorted(tables) != self._tables:
            return False
        head = [tuple(r) for r in conn.execute(f"SELECT version_num FROM {name}.alembic_version")]
        # the migration itself fills alembic_version and the two counters (harmless to hand out bumped)
        rows = " OR ".join(f"EXISTS (SELECT 1 FROM {name}.{t})" for t in tables if t not in _SEEDED)
        return bool(head == self._template_head and not conn.execute(f"SELECT {rows}").fetchone()[0])

    def migration_script(self) -> str:
        """The SQL an Alembic upgrade of an empty schema sent, parameters inlined (recorded once)."""
        with self._migration_lock:
            if self._migration is None:
                self._migration = self._record_migration()
            return self._migration

    def _record_migration(self) -> str:
        import psycopg
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import NullPool

        from humortune.workspace.schema import upgrade

        sent: list[tuple[str, Any]] = []
        with self.schema() as url:
            engine = create_engine("postgresql+psycopg://" + url.split("://", 1)[1], poolclass=NullPool)
            event.listen(engine, "before_cursor_execute", lambda _c, _k, sql, params, *_: sent.append((sql, params)))
            with engine.begin() as conn:
                upgrade(conn, legacy_version=0, item="template")
                migration = list(sent)
                self._tables = sorted(conn.exec_driver_sql(_TABLES, {"schema": _schema_of(url)}).scalars())
                self._template_head = [
                    tuple(r) for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                ]
            engine.dispose()
        with psycopg.connect(self.url) as conn:
            cursor = psycopg.ClientCursor(conn)
            script = ";\n".join(cursor.mogrify(sql, params or None) for sql, params in migration)
        return script + ";"


_SEEDED = ("alembic_version", "correction_changes", "queue_changes")
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = %(schema)s"


def _schema_of(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*args: str | Path) -> list[str]:
    command = [str(a) for a in args]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_server() -> Iterator[PostgresServer]:
    """initdb in a temp dir, start on a free loopback port, stop and delete afterwards."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (scripts/test does it)")
    root = Path(tempfile.mkdtemp(prefix="humortune-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    subprocess.run(
        _as_postgres(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = _as_postgres(bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "log", "-w", "start")
    subprocess.run(start, check=True, capture_output=True)
    server = PostgresServer(port)
    try:
        yield server
    finally:
        server.close()
        subprocess.run(_as_postgres(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
