"""API tokens have scopes (metrics:write, audit:read, deployments:write); a deployment started
through the deployments API names the token it came with

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-09

Tokens made before scopes could only push KPI values: they keep exactly that, ``metrics:write``
(the column's server default fills them in). Deployments from before came from Slack: no token.
Both columns are added in place (``op.add_column``), never by a batch copy: other tables reference
``deployments`` with ON DELETE CASCADE, and SQLite's copy-and-drop would delete their rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("scopes", sa.String(200), nullable=False,
                                          server_default="metrics:write"))
    op.add_column("deployments", sa.Column("api_token", sa.String(64), nullable=False,
                                           server_default=""))


def downgrade() -> None:
    for table, column in (("deployments", "api_token"), ("api_tokens", "scopes")):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35+, in place
        else:
            op.drop_column(table, column)
