"""Workspace schema v6 (`humortune.workspace.migrations.MIGRATIONS[5]`): the offline fake's shared state."""

from __future__ import annotations

from alembic import op

from humortune.workspace.migrations import statements

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in statements(5, bind.dialect.name):
        bind.exec_driver_sql(statement)
