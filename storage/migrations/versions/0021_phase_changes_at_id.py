"""phase changes in order of (at, id): the audit trail's pages read them by one index

Many phase changes can share a moment (use cases imported at once: 10,000 in the dashboard
benchmark). Indexed on ``at`` alone, the audit page's ``ORDER BY at, id`` sorted every one of
them to return the first hundred (52 ms at 10,000 use cases); on (at, id) it reads a hundred.
The digests' "changes since" reads use the same index.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_phase_changes_at", table_name="phase_changes")
    op.create_index("ix_phase_changes_at", "phase_changes", ["at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_phase_changes_at", table_name="phase_changes")
    op.create_index("ix_phase_changes_at", "phase_changes", ["at"], unique=False)
