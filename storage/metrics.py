"""KPI points, targets and API tokens. Every query here issues a fixed number of statements,
whatever the number of use cases or points (see benchmarks/)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.ports import ApiToken, ConcurrentUpdate, CrossingRow, StoredPoint, StoredTarget
from storage.kpi_models import ApiTokenRow, MetricCrossingRow, MetricPointRow, MetricTargetRow
from storage.models import UseCaseRow


class SqlMetricRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _use_case_ids(self, slugs: set[str]) -> dict[str, int]:
        rows = await self._session.execute(
            select(UseCaseRow.slug, UseCaseRow.id).where(UseCaseRow.slug.in_(slugs)))
        return {slug: row_id for slug, row_id in rows}

    async def add_points(self, points: list[tuple[str, StoredPoint]], recorded_by: str,
                         received_at: datetime) -> None:
        """(slug, point) pairs in one go; an unknown slug raises LookupError (nothing stored)."""
        ids = await self._use_case_ids({slug for slug, _ in points})
        missing = sorted({slug for slug, _ in points} - ids.keys())
        if missing:
            raise LookupError(missing[0])
        self._session.add_all(
            MetricPointRow(use_case_id=ids[slug], name=p.name, value=p.value, unit=p.unit,
                           at=p.at, received_at=received_at, recorded_by=recorded_by)
            for slug, p in points
        )
        await self._session.flush()

    async def series(self, slug: str, *, since: datetime,
                     before: tuple[datetime, ...] = ()) -> dict[str, list[StoredPoint]]:
        """Every KPI's points since ``since``; with ``before`` (moments not after ``since``),
        also each KPI's newest point before ``since`` — the value "back then" for a moment at
        the window's start. Two statements in all."""
        use_case = select(UseCaseRow.id).where(UseCaseRow.slug == slug).scalar_subquery()
        rows = list(await self._session.scalars(
            select(MetricPointRow)
            .where(MetricPointRow.use_case_id == use_case, MetricPointRow.at >= since)
            .order_by(MetricPointRow.name, MetricPointRow.at, MetricPointRow.id)
        ))
        if before:
            rows += await self._newest_before(use_case, min(before), since)
        out: dict[str, list[StoredPoint]] = defaultdict(list)
        for r in sorted(rows, key=lambda r: (r.name, r.at, r.id)):
            out[r.name].append(StoredPoint(r.name, r.value, r.unit, r.at))
        return dict(out)

    async def _newest_before(self, use_case, moment: datetime, since: datetime) -> list[MetricPointRow]:  # type: ignore[no-untyped-def]
        """Per name, the newest point in the stretch before ``since`` (at or before the moment)."""
        newest = (
            select(MetricPointRow.name, func.max(MetricPointRow.at).label("at"))
            .where(MetricPointRow.use_case_id == use_case, MetricPointRow.at < since)
            .group_by(MetricPointRow.name).subquery()
        )
        return list(await self._session.scalars(
            select(MetricPointRow).join(newest, and_(MetricPointRow.name == newest.c.name,
                                                     MetricPointRow.at == newest.c.at))
            .where(MetricPointRow.use_case_id == use_case)
        ))

    async def newest_received(self, slug: str, name: str, after: datetime) -> StoredPoint | None:
        """The KPI's value the bot received last, if it received it after ``after``."""
        row = await self._session.scalar(
            select(MetricPointRow).join(UseCaseRow, UseCaseRow.id == MetricPointRow.use_case_id)
            .where(UseCaseRow.slug == slug, MetricPointRow.name == name,
                   MetricPointRow.received_at > after)
            .order_by(MetricPointRow.received_at.desc(), MetricPointRow.id.desc()).limit(1))
        return None if row is None else StoredPoint(row.name, row.value, row.unit, row.at)

    async def newest_at(self, slug: str, name: str) -> datetime | None:
        return await self._session.scalar(
            select(func.max(MetricPointRow.at))
            .join(UseCaseRow, UseCaseRow.id == MetricPointRow.use_case_id)
            .where(UseCaseRow.slug == slug, MetricPointRow.name == name))

    async def targets(self, slug: str) -> dict[str, StoredTarget]:
        rows = await self._session.scalars(
            select(MetricTargetRow).join(UseCaseRow, UseCaseRow.id == MetricTargetRow.use_case_id)
            .where(UseCaseRow.slug == slug)
        )
        return {r.name: StoredTarget(r.name, r.op, r.value, r.state) for r in rows}

    async def set_target(self, slug: str, name: str, op: str, value: float, by: str,
                         at: datetime, state: str | None) -> None:
        ids = await self._use_case_ids({slug})
        row = await self._session.get(MetricTargetRow, (ids[slug], name))
        if row is None:
            self._session.add(MetricTargetRow(use_case_id=ids[slug], name=name, op=op, value=value,
                                              set_by=by, set_at=at, state=state))
        else:
            row.op, row.value, row.set_by, row.set_at, row.state = op, value, by, at, state
        await self._session.flush()

    async def flip_target_state(self, slug: str, name: str, expected: str | None,
                                new: str) -> bool:
        """Guarded: True only for the one writer that saw ``expected`` (announce once)."""
        ids = await self._use_case_ids({slug})
        state_is = (MetricTargetRow.state.is_(None) if expected is None
                    else MetricTargetRow.state == expected)
        result = await self._session.execute(
            update(MetricTargetRow)
            .where(MetricTargetRow.use_case_id == ids[slug], MetricTargetRow.name == name, state_is)
            .values(state=new).returning(MetricTargetRow.name)
        )
        return result.scalar_one_or_none() is not None


    async def add_crossing(self, c: CrossingRow) -> None:
        ids = await self._use_case_ids({c.slug})
        self._session.add(MetricCrossingRow(use_case_id=ids[c.slug], name=c.name, at=c.at, met=c.met,
                                            value=c.value, unit=c.unit, op=c.op, target=c.target))
        await self._session.flush()


class SqlTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, name: str, token_hash: str, now: datetime,
                     scopes: tuple[str, ...] = ("metrics:write",)) -> None:
        self._session.add(ApiTokenRow(name=name, token_hash=token_hash, created_at=now,
                                      scopes=" ".join(scopes)))
        try:
            await self._session.flush()
        except IntegrityError:
            raise ConcurrentUpdate(name) from None

    async def all(self) -> list[ApiToken]:
        rows = await self._session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name))
        return [_token(r) for r in rows]

    async def revoke(self, name: str, now: datetime) -> bool:
        result = await self._session.execute(
            update(ApiTokenRow).where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now).returning(ApiTokenRow.id)
        )
        return result.scalar_one_or_none() is not None

    async def use(self, token_hash: str, now: datetime) -> ApiToken | None:
        """The live token with this hash (its use noted), or None."""
        result = await self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked_at.is_(None))
            .values(last_used_at=now)
            .returning(ApiTokenRow.name, ApiTokenRow.created_at, ApiTokenRow.scopes)
        )
        row = result.one_or_none()
        return None if row is None else ApiToken(row.name, row.created_at, None, now,
                                                 tuple(row.scopes.split()))


def _token(r: ApiTokenRow) -> ApiToken:
    return ApiToken(r.name, r.created_at, r.revoked_at, r.last_used_at, tuple(r.scopes.split()))
