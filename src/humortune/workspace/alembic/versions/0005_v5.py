"""Workspace schema v5 (`humortune.workspace.migrations.MIGRATIONS[4]`): what battery imports recorded."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(4, bind.dialect.name):
        bind.exec_driver_sql(statement)
