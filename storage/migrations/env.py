"""Alembic environment, three ways in:

- ``bizdevops migrate`` (storage.migrate) hands in its own connection (``config.attributes``);
- ``bizdevops migrate sql`` runs offline: it names the dialect and nothing is connected to;
- the plain ``alembic`` command (alembic.ini at the repository's root) reads ``DATABASE_URL``
  (and ``.env``) the way the bot does and connects itself.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.models import Base, compared

config = context.config


def _environment_url() -> str:
    """DATABASE_URL as the bot reads it (``.env`` too; the same default and driver choice)."""
    from bot.config import DEFAULT_DATABASE_URL, ConfigError, async_database_url, load_dotenv_file

    load_dotenv_file()
    try:
        return async_database_url(os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
                                  "DATABASE_URL")
    except ConfigError as bad:
        raise SystemExit(f"bizdevops: {bad}") from None


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER most things
        compare_type=True,
        include_object=compared,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    """SQL for a DBA: printed, not run. Data steps that must read rows say so in a comment."""
    dialect = config.attributes.get("dialect")
    if dialect is None:
        from sqlalchemy.engine import make_url

        dialect = make_url(_environment_url()).get_backend_name()
    context.configure(
        dialect_name=dialect,
        target_metadata=Base.metadata,
        render_as_batch=dialect == "sqlite",
        literal_binds=True,
        compare_type=True,
        include_object=compared,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_environment() -> None:
    from storage.database import DatabaseUnavailable, connect_check, make_engine

    engine = make_engine(_environment_url())
    try:
        await connect_check(engine)
        async with engine.begin() as conn:
            await conn.run_sync(_run_on)
    except DatabaseUnavailable as down:
        raise SystemExit(f"bizdevops: DATABASE_URL: {down}") from None
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _run_offline()
elif (handed_in := config.attributes.get("connection")) is not None:
    _run_on(handed_in)
else:
    if config.config_file_name:  # alembic.ini's loggers: "Running upgrade …" on stderr
        from logging.config import fileConfig

        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_from_environment())
