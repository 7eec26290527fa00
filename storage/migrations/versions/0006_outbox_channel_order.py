"""outbox: index for the oldest pending message of each channel

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The claim takes each channel's oldest pending message (order within a channel): with
    # thousands waiting for their channel's turn, this index answers it without a sort.
    op.create_index("ix_outbox_channel_pending", "outbox", ["status", "channel", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_channel_pending", table_name="outbox")
