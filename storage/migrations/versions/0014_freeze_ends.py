"""freezes by their end: the windows that just ended are found for their announcement

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_freezes_ends_at", "freezes", ["ends_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_freezes_ends_at", table_name="freezes")
