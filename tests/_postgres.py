"""A real PostgreSQL server for the tests: Debian's binaries, a temp dir owned by ``postgres``, a loopback port.

initdb and the server refuse to run as root, so both run as the ``postgres`` user (``runuser``). Each test gets
its own schema (the URL's ``search_path``), dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    try:
        yield PostgresServer(port)
    finally:
        subprocess.run(_as_postgres(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
