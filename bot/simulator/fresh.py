"""`bizdevops shell --fresh`: the simulator starts from an empty database.

Only a SQLite file is emptied (removed, with its -wal, -shm and -journal files); any other
DATABASE_URL is refused rather than wiped -- it may well be a shared or a production database.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

_SIDECARS = ("", "-wal", "-shm", "-journal")


class NotEmptied(Exception):
    """The database is not a SQLite file: nothing was removed."""


def empty_database(url: str) -> list[Path]:
    """Remove the SQLite file ``url`` names and its side files; the files removed."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        raise NotEmptied(f"only a SQLite file is emptied, and DATABASE_URL is "
                         f"{parsed.get_backend_name()}: nothing was removed; point DATABASE_URL "
                         "at an empty database instead")
    if not parsed.database or parsed.database == ":memory:":
        return []  # in memory: empty at every start
    removed = []
    for suffix in _SIDECARS:
        path = Path(parsed.database + suffix)
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
