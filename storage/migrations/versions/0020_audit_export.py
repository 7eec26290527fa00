"""the audit export reads deployment events in order of time: an index on (at, id)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deployment_events_at", "deployment_events", ["at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deployment_events_at", table_name="deployment_events")
