"""Alembic environment: migrations run on the connection `humortune.workspace.schema` hands in, inside the
transaction it opened (so a second process waits for the first instead of migrating twice)."""

from __future__ import annotations

from alembic import context

context.configure(connection=context.config.attributes["connection"], transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
