"""DORA by SQL aggregates: what a report needs, counted where the deployments are.

Loading every deployment of the workspace to count it took seconds at 20,000 deployments
(benchmarks/metrics_queries.py). Each deployment keeps, beside its stage JSON, when production
finished, its lead time (from its change's time, ``change_at``, else its request) and whether a
rollback blamed it (``storage.deployments``); here those columns are counted per window (with the
successes that knew no change time: measured from the request), the lead-time median is read with
ORDER BY … OFFSET, and only the failures of the window come back, each with the finish of the next
success of its use case (time to restore). Dry runs are in no number (only counted apart): each
query keeps ``REAL``. The rules are ``bot.domain.dora``'s; tests compare both on the same records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from bot.domain.dora import DoraCounts, median
from bot.domain.kpi_chart import Deployed
from bot.services.ports import Scope
from storage.models import DeploymentRow, UseCaseRow

D = DeploymentRow
Window = tuple[datetime, datetime]  # (since, until]
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])

FAILED = or_(D.state != "succeeded", D.rolled_back.is_(True))
FROM_REQUEST = or_(D.change_at.is_(None), D.kind == "rollback")  # bot.domain.dora.lead_time
REAL = D.dry_run.is_(False)  # a dry run deployed nothing: it counts apart, in no DORA number


def scoped(query: Q, scope: Scope, use_case_id: ColumnElement[int] | InstrumentedAttribute[int]) -> Q:
    """Narrow ``query`` to one use case, a channel's use cases or the public ones by
    ``use_case_id``."""
    if scope.slug is not None:
        query = query.where(use_case_id == select(UseCaseRow.id)
                            .where(UseCaseRow.slug == scope.slug).scalar_subquery())
    if scope.channel_id is not None:
        query = query.where(use_case_id.in_(select(UseCaseRow.id)
                                            .where(UseCaseRow.channel_id == scope.channel_id)))
    if scope.public_only:
        query = query.where(use_case_id.in_(select(UseCaseRow.id)
                                            .where(UseCaseRow.private.is_(False))))
    return query


def _in(window: Window) -> ColumnElement[bool]:
    return and_(D.prod_finished_at > window[0], D.prod_finished_at <= window[1])


class SqlDoraQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def counts(self, scope: Scope, windows: Sequence[Window], now: datetime) -> list[DoraCounts]:
        """Per window: 2 + len(windows) statements, whatever the number of deployments."""
        columns = []
        for window in windows:
            inside = _in(window)
            columns += [func.count(case((and_(inside, REAL), 1))),
                        func.count(case((and_(inside, REAL, FAILED), 1))),
                        func.count(case((and_(inside, ~REAL), 1))),
                        func.count(case((and_(inside, REAL, ~FAILED, FROM_REQUEST), 1)))]
        span = (min(w[0] for w in windows), max(w[1] for w in windows))
        totals = (await self._session.execute(
            scoped(select(*columns).where(_in(span)), scope, D.use_case_id))).one()
        restores = await self._restores(scope, windows, now)
        out = []
        for i, window in enumerate(windows):
            deployments, failed, dry_runs, from_request = totals[4 * i:4 * i + 4]
            restored = [seconds for w, seconds in restores if w == i]
            out.append(DoraCounts(
                deployments=deployments, failed=failed, dry_runs=dry_runs,
                lead_time=await self._lead_time(scope, window, deployments - failed),
                time_to_restore=median([timedelta(seconds=s) for s in restored if s is not None]),
                unrestored=sum(s is None for s in restored), lead_from_request=from_request))
        return out

    async def _lead_time(self, scope: Scope, window: Window, successes: int) -> timedelta | None:
        """The median lead time of the window's successes: the middle one or two rows only."""
        query = (select(D.lead_seconds).where(_in(window), REAL, ~FAILED).order_by(D.lead_seconds)
                 .offset(max(0, (successes - 1) // 2)).limit(2 - successes % 2 if successes else 0))
        middle = [m for m in await self._session.scalars(scoped(query, scope, D.use_case_id))
                  if m is not None]
        return timedelta(seconds=sum(middle) / len(middle)) if middle else None

    async def _restores(self, scope: Scope, windows: Sequence[Window],
                        now: datetime) -> list[tuple[int, float | None]]:
        """Per failure in a window: the window's index, and the seconds to the next success of
        its use case (None if none by ``now``); numbers only, no timestamps to parse. Dry runs
        neither fail nor restore."""
        success = aliased(DeploymentRow)
        next_success = (
            select(func.min(success.prod_finished_at))
            .where(success.use_case_id == D.use_case_id, success.state == "succeeded",
                   success.rolled_back.is_(False), success.dry_run.is_(False),
                   success.prod_finished_at > D.prod_finished_at,
                   success.prod_finished_at <= now)
            .scalar_subquery()
        )
        which = case(*((_in(w), i) for i, w in enumerate(windows)))
        span = (min(w[0] for w in windows), max(w[1] for w in windows))
        rows = await self._session.execute(scoped(
            select(which, self._seconds(next_success, D.prod_finished_at))
            .where(_in(span), REAL, FAILED), scope, D.use_case_id))
        return [(int(w), None if s is None else float(s)) for w, s in rows if w is not None]

    def _seconds(self, later: Any, earlier: Any) -> ColumnElement[Any]:
        """``later - earlier`` in seconds, in SQL (each database has its own date arithmetic;
        SQLite's Julian days are exact to about a millisecond, PostgreSQL's to the microsecond)."""
        bind = self._session.bind
        if bind is not None and bind.dialect.name == "sqlite":
            return (func.julianday(later) - func.julianday(earlier)) * 86400.0
        return func.extract("epoch", later - earlier)

    async def busiest(self, window: Window, limit: int, *, public_only: bool = False) -> list[str]:
        """The use cases with the most production deployments (no dry runs) in the window, most
        first (ties: the older use case); counted from the index, slugs read for those only."""
        count = func.count().label("n")
        top = (scoped(select(D.use_case_id, count).where(_in(window), REAL),
                      Scope(public_only=public_only), D.use_case_id)
               .group_by(D.use_case_id).order_by(count.desc(), D.use_case_id).limit(limit)
               .subquery())
        rows = await self._session.execute(
            select(UseCaseRow.slug).join(top, top.c.use_case_id == UseCaseRow.id)
            .order_by(top.c.n.desc(), UseCaseRow.id))
        return list(rows.scalars())

    async def deployed(self, slug: str, window: Window, limit: int) -> list[Deployed]:
        """One use case's production deployments in the window, from the index on (use case,
        outcome, …, production finished): the use case's own rows, never the workspace's."""
        use_case = select(UseCaseRow.id).where(UseCaseRow.slug == slug).scalar_subquery()
        rows = await self._session.execute(
            select(D.prod_finished_at, D.version)
            .where(D.use_case_id == use_case, _in(window), REAL)
            .order_by(D.prod_finished_at.desc(), D.id.desc()).limit(limit))
        return [Deployed(at, version) for at, version in reversed(list(rows)) if at is not None]
