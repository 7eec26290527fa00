"""a deployment records what its version is, when the bot can know: a commit or a model version,
its time, link and (MLflow) run; DORA's lead time reads the change's time from the index

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09

The columns are added in place (``op.add_column``), never by a batch copy: other tables reference
``deployments`` with ON DELETE CASCADE, and SQLite's copy-and-drop would delete their rows.
Deployments from before know no change: DORA measures them from their request, as it did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ("change_kind", "change_ref", "change_at", "change_url", "change_run_id")
LEAD_INDEX = ["prod_finished_at", "use_case_id", "state", "rolled_back", "dry_run", "lead_seconds"]


def upgrade() -> None:
    op.add_column("deployments", sa.Column("change_kind", sa.String(16), nullable=True))
    op.add_column("deployments", sa.Column("change_ref", sa.String(64), nullable=True))
    op.add_column("deployments", sa.Column("change_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deployments", sa.Column("change_url", sa.Text(), nullable=True))
    op.add_column("deployments", sa.Column("change_run_id", sa.String(64), nullable=True))
    # DORA counts the successes measured from their request (no change time, or a rollback) from
    # the index too.
    op.drop_index("ix_deployments_prod_finished", table_name="deployments")
    op.create_index("ix_deployments_prod_finished", "deployments", [*LEAD_INDEX, "change_at", "kind"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_deployments_prod_finished", table_name="deployments")
    op.create_index("ix_deployments_prod_finished", "deployments", LEAD_INDEX, unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in reversed(COLUMNS):
        if sqlite:
            op.execute(f"ALTER TABLE deployments DROP COLUMN {name}")  # SQLite 3.35+, in place
        else:
            op.drop_column("deployments", name)
