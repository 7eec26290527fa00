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
    # In place, never a batch copy: recreating use_cases would, with SQLite's foreign keys on,
    # cascade the drop of the old table to every deployment, point and phase change.
    op.add_column("use_cases", sa.Column("model", sa.String(length=128), nullable=False,
                                         server_default=""))
    op.create_index("ix_use_cases_model", "use_cases", ["model"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_use_cases_model", table_name="use_cases")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE use_cases DROP COLUMN model")  # SQLite 3.35+, in place
    else:
        op.drop_column("use_cases", "model")
