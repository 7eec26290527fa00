"""The shell's ``sql NAME STMT``: a data engineer changing the data a KPI source reads."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.config_files import kpi_config_for


async def run_statement(settings: Settings, connection: str, statement: str) -> str:
    """Run ``statement`` on a connection of the KPI source file, as someone changing the
    data there would: the next pull reads what it left."""
    urls = kpi_config_for(settings).connection_urls
    if connection not in urls:
        known = ", ".join(sorted(urls)) or "none: set BIZDEVOPS_KPI_SOURCES"
        raise LookupError(f"no connection {connection!r} in the KPI source file (known: {known})")
    engine = create_async_engine(urls[connection])
    try:
        async with engine.begin() as conn:
            changed = (await conn.execute(text(statement))).rowcount
    except SQLAlchemyError as bad:
        raise LookupError(f"{connection}: {getattr(bad, 'orig', None) or bad}") from None
    finally:
        await engine.dispose()
    return f"({connection}: done" + (f", {changed} rows)" if changed and changed > 0 else ")")
