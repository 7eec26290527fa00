"""production times for DORA

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("production_started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("production_finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_deployments_requested", ["requested_at"], unique=False)
        batch_op.create_index("ix_deployments_slug_requested", ["slug", "requested_at"], unique=False)
    _backfill()


def _backfill() -> None:
    """Copy the last stage's start and end out of the stored JSON for existing deployments."""
    deployments = sa.table(
        "deployments", sa.column("id", sa.Integer), sa.column("stages", sa.JSON),
        sa.column("production_started_at", sa.DateTime(timezone=True)),
        sa.column("production_finished_at", sa.DateTime(timezone=True)),
    )
    if context.is_offline_mode():  # `bizdevops migrate sql`: no rows to read
        op.get_context().impl.static_output(
            "-- WARNING 0005: existing deployments' production times are copied out of their stored JSON "
            "row by row, which printed SQL cannot do; on a database that has deployments, "
            "run `bizdevops migrate` for this step.")
        return
    connection = op.get_bind()
    for row_id, stages in connection.execute(sa.select(deployments.c.id, deployments.c.stages)):
        last = stages[-1] if stages else {}
        started, finished = last.get("started_at"), last.get("finished_at")
        connection.execute(
            deployments.update().where(deployments.c.id == row_id).values(
                production_started_at=datetime.fromisoformat(started) if started else None,
                production_finished_at=datetime.fromisoformat(finished) if finished else None,
            )
        )


def downgrade() -> None:
    op.drop_index("ix_deployments_slug_requested", table_name="deployments")
    op.drop_index("ix_deployments_requested", table_name="deployments")
    _drop_deployments_column("production_finished_at")
    _drop_deployments_column("production_started_at")


def _drop_deployments_column(name: str) -> None:
    """In place, never by a batch copy: deployment_events and action_tokens reference deployments
    ON DELETE CASCADE, and SQLite's copy-and-drop would delete the audit trail with it."""
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE deployments DROP COLUMN {name}")  # SQLite 3.35+
    else:
        op.drop_column("deployments", name)
