"""when the bot received each KPI value: freshness is judged by it, never by a pushed `at`;
a button's token found again, not made anew for each message that shows it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
    points = sa.table("metric_points", sa.column("at", sa.DateTime(timezone=True)),
                      sa.column("received_at", sa.DateTime(timezone=True)))
    op.get_bind().execute(points.update().values(received_at=points.c.at))  # the best we know
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.alter_column("received_at", existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.create_index("ix_metric_points_received", ["use_case_id", "name", "received_at"],
                              unique=False)
    op.create_index("ix_action_tokens_button", "action_tokens",
                    ["deployment_id", "stage_index", "action"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_action_tokens_button", table_name="action_tokens")
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_points_received")
        batch_op.drop_column("received_at")
