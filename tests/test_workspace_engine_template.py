"""The whole suite on PostgreSQL (``HUMORTUNE_TEST_ENGINE=postgresql``) gives each test a schema copied from one
recorded migration (tests/_postgres.py): the copy must be exactly what Alembic makes, and start empty."""

from __future__ import annotations

from typing import Any

import psycopg

from humortune.workspace.db import Database
from tests._postgres import PostgresServer


def _fingerprint(server: PostgresServer, url: str) -> dict[str, Any]:
    """Everything the schema defines, with its (random) name taken out."""
    schema = url.rsplit("%3D", 1)[1]
    queries = {
        "columns": """SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity,
                             identity_generation, ordinal_position
                      FROM information_schema.columns WHERE table_schema = %(s)s""",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
        "constraints": """SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
                          FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %(s)s""",
        "sequences": "SELECT sequence_name, data_type, start_value FROM information_schema.sequences"
        " WHERE sequence_schema = %(s)s",
        "views": "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = %(s)s",
    }
    with psycopg.connect(server.url) as conn:
        found: dict[str, Any] = {
            key: sorted(
                tuple(str(v).replace(f"{schema}.", "") for v in row) for row in conn.execute(sql, {"s": schema})
            )
            for key, sql in queries.items()
        }
        found["alembic"] = conn.execute(f"SELECT version_num FROM {schema}.alembic_version").fetchall()
    return found


def test_the_copied_schema_equals_an_alembic_migrated_one(postgres: PostgresServer) -> None:
    with postgres.schema() as migrated_url, postgres.migrated_schema() as copied_url:
        Database(migrated_url).close()  # the real migration, exactly as a new workspace gets it
        migrated, copied = _fingerprint(postgres, migrated_url), _fingerprint(postgres, copied_url)
        assert migrated["columns"] and migrated["indexes"] and migrated["alembic"]
        assert copied == migrated


def test_a_schema_is_reused_only_when_the_test_left_it_empty(postgres: PostgresServer) -> None:
    with postgres.migrated_schema() as untouched:
        Database(untouched).close()  # opening reads, writes nothing
    with postgres.migrated_schema() as written:
        assert written == untouched  # handed out again: no copy needed
        db = Database(written)
        db.execute("INSERT INTO prompts (version, text, created_at) VALUES ('v', 'Säg vad som är roligt.', 'now')")
        db.close()
    with postgres.migrated_schema() as fresh:
        assert fresh != written
        db = Database(fresh)
        assert db.query("SELECT * FROM prompts") == []
        db.close()
    with psycopg.connect(postgres.url) as conn:
        gone = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [written.rsplit("%3D", 1)[1]])
        assert gone.fetchone() == (0,)
