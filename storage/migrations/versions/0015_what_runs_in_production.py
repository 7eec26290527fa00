"""what runs in production, per deployment; locks a failed rollback left; the next real
success (dry runs never restore) read from the index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("production", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("attention", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index("ix_deployments_use_case_dry_id", ["use_case_id", "dry_run", "id"],
                              unique=False)
        batch_op.drop_index("ix_deployments_use_case_outcome")
        batch_op.create_index("ix_deployments_use_case_outcome",
                              ["use_case_id", "state", "rolled_back", "dry_run", "prod_finished_at"],
                              unique=False)
    with op.batch_alter_table("deploy_locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deployment_id", sa.Integer(), nullable=True))
    _backfill()
    _unblame_dry_runs()


def _unblame_dry_runs() -> None:
    """A dry-run rollback rolled nothing back: the deployments it named were no failures."""
    deployments = sa.table(
        "deployments", sa.column("id", sa.Integer), sa.column("kind", sa.String),
        sa.column("rollback_of", sa.Integer), sa.column("dry_run", sa.Boolean),
        sa.column("production_started_at", sa.DateTime(timezone=True)),
        sa.column("rolled_back", sa.Boolean),
    )
    rollback = deployments.alias("rollback")
    real_rollback = sa.exists().where(
        rollback.c.kind == "rollback", rollback.c.rollback_of == deployments.c.id,
        rollback.c.dry_run.is_(False), rollback.c.production_started_at.is_not(None))
    op.get_bind().execute(deployments.update()
                          .where(deployments.c.rolled_back.is_(True), ~real_rollback)
                          .values(rolled_back=False))


def _backfill() -> None:
    """Each use case's newest real deployment learns what its last success put in production
    (its targets were not recorded then: production counts as one place)."""
    deployments = sa.table(
        "deployments", sa.column("id", sa.Integer), sa.column("use_case_id", sa.Integer),
        sa.column("version", sa.String), sa.column("state", sa.String),
        sa.column("dry_run", sa.Boolean), sa.column("finished_at", sa.DateTime(timezone=True)),
        sa.column("production", sa.JSON),
    )
    if context.is_offline_mode():  # `bizdevops migrate sql`: no rows to read
        op.get_context().impl.static_output(
            "-- WARNING 0015: each use case's newest deployment learns what its last success put in "
            "production "
            "row by row, which printed SQL cannot do; on a database that has deployments, "
            "run `bizdevops migrate` for this step.")
        return
    connection = op.get_bind()
    real = deployments.c.dry_run.is_(False)
    newest = connection.execute(
        sa.select(deployments.c.use_case_id, sa.func.max(deployments.c.id)).where(real)
        .group_by(deployments.c.use_case_id)).all()
    for use_case_id, newest_id in newest:
        success = connection.execute(
            sa.select(deployments.c.id, deployments.c.version, deployments.c.finished_at)
            .where(real, deployments.c.use_case_id == use_case_id,
                   deployments.c.state == "succeeded")
            .order_by(deployments.c.id.desc()).limit(1)).first()
        placement = [] if success is None else [{
            "version": success.version, "targets": ["*"], "deployment": success.id,
            "since": _utc(success.finished_at)}]
        connection.execute(deployments.update().where(deployments.c.id == newest_id)
                           .values(production=placement))


def _utc(at: datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite hands times back without their zone; they were stored in UTC)."""
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


def downgrade() -> None:
    with op.batch_alter_table("deploy_locks", schema=None) as batch_op:
        batch_op.drop_column("deployment_id")
    op.drop_index("ix_deployments_use_case_dry_id", table_name="deployments")
    op.drop_index("ix_deployments_use_case_outcome", table_name="deployments")
    op.create_index("ix_deployments_use_case_outcome", "deployments",
                    ["use_case_id", "state", "rolled_back", "prod_finished_at"], unique=False)
    _drop_deployments_column("attention")
    _drop_deployments_column("production")


def _drop_deployments_column(name: str) -> None:
    """In place, never by a batch copy: deployment_events and action_tokens reference deployments
    ON DELETE CASCADE, and SQLite's copy-and-drop would delete the audit trail with it."""
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE deployments DROP COLUMN {name}")  # SQLite 3.35+
    else:
        op.drop_column("deployments", name)
