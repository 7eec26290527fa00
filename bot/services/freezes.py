"""Freeze windows: ad hoc ones from `/deploy freeze` (admins), recurring ones from the pipeline
file; `/deploy freezes` lists the current and coming ones; `chain_for` is what `/deploy` and
the engine ask before starting anything, `frozen_now` / `frozen_in_channel` what status, digest
and Home show. Facts only: ``bot.render.freeze_blocks`` words the results, cards and refusals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.deployment_machine import Transition
from bot.domain.deployment_model import Event
from bot.domain.freeze_cards import FreezeLifted, FreezeSet
from bot.domain.freeze_results import FreezeListing, Frozen, Unfrozen
from bot.domain.freezes import (
    AD_HOC,
    FreezeWindow,
    RecurringFreeze,
    ad_hoc_key,
    claim_of,
    coming_windows,
    freeze_chain,
    listed_windows,
)
from bot.domain.usecases import Conflict, DomainError, NotAllowed
from bot.services.commands import Actor, FreezeDeployments, ListFreezes, UnfreezeDeployments
from bot.services.events import FreezesChanged
from bot.services.freeze_ports import ALL, StoredFreeze
from bot.services.ports import UnitOfWork
from bot.services.usecases import load_use_case

LISTED_AHEAD = timedelta(days=14)
CLAIM_KIND = "freeze"  # a start or end said once (the ``reminders`` claims)
_NOW = timedelta(microseconds=1)  # the horizon of "open now"


async def chain_for(uow: UnitOfWork, recurring: Sequence[RecurringFreeze], slug: str,
                    now: datetime) -> list[FreezeWindow]:
    """The windows keeping deployments of ``slug`` frozen from now on, one after the other
    (empty: not frozen); the last one's end is when they may start again."""
    stored = await uow.freezes.current([slug, ALL], now)
    return freeze_chain(recurring, [ad_hoc_window(f) for f in stored], slug, now)


async def frozen_now(uow: UnitOfWork, recurring: Sequence[RecurringFreeze],
                     slugs: Sequence[str] | None, now: datetime) -> list[FreezeWindow]:
    """The windows open now that apply to any of ``slugs`` (None: to any use case)."""
    stored = await uow.freezes.current(None if slugs is None else [ALL, *slugs], now)
    windows = coming_windows(recurring, [ad_hoc_window(f) for f in stored], None, now, _NOW)
    return [w for w in windows if w.start <= now and (
        slugs is None or w.use_cases is None or not w.use_cases.isdisjoint(slugs))]


async def frozen_in_channel(uow: UnitOfWork, recurring: Sequence[RecurringFreeze],
                            channel_id: str | None, now: datetime, *,
                            public_only: bool = False) -> list[FreezeWindow]:
    """The windows open now that apply to a use case homed in ``channel_id`` (None: to any;
    ``public_only``: naming no use case of a private channel).

    The open windows are few: the use cases they name are looked up, not the channel's (a
    channel may home many), so the cost follows the freezes, not the channel's size."""
    windows = await frozen_now(uow, recurring, None, now)
    named = sorted({slug for w in windows if w.use_cases is not None for slug in w.use_cases})
    if public_only and named:
        return _without(windows, {uc.slug for uc in await uow.use_cases.find(
            slugs=named, include_archived=True) if uc.private})
    if channel_id is None or not named:
        return windows
    here = {slug for slug, home in await uow.use_cases.homes(named) if home == channel_id}
    return [w for w in windows if w.use_cases is None or not w.use_cases.isdisjoint(here)]


def _without(windows: Sequence[FreezeWindow], hidden: set[str]) -> list[FreezeWindow]:
    """The windows as they may be shown without naming ``hidden``: one that named nothing
    else is left out."""
    return [w if w.use_cases is None else replace(w, use_cases=w.use_cases - hidden)
            for w in windows if w.use_cases is None or w.use_cases - hidden]


async def passage(uow: UnitOfWork, recurring: Sequence[RecurringFreeze], slug: str, actor: Actor,
                  override: str, now: datetime, tz: str) -> tuple[FreezeWindow, ...]:
    """Whether a new deployment of ``slug`` may start now: refused inside a freeze window
    (naming it), unless an admin overrides it. Returns the windows the override passes
    (empty: none; ``freeze_blocks.passes`` words them for the audit trail)."""
    if override and not actor.is_admin:
        raise NotAllowed("freeze_admins_only", act="override")
    chain = await chain_for(uow, recurring, slug, now)
    if chain and not override:
        raise frozen_refusal(slug, chain, tz)
    return tuple(chain)


