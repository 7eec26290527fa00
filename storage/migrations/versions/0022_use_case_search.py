"""the portfolio's search by trigrams on PostgreSQL: a GIN index on use cases' lower(slug), lower(title)

`%term%` matches no B-tree index: the searched portfolio read every use case twice (its page
and its phase counts), 13-21 ms each at 10,000 use cases idle, 30-60 ms under load. pg_trgm's
GIN index serves ILIKE '%term%' for terms of three characters or more: ~1 ms. pg_trgm is a
trusted extension (PostgreSQL 13+): a database owner may create it. It indexes lower(slug) and
lower(title), which only the search asks for: on the bare columns the planner also took it for
`slug IN (…)` lookups (pg_trgm serves equality too), 220 ms each instead of the unique index's
0.2 ms. Where pg_trgm cannot be had, the search works as before, by scanning; SQLite always
scans (its searched portfolio met its target).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import context, op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    if context.get_context().dialect.name != "postgresql":
        return
    # Offline (`bizdevops migrate sql`) the DBA reads it; online, it is made if it can be.
    if not context.is_offline_mode() and not _trigrams_usable():
        log.warning("pg_trgm is not available: the portfolio's search scans the use cases")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_use_cases_search ON use_cases "
               "USING gin (lower(slug) gin_trgm_ops, lower(title) gin_trgm_ops)")


def _trigrams_usable() -> bool:
    return bool(op.get_bind().execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"
        " OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')"
        "     AND has_database_privilege(current_database(), 'CREATE'))")).scalar())


def downgrade() -> None:
    if context.get_context().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_use_cases_search")
