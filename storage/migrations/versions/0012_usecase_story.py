"""use case story: the business problem and the success KPI's name, shown on the card

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

Columns are added in place (``op.add_column``), never by a batch copy: other tables reference
``use_cases`` with ON DELETE CASCADE, and SQLite's copy-and-drop would delete their rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("use_cases", sa.Column("problem", sa.Text(), nullable=False, server_default=""))
    op.add_column("use_cases", sa.Column("kpi", sa.String(length=64), nullable=False,
                                         server_default=""))


def downgrade() -> None:
    for column in ("kpi", "problem"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE use_cases DROP COLUMN {column}")  # SQLite 3.35+, in place
        else:
            op.drop_column("use_cases", column)
