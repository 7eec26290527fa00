"""Who sees a use case homed in a private channel or group DM: that channel's members, and
nobody else — not in `/usecase list` or `show` elsewhere, not on Home, not in the digest of
another channel.

Whether its channel is private is asked of Slack once, when the use case is homed there, and
kept on it (``UseCase.private``), so reads filter in SQL. Who is in a private channel is asked
of Slack (``Conversations``, which caches it briefly) for the few private channels a read
involves, before its transaction opens: no transaction waits for Slack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from bot.domain.usecases import Phase, UseCase
from bot.log_events import get_logger
from bot.services.ports import UnitOfWork
from bot.services.use_case_lookup import UnknownUseCase, unknown
from bot.services.use_case_ports import Sight

log = get_logger(__name__)

AT_ONCE = 4  # membership questions in flight to Slack at a time, for a read that involves many


class Conversations(Protocol):
    """Slack's conversations, as far as privacy goes."""

    async def is_private(self, channel_id: str) -> bool | None:
        """Whether it is a private channel, a group DM or a DM; None when the bot cannot see
        it at all (Slack says there is no such channel: private, and the bot not in it)."""
        ...

    async def members(self, channel_id: str) -> frozenset[str]:
        """Who is in it: user IDs (nobody, when the bot cannot see it)."""
        ...


async def member_of(conversations: Conversations, user_id: str,
                    channels: Iterable[str]) -> frozenset[str]:
    """Those of ``channels`` that ``user_id`` is in, asked a few at a time."""
    wanted = sorted(set(channels))
    turns = asyncio.Semaphore(AT_ONCE)

    async def has(channel: str) -> bool:
        async with turns:
            return user_id in await conversations.members(channel)

    found = await asyncio.gather(*(has(channel) for channel in wanted))
    return frozenset(channel for channel, yes in zip(wanted, found, strict=True) if yes)


async def sight_of(uow: Callable[[], UnitOfWork], conversations: Conversations, user_id: str, *,
                   phase: Phase | None = None, owner_id: str | None = None,
                   member_id: str | None = None, include_archived: bool = False) -> Sight:
    """What ``user_id`` may see of the use cases these filters select: membership is asked
    only of the private channels homing some of them."""
    async with uow() as reading:
        homes = await reading.use_cases.private_homes(
            phase=phase, owner_id=owner_id, member_id=member_id, include_archived=include_archived)
    return Sight(await member_of(conversations, user_id, homes))


async def may_see(conversations: Conversations, user_id: str, uc: UseCase) -> bool:
    return not uc.private or user_id in await conversations.members(uc.channel_id)


async def unseen(uow: Callable[[], UnitOfWork], slug: str, channel_id: str) -> UnknownUseCase:
    """The answer to a slug there is none of, or to one the viewer may not see: the same words,
    suggesting what they may see (private slugs only of the channel they type in)."""
    async with uow() as reading:
        return await unknown(reading, slug, Sight(frozenset({channel_id})))


async def ensure_seen(uow: Callable[[], UnitOfWork], conversations: Conversations, slug: str,
                      user_id: str, channel_id: str) -> None:
    """Every command that names a use case asks this first: there is none of that slug, or
    (the same answer) it is homed in a private channel the person is not in. Slack is asked
    after the read, as ever."""
    async with uow() as reading:
        home = await reading.use_cases.home(slug)  # one small read: it runs before every ack
    if home is None or (home[1] and user_id not in await conversations.members(home[0])):
        raise await unseen(uow, slug, channel_id)


async def visible(conversations: Conversations, user_id: str,
                  use_cases: Iterable[UseCase]) -> set[str]:
    """The slugs of those of ``use_cases`` that ``user_id`` may see."""
    ucs = list(use_cases)
    seen = await member_of(conversations, user_id, {uc.channel_id for uc in ucs if uc.private})
    return {uc.slug for uc in ucs if not uc.private or uc.channel_id in seen}


async def readable(conversations: Conversations, user_id: str,
                   channels: Sequence[str]) -> frozenset[str]:
    """Of the channels where something was said, those ``user_id`` may read: the public ones
    and the private ones they are in (one the bot cannot see counts as private)."""
    wanted = sorted(set(channels))
    closed = [c for c in wanted if await conversations.is_private(c) is not False]
    return frozenset(set(wanted) - set(closed)) | await member_of(conversations, user_id, closed)


async def refresh_privacy(uow: Callable[[], UnitOfWork], conversations: Conversations) -> int:
    """Ask Slack again whether each channel homing use cases is private, and record what
    changed: a public channel an admin made private, and the use cases of before privacy was
    recorded (the migration could only guess). A channel the bot no longer sees counts as
    private. Slack is asked outside any transaction, one channel at a time (a background job);
    returns how many channels changed."""
    async with uow() as reading:
        recorded = await reading.use_cases.channel_privacy()
    changed: dict[str, bool] = {}
    for channel, private in recorded:
        try:
            now = await conversations.is_private(channel)
        except Exception:  # noqa: BLE001 - Slack did not answer: asked again next time
            log.warning("privacy.refresh_failed", channel=channel, exc_info=True)
            continue
        if (now is not False) != private:
            changed[channel] = now is not False
    if changed:
        async with uow() as writing:
            for channel, private in changed.items():
                await writing.use_cases.set_private(channel, private)
            await writing.commit()
        log.info("privacy.refreshed", channels=len(changed))
    return len(changed)
