"""`bizdevops migrate [current | history | downgrade REV | sql [FROM:TO]]`: Alembic's own commands
on the bot's migrations and on the database that ``DATABASE_URL`` names."""

from __future__ import annotations

import argparse
import io
import sys

from bot.config import Settings

ACTIONS = ("current", "history", "downgrade", "sql")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    migrate = sub.add_parser(
        "migrate", help="bring the database schema to the newest version "
                        "(or: current, history, downgrade REV|-1, sql [FROM:TO])",
        description="Without an action: upgrade the schema to the newest revision (head).")
    migrate.add_argument("action", nargs="?", choices=ACTIONS, metavar="ACTION",
                         help="current: the database's revision; history: every revision; "
                              "downgrade REV: step back to REV (-1: one step, base: nothing left) — "
                              "what those migrations added is dropped with its data; "
                              "sql [FROM:TO]: print the upgrade's SQL for a DBA without running it")
    migrate.add_argument("target", nargs="?", metavar="REV",
                         help="downgrade: a revision such as 0018, -1 or base; sql: FROM:TO, e.g. "
                              "0017:head or base:head (default: the database's revision to head)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from alembic.util import CommandError

    from storage.database import connect_check, make_engine

    action, target = args.action, args.target
    if action == "sql":
        return await _sql(settings, target)
    if action == "downgrade" and not target:
        return _fail("migrate downgrade needs a target: a revision such as 0018, -1 for one "
                     "step back, or base (every table dropped)", 2)
    if target and action != "downgrade":
        return _fail(f"migrate {action or ''} takes no revision".replace("  ", " "), 2)
    engine = make_engine(settings.database_url)
    try:
        await connect_check(engine)
        if action is None:
            return await _upgrade(engine)
        if action == "downgrade":
            return await _downgrade(engine, str(target))
        return await _show(engine, action)
    except CommandError as refused:
        return _fail(f"migrate {action}: {str(refused).splitlines()[0]}", 1)
    finally:
        await engine.dispose()


async def _upgrade(engine) -> int:  # type: ignore[no-untyped-def]
    from storage.migrate import current_revision, upgrade

    await upgrade(engine)
    print(f"database schema at revision {await current_revision(engine)}")
    return 0


async def _show(engine, action: str) -> int:  # type: ignore[no-untyped-def]
    from storage.migrate import current_revision, head_revision, show_current, show_history

    out = io.StringIO()
    await (show_current if action == "current" else show_history)(engine, out)
    print(out.getvalue(), end="")
    if action == "current":
        current, head = await current_revision(engine), head_revision()
        if current is None:
            print("no revision: the database has no schema yet; run `bizdevops migrate`")
        elif current != head:
            print(f"behind: this code needs revision {head}; run `bizdevops migrate`")
    return 0


async def _downgrade(engine, target: str) -> int:  # type: ignore[no-untyped-def]
    from storage.migrate import current_revision, downgrade, head_revision

    before = await current_revision(engine)
    await downgrade(engine, target)
    after = await current_revision(engine)
    if before == after:
        print(f"database schema already at revision {after or 'base'}: nothing to do")
        return 0
    print(f"database schema downgraded from revision {before} to {after or 'base (no tables)'}; "
          f"`bizdevops migrate` brings it back to {head_revision()}")
    return 0


async def _sql(settings: Settings, given: str | None) -> int:
    """The upgrade's SQL on stdout, for DATABASE_URL's dialect. With FROM:TO no database is
    touched; without, the database's revision is read (only that) to start from, and when it
    cannot be read every migration is printed."""
    from sqlalchemy.engine import make_url

    from storage.database import DatabaseUnavailable
    from storage.migrate import CannotPrint, head_revision, upgrade_sql

    dialect = make_url(settings.database_url).get_backend_name()
    if given is not None and ":" not in given:
        return _fail(f"migrate sql takes a range FROM:TO, e.g. `sql {given}:head` or "
                     "`sql base:head` (an empty database)", 2)
    if given is None:
        try:
            start, end = await _database_revision(settings), "head"
        except DatabaseUnavailable as down:  # no database to ask: every migration, as for a new one
            print(f"-- the database could not be read ({down}): every migration follows")
            start, end = None, "head"
    else:
        start, _, end = given.partition(":")
        start, end = (None if start in ("", "base") else start), end or "head"
    head = head_revision()
    shown_end = f"head ({head})" if end in ("head", head) else end
    print(f"-- bizdevops migrate sql: from {start or 'base (an empty database)'} to {shown_end}, "
          f"for {dialect} (DATABASE_URL's dialect)")
    if start == head and end in ("head", head):
        print(f"-- the database is at head ({head}): nothing to upgrade")
        return 0
    try:
        print(upgrade_sql(dialect, start, end), end="")
    except CannotPrint as why:
        return _fail(f"migrate sql: {why}", 1)
    return 0


async def _database_revision(settings: Settings) -> str | None:
    """The database's revision (None: an empty one); DatabaseUnavailable when out of reach."""
    from storage.database import connect_check, make_engine
    from storage.migrate import current_revision

    engine = make_engine(settings.database_url)
    try:
        await connect_check(engine)
        return await current_revision(engine)
    finally:
        await engine.dispose()


def _fail(said: str, status: int) -> int:
    print(f"bizdevops: {said}", file=sys.stderr)
    return status
