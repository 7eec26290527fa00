"""Repositories: translate between rows and domain objects; nothing else."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.usecases import Phase, PhaseChange, Role, TeamMember, UseCase
from bot.services.ports import ConcurrentUpdate, ModelLink
from bot.services.use_case_ports import Sight
from storage.models import PhaseChangeRow, TeamMemberRow, UseCaseRow

# Reads select plain rows, not ORM objects: a use case read is only turned into a domain
# object, and building tracked instances for it cost a sixth of a `/usecase show`.
_USE_CASES = select(UseCaseRow.__table__)
_TEAMS = select(TeamMemberRow.__table__)
_HISTORY = select(PhaseChangeRow.__table__)


def to_domain(row: Row[Any], team: Sequence[Row[Any]], history: Sequence[Row[Any]] = ()) -> UseCase:
    return UseCase(
        slug=row.slug,
        title=row.title,
        owner_id=row.owner_id,
        channel_id=row.channel_id,
        phase=Phase(row.phase),
        phase_since=row.phase_since,
        created_at=row.created_at,
        created_by=row.created_by,
        domain=row.domain,
        team=tuple(TeamMember(m.user_id, Role(m.role)) for m in team),
        archived_reason=row.archived_reason,
        model=row.model,
        problem=row.problem,
        kpi=row.kpi,
        private=row.private,
        version=row.version,
        history=tuple(
            PhaseChange(
                Phase(h.from_phase) if h.from_phase else None,
                Phase(h.to_phase),
                h.actor_id,
                h.at,
                h.note,
            )
            for h in history
        ),
    )


def _seen(query: Select[Any], sight: Sight | None) -> Select[Any]:
    """Narrowed to what ``sight`` may see (None: everything, the bot's own read)."""
    if sight is None:
        return query
    return query.where(UseCaseRow.private.is_(False) | UseCaseRow.channel_id.in_(sight.channels))


def _filtered(query: Select[Any], phase: Phase | None, owner_id: str | None,
              member_id: str | None, include_archived: bool,
              slugs: Sequence[str] | None = None,
              entered_before: datetime | None = None) -> Select[Any]:
    if slugs is not None:
        query = query.where(UseCaseRow.slug.in_(slugs))
    if entered_before is not None:
        query = query.where(UseCaseRow.phase_since < entered_before)
    if phase is not None:
        query = query.where(UseCaseRow.phase == phase.value)
    elif not include_archived:
        query = query.where(UseCaseRow.phase != Phase.ARCHIVED.value)
    if owner_id is not None:
        query = query.where(UseCaseRow.owner_id == owner_id)
    if member_id is not None:
        is_member = exists().where(
            TeamMemberRow.use_case_id == UseCaseRow.id, TeamMemberRow.user_id == member_id
        )
        query = query.where((UseCaseRow.owner_id == member_id) | is_member)
    return query


class SqlUseCaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, slug: str) -> UseCase | None:
        row = (await self._session.execute(_USE_CASES.where(UseCaseRow.slug == slug))).first()
        if row is None:
            return None
        team = await self._session.execute(
            _TEAMS.where(TeamMemberRow.use_case_id == row.id).order_by(TeamMemberRow.id))
        history = await self._session.execute(
            _HISTORY.where(PhaseChangeRow.use_case_id == row.id)
            .order_by(PhaseChangeRow.at, PhaseChangeRow.id))
        return to_domain(row, team.all(), history.all())

    async def add(self, use_case: UseCase) -> None:
        row = UseCaseRow(slug=use_case.slug, created_at=use_case.created_at,
                         created_by=use_case.created_by, version=0, private=use_case.private,
                         **_changeable(use_case))
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError:  # the same slug created at the same moment elsewhere
            raise ConcurrentUpdate(use_case.slug) from None
        self._session.add_all(
            TeamMemberRow(use_case_id=row.id, user_id=m.user_id, role=m.role.value) for m in use_case.team
        )
        for change in use_case.history:
            self._session.add(_change_row(row.id, change))
        await self._session.flush()

    async def save(self, use_case: UseCase) -> None:
        """Write changed fields, guarded by the version read earlier (optimistic locking)."""
        result = await self._session.execute(
            update(UseCaseRow)
            .where(UseCaseRow.slug == use_case.slug, UseCaseRow.version == use_case.version)
            .values(version=UseCaseRow.version + 1, **_changeable(use_case))
            .returning(UseCaseRow.id)
        )
        row_id = result.scalar_one_or_none()
        if row_id is None:
            raise ConcurrentUpdate(use_case.slug)
        await self._sync_team(row_id, use_case.team)

    async def _sync_team(self, row_id: int, team: tuple[TeamMember, ...]) -> None:
        await self._session.execute(
            delete(TeamMemberRow).where(
                TeamMemberRow.use_case_id == row_id,
                TeamMemberRow.user_id.not_in([m.user_id for m in team]),
            )
        )
        current = {
            r.user_id: r
            for r in await self._session.scalars(
                select(TeamMemberRow).where(TeamMemberRow.use_case_id == row_id)
            )
        }
        for member in team:
            row = current.get(member.user_id)
            if row is None:
                self._session.add(
                    TeamMemberRow(use_case_id=row_id, user_id=member.user_id, role=member.role.value)
                )
            else:
                row.role = member.role.value
        await self._session.flush()

    async def record_change(self, slug: str, change: PhaseChange) -> None:
        row_id = await self._session.scalar(select(UseCaseRow.id).where(UseCaseRow.slug == slug))
        if row_id is None:
            raise LookupError(slug)
        self._session.add(_change_row(row_id, change))
        await self._session.flush()

    async def find(
        self,
        *,
        phase: Phase | None = None,
        owner_id: str | None = None,
        member_id: str | None = None,
        include_archived: bool = False,
        limit: int | None = None,
        slugs: Sequence[str] | None = None,
        entered_before: datetime | None = None,
        sight: Sight | None = None,
    ) -> list[UseCase]:
        """Use cases by slug, without their history, in two queries whatever their number."""
        query = _seen(_filtered(_USE_CASES, phase, owner_id, member_id, include_archived, slugs,
                                entered_before), sight)
        rows = (await self._session.execute(query.order_by(UseCaseRow.slug).limit(limit))).all()
        teams: dict[int, list[Row[Any]]] = defaultdict(list)
        if rows:
            members = await self._session.execute(
                _TEAMS.where(TeamMemberRow.use_case_id.in_([r.id for r in rows]))
                .order_by(TeamMemberRow.id)
            )
            for m in members:
                teams[m.use_case_id].append(m)
        return [to_domain(r, teams[r.id]) for r in rows]

    async def count(
        self,
        *,
        phase: Phase | None = None,
        owner_id: str | None = None,
        member_id: str | None = None,
        include_archived: bool = False,
        sight: Sight | None = None,
    ) -> int:
        query = _filtered(select(func.count(UseCaseRow.id)), phase, owner_id, member_id,
                          include_archived)
        return int(await self._session.scalar(_seen(query, sight)) or 0)

    async def private_homes(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False,
    ) -> list[str]:
        query = _filtered(select(UseCaseRow.channel_id).distinct()
                          .where(UseCaseRow.private.is_(True)),
                          phase, owner_id, member_id, include_archived)
        return list(await self._session.scalars(query.order_by(UseCaseRow.channel_id)))

    async def linked_to(self, model: str) -> list[ModelLink]:
        """The (active) use cases linked to this MLflow model: a registry event is theirs."""
        rows = await self._session.execute(
            select(UseCaseRow.slug, UseCaseRow.channel_id)
            .where(UseCaseRow.model == model, UseCaseRow.phase != Phase.ARCHIVED.value)
            .order_by(UseCaseRow.slug))
        return [ModelLink(slug, channel, model) for slug, channel in rows]

    async def home(self, slug: str) -> tuple[str, bool] | None:
        found = (await self._session.execute(select(UseCaseRow.channel_id, UseCaseRow.private)
                                             .where(UseCaseRow.slug == slug))).first()
        return None if found is None else (found[0], found[1])

    async def homes(self, slugs: Sequence[str] | None) -> list[tuple[str, str]]:
        """(slug, channel) of these live use cases (None: of all of them)."""
        query = select(UseCaseRow.slug, UseCaseRow.channel_id).where(
            UseCaseRow.phase != Phase.ARCHIVED.value)
        if slugs is not None:
            query = query.where(UseCaseRow.slug.in_(slugs))
        return [(slug, channel) for slug, channel in await self._session.execute(
            query.order_by(UseCaseRow.slug))]

    async def channel_privacy(self) -> list[tuple[str, bool]]:
        """Each channel homing use cases, with whether they are recorded private."""
        rows = await self._session.execute(select(UseCaseRow.channel_id, UseCaseRow.private)
                                           .distinct().order_by(UseCaseRow.channel_id))
        return [(channel, bool(private)) for channel, private in rows]

    async def set_private(self, channel_id: str, private: bool) -> None:
        """Slack says the channel is (no longer) private: so are the use cases homed there."""
        await self._session.execute(update(UseCaseRow).where(UseCaseRow.channel_id == channel_id)
                                    .values(private=private))

    async def slugs(self, sight: Sight | None = None) -> list[str]:
        query = _seen(select(UseCaseRow.slug), sight)
        return list(await self._session.scalars(query.order_by(UseCaseRow.slug)))

    async def owners_in(self, channel_id: str) -> list[str]:
        """The owners of the live use cases homed in a channel (who may schedule its digest)."""
        return list(await self._session.scalars(
            select(UseCaseRow.owner_id).distinct()
            .where(UseCaseRow.channel_id == channel_id, UseCaseRow.phase != Phase.ARCHIVED.value)
            .order_by(UseCaseRow.owner_id)))


def _changeable(use_case: UseCase) -> dict[str, Any]:
    """The columns a use case's changes write (its slug and creation never change; whether its
    channel is private is Slack's to say: ``set_private``)."""
    return {"title": use_case.title, "domain": use_case.domain, "owner_id": use_case.owner_id,
            "channel_id": use_case.channel_id, "phase": use_case.phase.value,
            "phase_since": use_case.phase_since, "archived_reason": use_case.archived_reason,
            "model": use_case.model, "problem": use_case.problem, "kpi": use_case.kpi}


def _change_row(use_case_id: int, change: PhaseChange) -> PhaseChangeRow:
    return PhaseChangeRow(
        use_case_id=use_case_id,
        from_phase=change.from_phase.value if change.from_phase else None,
        to_phase=change.to_phase.value,
        actor_id=change.actor_id,
        at=change.at,
        note=change.note,
    )
