"""processed slack requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_requests",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed_requests")),
    )
    with op.batch_alter_table("processed_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_requests_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processed_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_requests_at"))

    op.drop_table("processed_requests")
