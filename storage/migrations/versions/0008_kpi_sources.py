"""continuous KPIs: the claim of each (KPI, fire time) and each source's health

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_pulls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("use_case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("fire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["use_case_id"], ["use_cases.id"],
                                name=op.f("fk_kpi_pulls_use_case_id_use_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_pulls")),
        sa.UniqueConstraint("use_case_id", "name", "fire_time", name=op.f("uq_kpi_pulls_use_case_id")),
    )
    op.create_table(
        "kpi_source_status",
        sa.Column("use_case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("failing", sa.Boolean(), nullable=False),
        sa.Column("last_run", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_value", sa.Double(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fire", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["use_case_id"], ["use_cases.id"],
                                name=op.f("fk_kpi_source_status_use_case_id_use_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("use_case_id", "name", name=op.f("pk_kpi_source_status")),
    )


def downgrade() -> None:
    op.drop_table("kpi_source_status")
    op.drop_table("kpi_pulls")
