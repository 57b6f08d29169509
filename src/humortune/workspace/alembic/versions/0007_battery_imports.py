"""Workspace schema v7 (`humortune.workspace.migrations.MIGRATIONS[6]`): what battery imports recorded."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(6, bind.dialect.name):
        bind.exec_driver_sql(statement)
