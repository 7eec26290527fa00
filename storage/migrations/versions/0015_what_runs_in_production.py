"""what runs in production, per deployment; locks a failed rollback left

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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
    with op.batch_alter_table("deploy_locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deployment_id", sa.Integer(), nullable=True))
    _backfill()


def _backfill() -> None:
    """Each use case's newest real deployment learns what its last success put in production
    (its targets were not recorded then: production counts as one place)."""
    deployments = sa.table(
        "deployments", sa.column("id", sa.Integer), sa.column("use_case_id", sa.Integer),
        sa.column("version", sa.String), sa.column("state", sa.String),
        sa.column("dry_run", sa.Boolean), sa.column("finished_at", sa.DateTime(timezone=True)),
        sa.column("production", sa.JSON),
    )
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
            "since": success.finished_at.isoformat() if success.finished_at else None}]
        connection.execute(deployments.update().where(deployments.c.id == newest_id)
                           .values(production=placement))


def downgrade() -> None:
    with op.batch_alter_table("deploy_locks", schema=None) as batch_op:
        batch_op.drop_column("deployment_id")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_deployments_use_case_dry_id")
        batch_op.drop_column("attention")
        batch_op.drop_column("production")
