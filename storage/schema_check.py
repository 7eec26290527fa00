"""The start-up schema check, without Alembic: `serve` refuses a database behind (or ahead of)
this code's schema. Importing Alembic costs ~0.1 s of start-up; the check needs only the
revision the database records and the newest revision among the migration scripts, read from
their `revision` and `down_revision` lines (tests/integration/test_migrations.py checks that
Alembic finds the same head)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:["'](\w+)["']|None)""",
                   re.MULTILINE)


class SchemaOutOfDate(Exception):
    pass


def code_revision() -> str:
    """The newest migration: the one no other migration follows."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in VERSIONS.glob("*.py"):
        for key, value in _LINE.findall(script.read_text(encoding="utf-8")):
            (revisions if key == "revision" else followed).add(value)
    heads = revisions - followed
    if len(heads) != 1:
        raise AssertionError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision the database records (None: no schema yet)."""
    def read(connection: Connection) -> str | None:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def check_schema(engine: AsyncEngine) -> None:
    """Refuse to run against a database behind (or ahead of) this code's schema."""
    current, head = await stored_revision(engine), code_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate("the database has no schema yet: run `bizdevops migrate` first")
    raise SchemaOutOfDate(
        f"the database schema is at revision {current} but this code needs {head}: "
        "run `bizdevops migrate`"
    )
