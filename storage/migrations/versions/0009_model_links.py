"""model links: a use case's MLflow registered model, found by name when the registry calls

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("use_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model", sa.String(length=128), nullable=False,
                                      server_default=""))
        batch_op.create_index("ix_use_cases_model", ["model"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("use_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_use_cases_model")
        batch_op.drop_column("model")
