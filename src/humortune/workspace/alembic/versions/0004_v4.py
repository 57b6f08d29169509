"""Workspace schema v4 (`humortune.workspace.migrations.MIGRATIONS[3]`): the text-score cache."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(3, bind.dialect.name):
        bind.exec_driver_sql(statement)
