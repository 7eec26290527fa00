"""`/usecase`: each command loads, asks the domain, saves, posts its card in the use case's
channel, and returns what it did (bot/domain/usecase_results.py) for the handler to say."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.clock import Clock
from bot.domain import usecases as lifecycle
from bot.domain.pipeline import Pipeline, PipelineSet
from bot.domain.usecase_results import (
    CardButtons,
    MemberJoined,
    MemberLeft,
    ModelLinked,
    NewUseCaseCard,
    OwnerChangeCard,
    OwnerHandedOver,
    PhaseChangeCard,
    UseCaseCreated,
    UseCaseListing,
    UseCaseMoved,
    UseCaseResult,
    UseCaseView,
)
from bot.domain.usecases import Conflict, DomainError, NotAllowed, Phase, PhaseMove, UseCase
from bot.services.commands import (
    Actor,
    AddTeamMember,
    AdvanceUseCase,
    ArchiveUseCase,
    ChannelRef,
    HandOver,
    LinkModel,
    ListUseCases,
    MoveBack,
    NewUseCase,
    RemoveTeamMember,
    ShowUseCase,
    UseCaseCommand,
    UserRef,
)
from bot.services.ports import ConcurrentUpdate, Directory, UnitOfWork
from bot.services.use_case_lookup import UnknownUseCase as UnknownUseCase  # re-exported
from bot.services.use_case_lookup import load_use_case as load_use_case
from bot.services.use_case_ports import CardReads
from bot.services.visibility import Conversations, ensure_seen, may_see, refresh_privacy, sight_of, unseen

LIST_LIMIT = 50  # a screenful; the rest are counted, with the filters that narrow them
R = TypeVar("R")


def _card_stamp(stamp: str) -> tuple[str, int]:
    slug, _, seen = stamp.rpartition(":")
    if not slug or not seen.isdigit() or len(seen) > 6:
        raise DomainError("usecase_button_not_mine")
    return slug, int(seen)


def _ensure_current(uc: UseCase, seen: int) -> None:
    """A card's button after the use case moved on does nothing but say so."""
    if len(uc.history) != seen:
        raise Conflict("usecase_card_out_of_date", slug=uc.slug, phase=uc.phase)


def _buttons(uc: UseCase, actor: Actor | None, pipeline: Pipeline | None) -> CardButtons:
    """What the viewer may do now: the same rules as the commands (checked again on click);
    Deploy… only if the use case's pipeline may be started by them (`allowed`, when it says)."""
    if actor is None:
        return CardButtons()
    may_change = actor.is_admin or actor.user_id == uc.owner_id
    if pipeline is not None and pipeline.allowed:
        may_start = not pipeline.may_surely_not_start(actor.user_id, uc.role_of(actor.user_id),
                                                      is_admin=actor.is_admin)
    else:
        may_start = lifecycle.may_deploy(uc, actor.user_id, is_admin=actor.is_admin)
    return CardButtons(
        advance=may_change and uc.phase in lifecycle.FORWARD,
        back=may_change and uc.phase in lifecycle.BACKWARD,
        deploy=uc.phase is not Phase.ARCHIVED and may_start)


