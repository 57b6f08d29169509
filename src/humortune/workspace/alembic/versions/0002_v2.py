"""Workspace schema v2 (`humortune.workspace.migrations.MIGRATIONS[1]`)."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(1, bind.dialect.name):
        bind.exec_driver_sql(statement)
