"""Workspace schema v3 (`humortune.workspace.migrations.MIGRATIONS[2]`)."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(2, bind.dialect.name):
        bind.exec_driver_sql(statement)
