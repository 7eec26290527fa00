"""notify preferences: who wants direct messages about their own deployments; outbox link_of

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_preferences",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notify_preferences")),
    )
    # In place (ALTER TABLE ... ADD COLUMN works on SQLite too): a nullable column, no copy.
    op.add_column("outbox", sa.Column("link_of", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "link_of")
    op.drop_table("notify_preferences")
