"""ended sessions: a dashboard session signed out (POST /logout) stays ended in every process

The session cookie is signed and checked without a server-side record, so a copy of it stayed
valid for the rest of its 12 hours after sign-out. A sign-out now records the session's id
(its SHA-256) with the moment it would have expired anyway; the web guard refuses it by one
primary-key lookup, and each sign-out deletes the rows past their expiry.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ended_sessions")),
    )
    op.create_index(op.f("ix_ended_sessions_expires_at"), "ended_sessions", ["expires_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ended_sessions_expires_at"), table_name="ended_sessions")
    op.drop_table("ended_sessions")
