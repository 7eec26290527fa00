"""freezes: ad hoc freeze windows from /deploy freeze, and a deployment's override of them

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "freezes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freezes")),
    )
    op.create_index("ix_freezes_scope_ends_at", "freezes", ["scope", "ends_at"], unique=False)
    # In place: a batch copy of deployments would cascade its drop to their events on SQLite.
    op.add_column("deployments", sa.Column("override", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE deployments DROP COLUMN override")  # SQLite 3.35+, in place
    else:
        op.drop_column("deployments", "override")
    op.drop_index("ix_freezes_scope_ends_at", table_name="freezes")
    op.drop_table("freezes")
