"""``bizdevops backup FILE``: a consistent copy of the SQLite database, safe while the bot runs.

SQLite's online backup API copies every page in one step from one read transaction: a snapshot
of what was committed, the write-ahead log's pages included, while the bot's writer goes on (WAL
readers do not block it). The copy is written beside FILE, checked with ``PRAGMA
integrity_check``, switched to a rollback journal (one self-contained file, no -wal/-shm), and
only then moved into place — never over an existing file unless asked. PostgreSQL is backed up
with ``pg_dump``: :func:`pg_dump_argv` is the command for a ``DATABASE_URL``, without its password.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """Why no copy was made: ``reason`` is a key (``exists``, ``missing``, ``in_memory``, ``same``,
    ``damaged``, ``unreadable``, ``unwritable``), ``facts`` what the words need."""

    def __init__(self, reason: str, **facts: str) -> None:
        super().__init__(reason, facts)
        self.reason = reason
        self.facts = facts


@dataclass(frozen=True)
class SqliteFile:
    path: str                     # a file name, or a ``file:`` URI when ``uri``
    uri: bool = False


@dataclass(frozen=True)
class BackupMade:
    path: Path
    size: int                     # bytes
    tables: dict[str, int] = field(default_factory=dict)  # rows a table, alembic_version aside


def sqlite_file(database_url: str) -> SqliteFile | None:
    """The database file a ``sqlite`` URL names; None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or "mode=memory" in database:
        raise BackupRefused("in_memory")
    return SqliteFile(database, uri=str(url.query.get("uri", "")).lower() == "true")


def backup_sqlite(source: SqliteFile, target: Path, *, force: bool = False) -> BackupMade:
    """Copy ``source`` to ``target`` (see the module's docstring); BackupRefused says why not."""
    if not source.uri:
        if not Path(source.path).is_file():
            raise BackupRefused("missing", database=source.path)
        if target.resolve() in _files_of(Path(source.path).resolve()):  # a -wal yet to come too
            raise BackupRefused("same", file=str(target))
    if target.exists() and not force:
        raise BackupRefused("exists", file=str(target))
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        made = _copy(source, partial)
        _move_into_place(partial, target, force=force)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupMade(target, target.stat().st_size, made)


def _files_of(database: Path) -> set[Path]:
    return {database, *(database.with_name(database.name + end) for end in ("-wal", "-shm", "-journal"))}


def _copy(source: SqliteFile, partial: Path) -> dict[str, int]:
    name = source.path if source.uri else Path(source.path).absolute().as_uri() + "?mode=rw"  # never create
    try:
        origin = sqlite3.connect(name, uri=True, timeout=30)
    except sqlite3.Error as error:
        raise BackupRefused("unreadable", database=source.path, error=str(error)) from None
    try:
        copy = sqlite3.connect(partial)
    except sqlite3.Error as error:
        origin.close()
        raise BackupRefused("unwritable", file=str(partial.parent), error=str(error)) from None
    try:
        origin.backup(copy)  # every page in one step: one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")
        return _checked(copy, source.path)
    except sqlite3.Error as error:
        raise BackupRefused("unreadable", database=source.path, error=str(error)) from None
    finally:
        copy.close()
        origin.close()


def _checked(copy: sqlite3.Connection, database: str) -> dict[str, int]:
    verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    if verdict != ["ok"]:
        raise BackupRefused("damaged", database=database, error="; ".join(map(str, verdict[:3])))
    names = [row[0] for row in copy.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: int(copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
            for name in names if name != "alembic_version"}


def _move_into_place(partial: Path, target: Path, *, force: bool) -> None:
    if force:
        os.replace(partial, target)
        return
    try:
        os.link(partial, target)  # fails if FILE appeared meanwhile: never a silent overwrite
    except FileExistsError:
        raise BackupRefused("exists", file=str(target)) from None
    except OSError:  # a file system without hard links
        if target.exists():
            raise BackupRefused("exists", file=str(target)) from None
        os.replace(partial, target)


def pg_dump_argv(database_url: str, target: str) -> list[str]:
    """``pg_dump`` for a PostgreSQL ``DATABASE_URL`` in custom format (``pg_restore`` reads it);
    the password is left out (PGPASSWORD or ~/.pgpass gives it)."""
    url = make_url(database_url)
    argv = ["pg_dump", "--format=custom", f"--file={target}"]
    if url.host:
        argv.append(f"--host={url.host}")
    argv.append(f"--port={url.port or 5432}")
    if url.username:
        argv.append(f"--username={url.username}")
    database = url.database or "postgres"
    sslmode = url.query.get("sslmode") or url.query.get("ssl")  # libpq's name, asyncpg's
    if isinstance(sslmode, str) and sslmode.isidentifier():
        database = f"dbname={database} sslmode={sslmode}"  # a connection string, as --dbname takes
    argv.append(f"--dbname={database}")
    return argv
