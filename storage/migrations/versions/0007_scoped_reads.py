"""scoped reads: DORA columns, recorded target crossings, indexes for channel and period

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTIVE = ("running", "awaiting_approval")


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prod_finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lead_seconds", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("rolled_back", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index("ix_deployments_prod_finished",
                              ["prod_finished_at", "use_case_id", "state", "rolled_back", "dry_run",
                               "lead_seconds"], unique=False)
        batch_op.create_index("ix_deployments_use_case_outcome",
                              ["use_case_id", "state", "rolled_back", "prod_finished_at"], unique=False)
    with op.batch_alter_table("use_cases", schema=None) as batch_op:
        batch_op.create_index("ix_use_cases_channel", ["channel_id"], unique=False)
    with op.batch_alter_table("phase_changes", schema=None) as batch_op:
        batch_op.create_index("ix_phase_changes_at", ["at"], unique=False)
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.create_index("ix_metric_points_at", ["at"], unique=False)
    op.create_table(
        "metric_crossings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("use_case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("op", sa.String(length=2), nullable=False),
        sa.Column("target", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["use_case_id"], ["use_cases.id"],
                                name=op.f("fk_metric_crossings_use_case_id_use_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_crossings")),
    )
    with op.batch_alter_table("metric_crossings", schema=None) as batch_op:
        batch_op.create_index("ix_metric_crossings_at", ["at"], unique=False)
        batch_op.create_index("ix_metric_crossings_use_case_at", ["use_case_id", "at"], unique=False)
    _backfill()


def _backfill() -> None:
    """The DORA columns of existing deployments, by the rules of ``bot.domain.dora``.

    Crossings announced before this revision were not recorded; digests list those from now on.
    """
    d = sa.table(
        "deployments", sa.column("id", sa.Integer), sa.column("use_case_id", sa.Integer),
        sa.column("state", sa.String), sa.column("kind", sa.String),
        sa.column("rollback_of", sa.Integer),
        sa.column("requested_at", sa.DateTime(timezone=True)),
        sa.column("finished_at", sa.DateTime(timezone=True)),
        sa.column("production_started_at", sa.DateTime(timezone=True)),
        sa.column("production_finished_at", sa.DateTime(timezone=True)),
        sa.column("prod_finished_at", sa.DateTime(timezone=True)),
        sa.column("lead_seconds", sa.Double), sa.column("rolled_back", sa.Boolean),
    )
    if context.is_offline_mode():  # `bizdevops migrate sql`: no rows to read
        op.get_context().impl.static_output(
            "-- WARNING 0007: existing deployments' DORA columns (lead time, rolled back) are computed "
            "row by row, which printed SQL cannot do; on a database that has deployments, "
            "run `bizdevops migrate` for this step.")
        return
    connection = op.get_bind()
    connection.execute(d.update().where(
        d.c.production_started_at.is_not(None), d.c.state.not_in(ACTIVE),
    ).values(prod_finished_at=sa.func.coalesce(d.c.production_finished_at, d.c.finished_at)))
    leads = [{"row_id": row_id, "lead": (finished - requested).total_seconds()}
             for row_id, finished, requested in connection.execute(
                 sa.select(d.c.id, d.c.prod_finished_at, d.c.requested_at)
                 .where(d.c.prod_finished_at.is_not(None)))]
    if leads:
        connection.execute(d.update().where(d.c.id == sa.bindparam("row_id"))
                           .values(lead_seconds=sa.bindparam("lead")), leads)
    rollback = d.alias("rollback")
    connection.execute(d.update().where(sa.exists().where(
        rollback.c.kind == "rollback", rollback.c.rollback_of == d.c.id,
        rollback.c.use_case_id == d.c.use_case_id, rollback.c.production_started_at.is_not(None),
    )).values(rolled_back=True))


def downgrade() -> None:
    op.drop_table("metric_crossings")
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_points_at")
    with op.batch_alter_table("phase_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_phase_changes_at")
    with op.batch_alter_table("use_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_use_cases_channel")
    op.drop_index("ix_deployments_use_case_outcome", table_name="deployments")
    op.drop_index("ix_deployments_prod_finished", table_name="deployments")
    for name in ("rolled_back", "lead_seconds", "prod_finished_at"):
        _drop_deployments_column(name)


def _drop_deployments_column(name: str) -> None:
    """In place, never by a batch copy: deployment_events and action_tokens reference deployments
    ON DELETE CASCADE, and SQLite's copy-and-drop would delete the audit trail with it."""
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE deployments DROP COLUMN {name}")  # SQLite 3.35+
    else:
        op.drop_column("deployments", name)