@dataclass
class UseCaseService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    directory: Directory
    dev_timebox: timedelta
    timezone: str
    conversations: Conversations  # private channels: who is in them
    cards: CardReads  # `/usecase show`'s one read
    pipelines: PipelineSet | None = None  # whose `allowed` decides who is offered Deploy…

    async def execute(self, command: UseCaseCommand, actor: Actor) -> UseCaseResult:
        return await self._guarded(self._dispatch(command, actor))

    async def _guarded(self, work: Awaitable[R]) -> R:
        try:
            return await work
        except ConcurrentUpdate:
            raise DomainError("usecase_changed_meanwhile") from None

    async def _dispatch(self, command: UseCaseCommand, actor: Actor) -> UseCaseResult:
        match command:
            case NewUseCase():
                return await self.create(command, actor)
            case ListUseCases():
                return await self.list(command, actor)
            case ShowUseCase():
                return await self.show(command, actor)
            case AdvanceUseCase():
                return await self._transition(command.slug, actor, lambda uc, now: lifecycle.advance(
                    uc, actor.user_id, now, is_admin=actor.is_admin, note=command.note))
            case MoveBack():
                return await self._transition(command.slug, actor, lambda uc, now: lifecycle.back(
                    uc, actor.user_id, now, is_admin=actor.is_admin, reason=command.reason))
            case ArchiveUseCase():
                return await self._transition(command.slug, actor, lambda uc, now: lifecycle.archive(
                    uc, actor.user_id, now, is_admin=actor.is_admin, reason=command.reason))
            case HandOver():
                return await self.hand_over(command, actor)
            case AddTeamMember() | RemoveTeamMember():
                return await self.change_team(command, actor)
            case LinkModel():
                return await self.link(command, actor)
        raise AssertionError(f"unhandled command {command!r}")

    async def create(self, command: NewUseCase, actor: Actor) -> UseCaseCreated:
        owner = await self._user(command.owner) if command.owner else actor.user_id
        channel = await self._channel(command.channel) if command.channel else actor.channel_id
        uc = lifecycle.create(
            command.slug, command.title, creator_id=actor.user_id, channel_id=channel,
            now=self.clock.now(), owner_id=owner, domain=command.domain, problem=command.problem,
            kpi=command.kpi, private=await self._private_home(channel, actor),
        )
        async with self.uow() as uow:
            try:  # the unique slug decides, also between two people creating it at once
                await uow.use_cases.add(uc)
            except ConcurrentUpdate:
                raise DomainError("slug_taken", slug=uc.slug) from None
            if command.kpi and command.kpi_target:  # no value yet: its state comes with the first
                op, value = command.kpi_target
                await uow.metrics.set_target(uc.slug, command.kpi, op, value, actor.user_id,
                                             uc.created_at, None)
            uow.outbox.post(uc.channel_id, NewUseCaseCard(uc))
            await uow.commit()
        return UseCaseCreated(uc.slug, uc.channel_id)

    async def _private_home(self, channel: str, actor: Actor) -> bool:
        """Whether the new use case's channel is private (asked of Slack before the
        transaction); refused where the bot cannot see, or the creator is not in, a private one."""
        private = await self.conversations.is_private(channel)
        if private is None:
            raise DomainError("channel_unseen", channel=channel)
        if private and actor.user_id not in await self.conversations.members(channel):
            raise NotAllowed("private_channel_not_member", channel=channel)
        return private

    async def ensure_seen(self, slug: str, actor: Actor) -> None:
        """Asked first by every command that names a use case (bot.services.visibility)."""
        await ensure_seen(self.uow, self.conversations, slug, actor.user_id, actor.channel_id)

    async def refresh_privacy(self) -> int:
        """Whether each channel homing use cases is private, asked of Slack again."""
        return await refresh_privacy(self.uow, self.conversations)

    async def list(self, command: ListUseCases, actor: Actor) -> UseCaseListing:
        owner = await self._user(command.owner) if command.owner else None
        member = actor.user_id if command.mine else None
        sight = await sight_of(self.uow, self.conversations, actor.user_id, phase=command.phase,
                               owner_id=owner, member_id=member)
        async with self.uow() as uow:
            found = await uow.use_cases.find(phase=command.phase, owner_id=owner, member_id=member,
                                             limit=LIST_LIMIT, sight=sight)
            total = len(found) if len(found) < LIST_LIMIT else await uow.use_cases.count(
                phase=command.phase, owner_id=owner, member_id=member, sight=sight)
            running = await uow.deployments.productions([uc.slug for uc in found])
        return UseCaseListing(tuple(found), total, running, self.clock.now(), self.dev_timebox,
                              phase=command.phase, owner=owner, mine=command.mine)

    async def show(self, command: ShowUseCase, actor: Actor) -> UseCaseView:
        """The card; to someone not in its private channel, the answer to an unknown slug
        (suggesting what they may see, and private slugs only of the channel they type in)."""
        card = await self.cards.use_case_card(command.slug)
        if card is None or not await may_see(self.conversations, actor.user_id, card.use_case):
            raise await unseen(self.uow, command.slug, actor.channel_id)  # Slack, after the read
        uc = card.use_case
        pipeline = self.pipelines.for_use_case(uc.slug) if self.pipelines else None
        return UseCaseView(uc, self.clock.now(), self.dev_timebox, self.timezone,
                           _buttons(uc, actor, pipeline), kpi_target=card.kpi_target,
                           production=card.production)

    async def check_card(self, stamp: str, actor: Actor, forward: bool) -> tuple[UseCase, Phase]:
        """A card's Advance or Back, at click time: the card is current, the clicker may; the
        use case and the phase it would move to."""
        slug, seen = _card_stamp(stamp)
        async with self.uow() as uow:
            uc = await self._load(uow, slug)
        _ensure_current(uc, seen)
        return uc, lifecycle.next_phase(uc, actor.user_id, forward=forward, is_admin=actor.is_admin)

    async def move_from_card(self, stamp: str, actor: Actor, forward: bool,
                             text: str) -> UseCaseMoved:
        """The dialog of a card's Advance (a note) or Back (a reason), submitted."""
        slug, seen = _card_stamp(stamp)

        def move(uc: UseCase, now: datetime) -> PhaseMove:
            _ensure_current(uc, seen)
            if forward:
                return lifecycle.advance(uc, actor.user_id, now, is_admin=actor.is_admin, note=text)
            return lifecycle.back(uc, actor.user_id, now, is_admin=actor.is_admin, reason=text)

        return await self._guarded(self._transition(slug, actor, move))

    async def _transition(
        self, slug: str, actor: Actor, move: Callable[[UseCase, datetime], PhaseMove]
    ) -> UseCaseMoved:
        async with self.uow() as uow:
            uc = await self._load(uow, slug)
            transition = move(uc, self.clock.now())
            await uow.use_cases.save(transition.use_case)
            await uow.use_cases.record_change(slug, transition.change)
            uow.outbox.post(uc.channel_id, PhaseChangeCard(transition))
            await uow.commit()
        return UseCaseMoved(slug, transition.change.to_phase, transition.use_case.channel_id)

    async def hand_over(self, command: HandOver, actor: Actor) -> OwnerHandedOver:
        new_owner = await self._user(command.new_owner)
        async with self.uow() as uow:
            uc = await self._load(uow, command.slug)
            changed = lifecycle.hand_over(uc, actor.user_id, new_owner, is_admin=actor.is_admin)
            await uow.use_cases.save(changed)
            uow.outbox.post(uc.channel_id, OwnerChangeCard(changed, uc.owner_id, actor.user_id))
            await uow.commit()
        return OwnerHandedOver(uc.slug, new_owner)

    async def change_team(self, command: AddTeamMember | RemoveTeamMember,
                          actor: Actor) -> MemberJoined | MemberLeft:
        user = await self._user(command.user)
        async with self.uow() as uow:
            uc = await self._load(uow, command.slug)
            done: MemberJoined | MemberLeft
            if isinstance(command, AddTeamMember):
                member = lifecycle.TeamMember(user, command.role)
                changed = lifecycle.add_member(uc, actor.user_id, member, is_admin=actor.is_admin)
                done = MemberJoined(uc.slug, user, command.role)
            else:
                changed = lifecycle.remove_member(uc, actor.user_id, user, is_admin=actor.is_admin)
                done = MemberLeft(uc.slug, user)
            await uow.use_cases.save(changed)
            await uow.commit()
        return done

    async def link(self, command: LinkModel, actor: Actor) -> ModelLinked:
        async with self.uow() as uow:
            uc = await self._load(uow, command.slug)
            linked = lifecycle.link_model(uc, actor.user_id, command.model, is_admin=actor.is_admin)
            await uow.use_cases.save(linked)
            await uow.commit()
        return ModelLinked(uc.slug, linked.model, uc.channel_id)

    async def _load(self, uow: UnitOfWork, slug: str) -> UseCase:
        return await load_use_case(uow, slug)

    async def _user(self, ref: UserRef) -> str:
        return ref.id or await self._lookup(self.directory.user_id, ref.name, "unknown_slack_user")

    async def _channel(self, ref: ChannelRef) -> str:
        return ref.id or await self._lookup(self.directory.channel_id, ref.name,
                                            "unknown_slack_channel")

    @staticmethod
    async def _lookup(find: Callable[[str], Awaitable[str | None]], name: str, unknown: str) -> str:
        found = await find(name)
        if found is None:
            raise DomainError(unknown, name=name)
        return found