def frozen_refusal(slug: str, chain: Sequence[FreezeWindow], tz: str) -> Conflict:
    return Conflict("deploys_frozen", slug=slug, chain=tuple(chain), tz=tz)


def overridden(t: Transition, actor: Actor, why: str, now: datetime) -> Transition:
    """The new deployment carries the override, and its audit trail says who and why."""
    event = Event("override", now, actor=actor.user_id, detail=why)
    return replace(t, deployment=replace(t.deployment, override=why), events=(*t.events, event))


def ad_hoc_window(f: StoredFreeze) -> FreezeWindow:
    return FreezeWindow(f.starts_at, f.ends_at, f.reason,
                        None if f.scope == ALL else frozenset({f.scope}), AD_HOC)


@dataclass
class FreezeService:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    recurring: tuple[RecurringFreeze, ...]
    timezone: str

    def _ensure_admin(self, actor: Actor, act: str) -> None:
        if not actor.is_admin:
            raise NotAllowed("freeze_admins_only", act=act, admins_may=True)

    async def freeze(self, command: FreezeDeployments, actor: Actor) -> Frozen:
        self._ensure_admin(actor, "freeze")
        now = self.clock.now()
        slug = None if command.scope == ALL else command.scope
        async with self.uow() as uow:
            channels = await self._channels(uow, command.scope, actor)
            window = StoredFreeze(command.scope, now, now + command.duration, command.reason,
                                  actor.user_id)
            await uow.freezes.add(window)
            uow.emit(FreezesChanged())
            said = FreezeSet(actor.user_id, slug, command.duration, window.ends_at, command.reason,
                             self.timezone)
            for channel in channels:
                uow.outbox.post(channel, said)
            await uow.commit()
        return Frozen(slug, window.ends_at, tuple(channels))

    async def unfreeze(self, command: UnfreezeDeployments, actor: Actor) -> Unfrozen:
        self._ensure_admin(actor, "unfreeze")
        now = self.clock.now()
        slug = None if command.scope == ALL else command.scope
        async with self.uow() as uow:
            channels = await self._channels(uow, command.scope, actor)
            lifted = await uow.freezes.end(command.scope, now)
            if not lifted:
                raise DomainError("no_freeze_to_lift", slug=slug)
            for freeze_id in lifted:  # said here: its end is not announced again
                await uow.claims.claim(CLAIM_KIND, claim_of(ad_hoc_key(freeze_id), False, now), now)
            # What stays frozen: for `all`, every window still open (a use case's own ad hoc
            # freeze, the pipeline file's); for one use case, the windows that keep it frozen.
            still = (await frozen_now(uow, self.recurring, None, now) if slug is None
                     else await chain_for(uow, self.recurring, slug, now))
            said = FreezeLifted(actor.user_id, slug, tuple(still), self.timezone)
            for channel in channels:
                uow.outbox.post(channel, said)
            uow.emit(FreezesChanged())
            await uow.commit()
        return Unfrozen(slug, tuple(still))

    async def list(self, command: ListFreezes) -> FreezeListing:
        now = self.clock.now()
        async with self.uow() as uow:
            if command.slug:  # a typo is told, not answered "no freeze"
                await load_use_case(uow, command.slug)
            stored = await uow.freezes.current([ALL, command.slug] if command.slug else None, now)
        # Bounded (a cron every minute is listed in part) and off the event loop: a dozen
        # frequent windows take a fraction of a second to work out.
        windows, partial = await asyncio.to_thread(
            listed_windows, self.recurring, [ad_hoc_window(f) for f in stored], command.slug,
            now, LISTED_AHEAD)
        return FreezeListing(command.slug, LISTED_AHEAD.days, now, tuple(windows), tuple(partial))

    async def _channels(self, uow: UnitOfWork, scope: str, actor: Actor) -> Sequence[str]:
        """Where to announce it: the use case's channel; for all of them, every channel home
        to one, and where it was typed."""
        if scope == ALL:
            homes = {channel for _slug, channel in await uow.use_cases.homes(None)}
            return [actor.channel_id, *sorted(homes - {actor.channel_id})]
        return [(await load_use_case(uow, scope)).channel_id]

