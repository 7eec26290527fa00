"""``bizdevops backup FILE [--force]``: the words around storage/backup.py, the one command that
copies the database (SQLite) or says how to (PostgreSQL, ``pg_dump``)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from storage.backup import BackupRefused, backup_sqlite, pg_dump_argv, sqlite_file

REFUSED = {
    "exists": "{file} exists already: name another FILE, or add --force to replace it",
    "missing": "DATABASE_URL names {database}, which does not exist: there is nothing to back up",
    "in_memory": "DATABASE_URL is an in-memory SQLite database: nothing of it outlives the process",
    "same": "{file} is the database itself or one of its files: name another FILE",
    "damaged": "the copy of {database} failed SQLite's integrity check ({error}); nothing was written",
    "unreadable": "cannot read the database {database}: {error}",
    "unwritable": "cannot write in {file}: {error}",
}


def backup(database_url: str, file: str, *, force: bool = False) -> int:
    """Copy the SQLite database to ``file``; 0 when the copy is in place, 1 otherwise."""
    try:
        source = sqlite_file(database_url)
        if source is None:
            return _postgres(database_url, file)
        made = backup_sqlite(source, Path(file), force=force)
    except BackupRefused as refused:
        print(f"bizdevops: backup: {REFUSED[refused.reason].format(**refused.facts)}", file=sys.stderr)
        return 1
    except OSError as failed:
        print(f"bizdevops: backup: cannot write {file}: {failed.strerror or failed}", file=sys.stderr)
        return 1
    rows = sum(made.tables.values())
    print(f"backup of {source.path} written to {made.path}: {made.size} bytes, {len(made.tables)} tables, "
          f"{rows} rows, integrity ok")
    return 0


def _postgres(database_url: str, file: str) -> int:
    command = shlex.join(pg_dump_argv(database_url, file))
    print("bizdevops: backup: `bizdevops backup` copies SQLite databases; back PostgreSQL up with\n"
          f"  {command}\n"
          "(pg_dump reads a consistent snapshot while the bot runs; the password comes from PGPASSWORD "
          "or ~/.pgpass; pg_restore --dbname=... restores it)", file=sys.stderr)
    return 1
