"""a use case knows whether its home channel is private (or a group DM): only its members see it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08

The column is added in place (``op.add_column``), never by a batch copy: other tables reference
``use_cases`` with ON DELETE CASCADE, and SQLite's copy-and-drop would delete their rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("use_cases", sa.Column("private", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    op.create_index("ix_use_cases_private_channel", "use_cases", ["private", "channel_id"],
                    unique=False)
    _backfill()


def _backfill() -> None:
    """A migration cannot ask Slack; the channel's id tells part of it. ``G…`` ids are group
    DMs and the private channels of old, ``D…`` direct messages: private. Private channels made
    since have ``C…`` ids like public ones: the bot asks Slack about every home channel when it
    starts (``bot.services.visibility.refresh_privacy``), and they become private then."""
    use_cases = sa.table("use_cases", sa.column("channel_id", sa.String),
                         sa.column("private", sa.Boolean))
    closed = sa.or_(use_cases.c.channel_id.startswith("G"), use_cases.c.channel_id.startswith("D"))
    op.get_bind().execute(use_cases.update().where(closed).values(private=True))


def downgrade() -> None:
    op.drop_index("ix_use_cases_private_channel", table_name="use_cases")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE use_cases DROP COLUMN private")  # SQLite 3.35+, in place
    else:
        op.drop_column("use_cases", "private")
