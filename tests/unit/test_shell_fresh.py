"""`bizdevops shell --fresh` empties a SQLite file, side files too, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.simulator.fresh import NotEmptied, empty_database


def test_the_sqlite_file_and_its_side_files_are_removed(tmp_path: Path) -> None:
    files = [tmp_path / f"bizdevops.db{suffix}" for suffix in ("", "-wal", "-shm", "-journal")]
    for path in files:
        path.write_bytes(b"x")
    (tmp_path / "other.db").write_bytes(b"x")
    assert empty_database(f"sqlite+aiosqlite:///{tmp_path}/bizdevops.db") == files
    assert not any(path.exists() for path in files) and (tmp_path / "other.db").exists()
    assert empty_database(f"sqlite+aiosqlite:///{tmp_path}/bizdevops.db") == []  # none left
    assert empty_database("sqlite+aiosqlite://") == []  # in memory: empty anyway


def test_any_other_database_is_left_alone() -> None:
    with pytest.raises(NotEmptied, match="DATABASE_URL is postgresql: nothing was removed"):
        empty_database("postgresql+asyncpg://postgres@127.0.0.1/production")
