"""Workspace schema v8 (`humortune.workspace.migrations.MIGRATIONS[7]`): a counter of correction changes."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(7, bind.dialect.name):
        bind.exec_driver_sql(statement)
