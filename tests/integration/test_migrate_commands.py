"""`bizdevops migrate current | history | downgrade | sql` and the plain `alembic` command, on
SQLite and PostgreSQL: what they print, and that the printed SQL, run by hand, migrates."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot import cli
from storage.database import make_engine
from storage.migrate import MIGRATIONS, check_schema, current_revision, head_revision
from tests.integration.test_migrations import schema_diff

ROOT = Path(__file__).resolve().parents[2]
HEAD = head_revision()
REVISIONS = sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))


async def bizdevops(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str,
                    *args: str) -> tuple[int, str, str]:
    """Run the console script's main in a thread (it runs its own event loop)."""
    monkeypatch.setenv("DATABASE_URL", url)
    capsys.readouterr()
    status = await asyncio.to_thread(cli.main, ["migrate", *args])
    out, err = capsys.readouterr()
    return status, out, err


async def revision_at(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def at_head_without_drift(url: str) -> None:
    engine = make_engine(url)
    try:
        await check_schema(engine)
        assert await schema_diff(engine) == []
    finally:
        await engine.dispose()


async def run_sql_by_hand(url: str, sql: str) -> None:
    """What a DBA does with the printed SQL: feed it to the database's own client."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(str(parsed.database)) as conn:
            conn.executescript(sql)
        return
    conn = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_current_says_head_and_history_lists_every_revision(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bizdevops(monkeypatch, capsys, database_url, "current") == (0, f"{HEAD} (head)\n", "")

    status, out, _ = await bizdevops(monkeypatch, capsys, database_url, "history")

    assert status == 0
    assert out.startswith(f"{REVISIONS[-2]} -> {HEAD} (head) (current), ")
    for older, newer in zip(["<base>", *REVISIONS], REVISIONS, strict=False):
        assert f"{older} -> {newer}" in out


async def test_downgrade_needs_a_target_then_steps_back_and_migrate_comes_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = REVISIONS[-2]
    status, out, err = await bizdevops(monkeypatch, capsys, database_url, "downgrade")
    assert (status, out) == (2, "")
    assert "needs a target" in err and "-1" in err
    assert await revision_at(database_url) == HEAD

    status, out, _ = await bizdevops(monkeypatch, capsys, database_url, "downgrade", "-1")

    assert status == 0
    assert out == (f"database schema downgraded from revision {HEAD} to {previous}; "
                   f"`bizdevops migrate` brings it back to {HEAD}\n")
    assert await revision_at(database_url) == previous
    status, out, _ = await bizdevops(monkeypatch, capsys, database_url, "current")
    assert out == f"{previous}\nbehind: this code needs revision {HEAD}; run `bizdevops migrate`\n"

    assert await bizdevops(monkeypatch, capsys, database_url) == (
        0, f"database schema at revision {HEAD}\n", "")
    await at_head_without_drift(database_url)


async def test_a_revision_the_code_does_not_know_is_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = await bizdevops(monkeypatch, capsys, database_url, "downgrade", "0999")

    assert (status, out) == (1, "")
    assert err == "bizdevops: migrate downgrade: Can't locate revision identified by '0999'\n"
    assert await revision_at(database_url) == HEAD


async def test_sql_from_the_databases_revision_runs_by_hand_to_head(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two revisions back, `migrate sql` prints 0018 and 0019 for the configured dialect; a
    DBA's client runs it and the schema is exactly the models'."""
    await bizdevops(monkeypatch, capsys, database_url, "downgrade", "0017")
    dialect = make_url(database_url).get_backend_name()

    status, sql, _ = await bizdevops(monkeypatch, capsys, database_url, "sql")

    assert status == 0
    assert sql.startswith(f"-- bizdevops migrate sql: from 0017 to head ({HEAD}), for {dialect} "
                          "(DATABASE_URL's dialect)\n")
    assert "-- Running upgrade 0017 -> 0018" in sql
    assert "ALTER TABLE deployments ADD COLUMN change_kind VARCHAR(16)" in sql
    assert "ALTER TABLE api_tokens ADD COLUMN scopes VARCHAR(200) DEFAULT 'metrics:write' NOT NULL" in sql
    assert f"UPDATE alembic_version SET version_num='{HEAD}'" in sql
    assert ("TIMESTAMP WITH TIME ZONE" in sql) == (dialect == "postgresql")
    assert await revision_at(database_url) == "0017"  # printed, not run

    await run_sql_by_hand(database_url, sql)

    await at_head_without_drift(database_url)
    assert await bizdevops(monkeypatch, capsys, database_url, "sql") == (
        0, f"-- bizdevops migrate sql: from {HEAD} to head ({HEAD}), for {dialect} (DATABASE_URL's "
           f"dialect)\n-- the database is at head ({HEAD}): nothing to upgrade\n", "")


async def test_sql_for_an_empty_database_starts_at_base(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL: every migration, from CREATE TABLE on, runs by hand to the models' schema.
    SQLite rebuilds tables by copying them (batch mode), which needs the live database: the
    command says from where it can print instead of printing half."""
    status, out, _ = await bizdevops(monkeypatch, capsys, empty_url, "current")
    assert (status, out) == (0, "no revision: the database has no schema yet; run `bizdevops migrate`\n")

    status, sql, err = await bizdevops(monkeypatch, capsys, empty_url, "sql")

    if make_url(empty_url).get_backend_name() == "sqlite":
        assert status == 1
        assert err == ("bizdevops: migrate sql: revision 0007 rebuilds a sqlite table by copying it, "
                       "which needs the live database, so printed SQL for sqlite must start after it "
                       "(FROM 0007 or later); run `bizdevops migrate` instead\n")
        return
    assert status == 0
    assert sql.startswith("-- bizdevops migrate sql: from base (an empty database) to head")
    assert "CREATE TABLE use_cases (" in sql and "CREATE TABLE alembic_version (" in sql
    assert sql.count("-- WARNING") == 3  # the row-by-row backfills of 0005, 0007 and 0015
    await run_sql_by_hand(empty_url, sql)
    await at_head_without_drift(empty_url)


async def test_sql_needs_no_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    status, out, err = await bizdevops(monkeypatch, capsys, nowhere, "sql")
    assert (status, err) == (0, "")  # no database to ask where it stands: every migration
    assert out.startswith("-- the database could not be read (cannot connect to 127.0.0.1:9")
    assert "from base (an empty database) to head" in out and "CREATE TABLE use_cases (" in out

    status, sql, err = await bizdevops(monkeypatch, capsys, nowhere, "sql", "0018:0019")

    assert (status, err) == (0, "")
    assert "ALTER TABLE deployments ADD COLUMN api_token VARCHAR(64) DEFAULT '' NOT NULL;" in sql
    assert sql.count("-- Running upgrade") == 1
    assert (await bizdevops(monkeypatch, capsys, nowhere, "sql", "0018"))[0] == 2


async def test_the_plain_alembic_command_reads_database_url_like_the_bot(
    database_url: str, tmp_path: Path
) -> None:
    """alembic.ini at the root: `alembic current`, `downgrade -1` and `upgrade head` on the
    database DATABASE_URL names (a Heroku-style URL too: the bot picks the async driver)."""
    plain = make_url(database_url).set(drivername=make_url(database_url).get_backend_name())
    env = {**os.environ, "DATABASE_URL": plain.render_as_string(hide_password=False)}

    def alembic(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=tmp_path if args[0] == "-c"
                              else ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert alembic("current") == f"{HEAD} (head)\n"
    alembic("downgrade", "-1")
    assert alembic("current") == f"{REVISIONS[-2]}\n"
    alembic("-c", str(ROOT / "alembic.ini"), "upgrade", "head")  # from elsewhere, too
    assert alembic("current") == f"{HEAD} (head)\n"
    await at_head_without_drift(database_url)
