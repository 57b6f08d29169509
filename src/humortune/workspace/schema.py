"""Run the workspace's Alembic migrations on an open SQLAlchemy connection (either engine).

The caller opens the transaction and serialises it (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock),
so two processes opening a new workspace at once migrate it once. A SQLite workspace made before Alembic has
no ``alembic_version`` table: its ``PRAGMA user_version`` (1–3) says which revision to stamp before upgrading.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from humortune.errors import SchemaVersionError
from humortune.workspace.migrations import REVISIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["MIGRATION_LOCK", "SCRIPTS", "current_revision", "upgrade"]

MIGRATION_LOCK = threading.RLock()
"""One migration at a time per process: threads first-opening a workspace at once would otherwise import
SQLAlchemy and Alembic concurrently, and a circular import across threads can surface a partially initialised
module. Between processes the database's own lock serialises them."""

SCRIPTS = Path(__file__).with_name("alembic")
"""The Alembic script directory (ships inside the package)."""


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in ``alembic_version``, ``None`` for a database Alembic never touched."""
    from alembic.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection, *, legacy_version: int, item: str) -> None:
    """Bring the schema to the newest revision (stamping a pre-Alembic SQLite workspace first)."""
    with MIGRATION_LOCK:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(SCRIPTS))
        config.attributes["connection"] = conn
        current = current_revision(conn)
        if current is None and legacy_version:
            command.stamp(config, REVISIONS[legacy_version - 1])
        elif current is not None and current not in REVISIONS:
            raise SchemaVersionError(
                f"the workspace has schema revision {current}, this humortune understands up to {REVISIONS[-1]}",
                hint="upgrade humortune (pip install -U humortune) to open it",
                item=item,
            )
        if legacy_version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the workspace has schema version {legacy_version}, this humortune understands up to {SCHEMA_VERSION}",
                hint="upgrade humortune (pip install -U humortune) to open it",
                item=item,
            )
        command.upgrade(config, "head")
