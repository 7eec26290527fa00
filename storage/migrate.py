"""Alembic, driven from code: ``bizdevops migrate`` and the start-up schema check."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.schema_check import SchemaOutOfDate as SchemaOutOfDate  # re-exported
from storage.schema_check import check_schema as check_schema  # re-exported
from storage.schema_check import stored_revision

MIGRATIONS = Path(__file__).parent / "migrations"


class CannotPrint(Exception):
    """``migrate sql``: this range cannot be printed for this dialect; the message says why."""


def alembic_config(stdout: TextIO | None = None, output: TextIO | None = None) -> Config:
    """Alembic's configuration: our migrations; ``stdout`` takes what its commands print
    (current, history), ``output`` the SQL of offline mode."""
    config = Config(stdout=stdout or io.StringIO(), output_buffer=output)
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection  # env.py reuses our connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def on_connection(engine: AsyncEngine, run: Callable[[Config], None],
                        stdout: TextIO | None = None) -> None:
    """Run an Alembic command (``run(config)``) on our own connection, in one transaction."""
    def on(connection: Connection) -> None:
        config = alembic_config(stdout)
        config.attributes["connection"] = connection  # env.py reuses our connection
        run(config)

    async with engine.begin() as conn:
        await conn.run_sync(on)


async def show_current(engine: AsyncEngine, out: TextIO) -> None:
    """``alembic current``: the database's revision, ``(head)`` when it is the newest."""
    await on_connection(engine, command.current, out)


async def show_history(engine: AsyncEngine, out: TextIO) -> None:
    """``alembic history``, newest first, the database's revision marked ``(current)``."""
    await on_connection(engine, lambda c: command.history(c, indicate_current=True), out)


async def downgrade(engine: AsyncEngine, target: str) -> None:
    """Step back to ``target`` (a revision, ``-1``, ``base``); every migration has a downgrade."""
    await on_connection(engine, lambda c: command.downgrade(c, target))


def upgrade_sql(dialect: str, start: str | None, end: str = "head") -> str:
    """The SQL that upgrades from ``start`` (None: an empty database) to ``end`` on ``dialect``,
    printed by Alembic's offline mode; no database is touched."""
    from alembic.util import CommandError

    out = io.StringIO()
    config = alembic_config(output=out)
    config.attributes["dialect"] = dialect
    try:
        command.upgrade(config, f"{start or 'base'}:{end}", sql=True)
    except CommandError as refused:
        if "requires a live database connection" not in str(refused):
            raise CannotPrint(str(refused).splitlines()[0]) from None
        ran = re.findall(r"-- Running upgrade \S* -> (\S+)", out.getvalue())
        step = ran[-1] if ran else "a migration"
        raise CannotPrint(
            f"revision {step} rebuilds a {dialect} table by copying it, which needs the live "
            f"database, so printed SQL for {dialect} must start after it (FROM {step} or later); "
            "run `bizdevops migrate` instead"
        ) from None
    return out.getvalue()


current_revision = stored_revision  # the database's revision: one reader, the start-up check's
