"""Use cases in memory, as ``storage/repositories.py`` keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain.usecases import Phase, PhaseChange, TeamMember, UseCase
from bot.services.ports import ConcurrentUpdate, ModelLink
from bot.services.use_case_ports import Sight
from tests.fakes.tables import Ids, PhaseChangeRow, Tables, UseCaseRow


def matches(uc: UseCase, *, phase: Phase | None, owner_id: str | None, member_id: str | None,
            include_archived: bool) -> bool:
    """The filters of ``find`` and ``count`` (``storage.repositories._filtered``)."""
    if phase is not None and uc.phase is not phase:
        return False
    if phase is None and not include_archived and uc.phase is Phase.ARCHIVED:
        return False
    if owner_id is not None and uc.owner_id != owner_id:
        return False
    return member_id is None or member_id == uc.owner_id or uc.role_of(member_id) is not None


def seen(uc: UseCase, sight: Sight | None) -> bool:
    """Whether ``sight`` may see ``uc`` (``storage.repositories._seen``)."""
    return sight is None or not uc.private or uc.channel_id in sight.channels


def merged_team(stored: tuple[TeamMember, ...], new: tuple[TeamMember, ...]) -> tuple[TeamMember, ...]:
    """The team as SQL lists it after a save: members kept stay in their place (their rows are
    updated), newcomers follow in the order given (new rows)."""
    roles = {m.user_id: m.role for m in new}
    kept = tuple(TeamMember(m.user_id, roles[m.user_id]) for m in stored if m.user_id in roles)
    known = {m.user_id for m in stored}
    return kept + tuple(m for m in new if m.user_id not in known)


class MemoryUseCaseRepository:
    def __init__(self, tables: Tables, ids: Ids) -> None:
        self._tables = tables
        self._rows = tables.use_cases
        self._changes = tables.phase_changes
        self._ids = ids

    async def get(self, slug: str) -> UseCase | None:
        row = self._rows.get(slug)
        if row is None:
            return None
        return replace(row.use_case, history=self._history(slug))

    def _history(self, slug: str) -> tuple[PhaseChange, ...]:
        ordered = sorted(self._changes.rows.items(), key=lambda item: (item[1].change.at, item[0]))
        return tuple(row.change for _id, row in ordered if row.slug == slug)

    async def add(self, use_case: UseCase) -> None:
        if use_case.slug in self._rows:
            raise self._tables.duplicate(use_case.slug)
        stored = replace(use_case, version=0, history=())
        self._rows.put(use_case.slug, UseCaseRow(self._ids.new("use_cases"), stored))
        for change in use_case.history:
            await self.record_change(use_case.slug, change)

    async def save(self, use_case: UseCase) -> None:
        """Guarded by the version read earlier; identity and creation fields are not written,
        nor is privacy (``set_private``)."""
        row = self._rows.get(use_case.slug)
        if row is None or row.use_case.version != use_case.version:
            raise ConcurrentUpdate(use_case.slug)
        stored = row.use_case
        saved = replace(
            use_case, created_at=stored.created_at, created_by=stored.created_by,
            private=stored.private,
            team=merged_team(stored.team, use_case.team), version=stored.version + 1, history=(),
        )
        self._rows.put(use_case.slug, replace(row, use_case=saved))

    async def record_change(self, slug: str, change: PhaseChange) -> None:
        if slug not in self._rows:
            raise LookupError(slug)
        self._changes.put(self._ids.new("phase_changes"), PhaseChangeRow(slug, change))

    async def find(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False, limit: int | None = None,
        slugs: Sequence[str] | None = None, entered_before: datetime | None = None,
        sight: Sight | None = None,
    ) -> list[UseCase]:
        found = [
            row.use_case for row in self._rows
            if (slugs is None or row.use_case.slug in slugs) and seen(row.use_case, sight)
            and (entered_before is None or row.use_case.phase_since < entered_before)
            and matches(row.use_case, phase=phase, owner_id=owner_id, member_id=member_id,
                        include_archived=include_archived)
        ]
        return sorted(found, key=lambda uc: uc.slug)[:limit]

    async def count(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False, sight: Sight | None = None,
    ) -> int:
        return len(await self.find(phase=phase, owner_id=owner_id, member_id=member_id,
                                   include_archived=include_archived, sight=sight))

    async def private_homes(
        self, *, phase: Phase | None = None, owner_id: str | None = None,
        member_id: str | None = None, include_archived: bool = False,
    ) -> list[str]:
        return sorted({uc.channel_id for uc in await self.find(
            phase=phase, owner_id=owner_id, member_id=member_id,
            include_archived=include_archived) if uc.private})

    async def channel_privacy(self) -> list[tuple[str, bool]]:
        return sorted({(row.use_case.channel_id, row.use_case.private) for row in self._rows})

    async def set_private(self, channel_id: str, private: bool) -> None:
        for row in self._rows:
            if row.use_case.channel_id == channel_id:
                self._rows.put(row.use_case.slug,
                               replace(row, use_case=replace(row.use_case, private=private)))

    async def linked_to(self, model: str) -> list[ModelLink]:
        return sorted((ModelLink(row.use_case.slug, row.use_case.channel_id, model)
                       for row in self._tables.use_cases
                       if row.use_case.model == model and row.use_case.phase is not Phase.ARCHIVED),
                      key=lambda link: link.slug)

    async def slugs(self, sight: Sight | None = None) -> list[str]:
        return sorted(slug for slug, row in self._rows.rows.items() if seen(row.use_case, sight))

    async def home(self, slug: str) -> tuple[str, bool] | None:
        row = self._rows.get(slug)
        return None if row is None else (row.use_case.channel_id, row.use_case.private)

    async def homes(self, slugs: Sequence[str] | None) -> list[tuple[str, str]]:
        return sorted((row.use_case.slug, row.use_case.channel_id) for row in self._rows
                      if row.use_case.phase is not Phase.ARCHIVED
                      and (slugs is None or row.use_case.slug in slugs))

    async def owners_in(self, channel_id: str) -> list[str]:
        return sorted({row.use_case.owner_id for row in self._rows
                       if row.use_case.channel_id == channel_id
                       and row.use_case.phase is not Phase.ARCHIVED})
