"""Workspace schema v1 (`humortune.workspace.migrations.MIGRATIONS[0]`)."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(0, bind.dialect.name):
        bind.exec_driver_sql(statement)
