"""KPI points, targets, crossings and API tokens in memory, as ``storage/metrics.py`` keeps them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.services.ports import ApiToken, CrossingRow, StoredPoint, StoredTarget
from tests.fakes.tables import Ids, PointRow, Tables


class MemoryMetricRepository:
    def __init__(self, tables: Tables, ids: Ids) -> None:
        self._tables = tables
        self._ids = ids

    def _ensure_use_case(self, slug: str) -> None:
        """Where SQL looks the slug up in a dict of ids, an unknown one is a KeyError."""
        if slug not in self._tables.use_cases:
            raise KeyError(slug)

    def _points_of(self, slug: str) -> list[tuple[int, StoredPoint]]:
        return [(i, row.point) for i, row in self._tables.points.rows.items() if row.slug == slug]

    async def add_points(self, points: list[tuple[str, StoredPoint]], recorded_by: str,
                         received_at: datetime) -> None:
        """An unknown slug raises LookupError, and nothing is stored. (Who recorded a point,
        like who set a target, is kept by SQL for people; nothing reads it back.)"""
        missing = sorted({slug for slug, _ in points if slug not in self._tables.use_cases})
        if missing:
            raise LookupError(missing[0])
        for slug, point in points:
            self._tables.points.put(self._ids.new("points"), PointRow(slug, point, received_at))

    async def newest_received(self, slug: str, name: str, after: datetime) -> StoredPoint | None:
        fresh = [(row.received_at, i, row.point) for i, row in self._tables.points.rows.items()
                 if row.slug == slug and row.point.name == name and row.received_at > after]
        return max(fresh, key=lambda found: found[:2])[2] if fresh else None

    async def series(self, slug: str, *, since: datetime,
                     before: tuple[datetime, ...] = ()) -> dict[str, list[StoredPoint]]:
        """Points since ``since`` by name; with ``before``, also each name's newest points
        before ``since`` (all of them if several share that moment, as SQL's join gives)."""
        mine = self._points_of(slug)
        rows = [(i, p) for i, p in mine if p.at >= since]
        if before:
            earlier = [(i, p) for i, p in mine if p.at < since]
            newest: dict[str, datetime] = {}
            for _i, p in earlier:
                newest[p.name] = max(p.at, newest.get(p.name, p.at))
            rows += [(i, p) for i, p in earlier if p.at == newest[p.name]]
        out: dict[str, list[StoredPoint]] = {}
        for _i, p in sorted(rows, key=lambda item: (item[1].name, item[1].at, item[0])):
            out.setdefault(p.name, []).append(p)
        return out

    async def newest_at(self, slug: str, name: str) -> datetime | None:
        return max((p.at for _i, p in self._points_of(slug) if p.name == name), default=None)

    async def targets(self, slug: str) -> dict[str, StoredTarget]:
        return {name: t for (of, name), t in self._tables.targets.rows.items() if of == slug}

    async def set_target(self, slug: str, name: str, op: str, value: float, by: str,
                         at: datetime, state: str | None) -> None:
        self._ensure_use_case(slug)
        self._tables.targets.put((slug, name), StoredTarget(name, op, value, state))

    async def flip_target_state(self, slug: str, name: str, expected: str | None,
                                new: str) -> bool:
        """Guarded: True only for the one writer that saw ``expected``."""
        self._ensure_use_case(slug)
        target = self._tables.targets.get((slug, name))
        if target is None or target.state != expected:
            return False
        self._tables.targets.put((slug, name), replace(target, state=new))
        return True

    async def add_crossing(self, crossing: CrossingRow) -> None:
        self._ensure_use_case(crossing.slug)
        self._tables.crossings.put(self._ids.new("crossings"), crossing)


class MemoryTokenRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._tokens = tables.api_tokens
        self._hashes = tables.token_hashes

    async def create(self, name: str, token_hash: str, now: datetime,
                     scopes: tuple[str, ...] = ("metrics:write",)) -> None:
        """Names and hashes are unique, also those of revoked tokens."""
        if name in self._tokens or token_hash in self._hashes:
            raise self._tables.duplicate(name)
        self._tokens.put(name, ApiToken(name, now, None, None, scopes))
        self._hashes.put(token_hash, name)

    async def all(self) -> list[ApiToken]:
        return [self._tokens.rows[name] for name in sorted(self._tokens.rows)]

    async def revoke(self, name: str, now: datetime) -> bool:
        token = self._tokens.get(name)
        if token is None or token.revoked_at is not None:
            return False
        self._tokens.put(name, replace(token, revoked_at=now))
        return True

    async def use(self, token_hash: str, now: datetime) -> ApiToken | None:
        """The live token with this hash (its use noted), or None."""
        name = self._hashes.get(token_hash)
        token = None if name is None else self._tokens.get(name)
        if name is None or token is None or token.revoked_at is not None:
            return None
        used = replace(token, last_used_at=now)
        self._tokens.put(name, used)
        return used
