"""``bizdevops backup FILE``: SQLite's online backup while a writer is busy is one consistent
snapshot (every transaction whole, the write-ahead log's pages included), a database the bot
starts on; an existing FILE is kept unless --force; PostgreSQL gets the pg_dump command."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.cli import main
from storage.backup import BackupRefused, SqliteFile, backup_sqlite
from storage.database import make_engine
from storage.migrate import check_schema, head_revision, upgrade


def migrated(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"

    async def run() -> None:
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return url


class Writer(threading.Thread):
    """Commits pairs of rows (n, -n) as fast as it can, never checkpointing: they live in the WAL."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.committed, self.stop = path, 0, threading.Event()
        self.failed: BaseException | None = None

    def run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            connection.execute("PRAGMA wal_autocheckpoint=0")
            while not self.stop.is_set():
                n = self.committed + 1
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany("INSERT INTO ticks (n) VALUES (?)", [(n,), (-n,)])
                connection.execute("COMMIT")
                self.committed = n
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.failed = error
        finally:
            connection.close()


def test_a_copy_taken_while_a_writer_commits_is_whole_and_has_the_rows(tmp_path: Path) -> None:
    live = tmp_path / "bizdevops.db"
    migrated(live)
    with sqlite3.connect(live) as setup:
        setup.execute("CREATE TABLE ticks (n INTEGER NOT NULL)")
    writer = Writer(live)
    writer.start()
    while writer.committed < 200 and writer.is_alive():
        time.sleep(0.01)
    assert (tmp_path / "bizdevops.db-wal").stat().st_size > 0
    before = writer.committed
    made = backup_sqlite(SqliteFile(str(live)), tmp_path / "copy.db")
    after = writer.committed
    writer.stop.set()
    writer.join(10)
    assert writer.failed is None and after > before >= 200

    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no -wal
        count, total, top = copy.execute("SELECT count(*), sum(n), max(n) FROM ticks").fetchone()
        assert before <= top <= after and count == 2 * top and total == 0  # whole transactions only
        assert made.tables["ticks"] == count
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    finally:
        copy.close()
    assert not (tmp_path / "copy.db-wal").exists()


def test_the_command_copies_a_database_the_bot_starts_on_and_keeps_an_existing_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated(tmp_path / "live.db"))
    target = tmp_path / "backup.db"
    assert main(["backup", str(target)]) == 0
    assert f"written to {target}" in capsys.readouterr().out

    async def starts() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{target}")
        try:
            await check_schema(engine)  # what `serve` checks before it starts
        finally:
            await engine.dispose()

    asyncio.run(starts())

    target.write_bytes(b"an older backup")
    assert main(["backup", str(target)]) == 1
    assert "exists already" in capsys.readouterr().err and target.read_bytes() == b"an older backup"
    assert main(["backup", "--force", str(target)]) == 0
    assert target.read_bytes().startswith(b"SQLite format 3\x00")
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_the_database_s_own_files_and_a_missing_database_are_refused(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    migrated(live)
    for own in ("live.db", "live.db-wal", "live.db-shm"):
        with pytest.raises(BackupRefused) as refused:
            backup_sqlite(SqliteFile(str(live)), tmp_path / own, force=True)
        assert refused.value.reason == "same"
    with pytest.raises(BackupRefused) as refused:
        backup_sqlite(SqliteFile(str(tmp_path / "gone.db")), tmp_path / "copy.db")
    assert refused.value.reason == "missing"
    assert not (tmp_path / "gone.db").exists() and not (tmp_path / "copy.db").exists()


def test_postgresql_is_told_the_pg_dump_command_without_its_password(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:s3cret@db.internal:6432/bizdevops")
    assert main(["backup", "/backups/bizdevops.dump"]) == 1
    said = capsys.readouterr().err
    assert ("pg_dump --format=custom --file=/backups/bizdevops.dump --host=db.internal --port=6432 "
            "--username=bot --dbname=bizdevops") in said
    assert "s3cret" not in said
