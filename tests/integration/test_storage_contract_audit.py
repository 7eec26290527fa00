"""The audit export's reads on the in-memory storage, SQLite and PostgreSQL alike: deployment
events in order of time (ties by id), filtered by time and use case, keyset-paged."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain import usecases
from bot.domain.audit import AuditFilter
from bot.domain.deployment_model import Event
from tests.integration.conftest import START, Store
from tests.unit.test_dora import deployment

MINUTE = timedelta(minutes=1)


async def _seeded(store: Store) -> None:
    """churn: deployment 1 (requested, approved 2 min later); fraud: deployment 2 (requested at
    the same minute as churn's approval, then cancelled); events written out of time order."""
    async with store.uow() as uow:
        for slug in ("churn", "fraud"):
            await uow.use_cases.add(usecases.create(slug, slug.title(), creator_id="U1",
                                                    channel_id="C1", now=START))
        churn = await uow.deployments.add(deployment(1, START, use_case="churn"))
        fraud = await uow.deployments.add(replace(deployment(2, START, use_case="fraud"),
                                                  version="2.0", kind="rollback"))
        await uow.deployments.record(fraud, (Event("requested", START + 2 * MINUTE, "U2"),
                                             Event("cancelled", START + 3 * MINUTE, "U2",
                                                   detail="wrong model")))
        await uow.deployments.record(churn, (Event("requested", START, "U1"),
                                             Event("approved", START + 2 * MINUTE, "U3", "prod")))
        await uow.commit()


async def _events(store: Store, where: AuditFilter, after: tuple | None = None,  # type: ignore[type-arg]
                  limit: int = 100) -> list[tuple[str, str, str | None]]:
    async with store.uow() as uow:
        found = await uow.audit.events(where, after, limit)
    return [(e.use_case, e.action, e.actor) for e in found if e.deployment_id is not None]


async def test_events_in_order_of_time_with_their_deployment(store: Store) -> None:
    await _seeded(store)
    async with store.uow() as uow:
        found = await uow.audit.events(AuditFilter(), None, 100)
    created = [(e.use_case, e.moved, e.actor, e.deployment_id) for e in found if e.moved]
    assert created == [("churn", (None, "biz"), "U1", None), ("fraud", (None, "biz"), "U1", None)]
    assert [e.action for e in found[:2]] == ["phase_changed"] * 2  # at START, before the events
    every = [e for e in found if e.deployment_id is not None]
    assert [(e.use_case, e.action) for e in every] == [
        ("churn", "requested"), ("fraud", "requested"), ("churn", "approved"), ("fraud", "cancelled")]
    cancelled = every[-1]
    assert (cancelled.detail, cancelled.version, cancelled.rollback, cancelled.at) == (
        "wrong model", "2.0", True, START + 3 * MINUTE)
    assert every[2].stage == "prod" and not every[2].rollback
    assert every[0].deployment_id != every[1].deployment_id


async def test_filters_and_pages(store: Store) -> None:
    await _seeded(store)
    assert await _events(store, AuditFilter(use_case="fraud")) == [
        ("fraud", "requested", "U2"), ("fraud", "cancelled", "U2")]
    assert await _events(store, AuditFilter(since=START + MINUTE, until=START + 2 * MINUTE)) == [
        ("fraud", "requested", "U2"), ("churn", "approved", "U3")]  # since is exclusive, until not
    async with store.uow() as uow:
        pages, after = [], None
        while page := await uow.audit.events(AuditFilter(), after, 2):
            pages.append(page)
            after = page[-1].key
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [e.action for p in pages for e in p] == [
        "phase_changed", "phase_changed", "requested", "requested", "approved", "cancelled"]
    assert await _events(store, AuditFilter(use_case="churn", since=START)) == [
        ("churn", "approved", "U3")]


async def test_a_persons_eyes_leave_out_private_use_cases_they_are_not_in(store: Store) -> None:
    """A signed-in person's export: a use case homed in a private channel shows only to that
    channel's members (its phase changes and its deployments' events alike)."""
    await _seeded(store)
    async with store.uow() as uow:
        fraud = await uow.use_cases.get("fraud")
        assert fraud is not None
        await uow.use_cases.save(replace(fraud, channel_id="GSECRET"))
        await uow.use_cases.set_private("GSECRET", True)
        await uow.commit()

    async def slugs(where: AuditFilter) -> set[str]:
        async with store.uow() as uow:
            return {e.use_case for e in await uow.audit.events(where, None, 100)}

    assert await slugs(AuditFilter(channels=frozenset())) == {"churn"}
    assert await slugs(AuditFilter(channels=frozenset({"GSECRET"}))) == {"churn", "fraud"}
    assert await slugs(AuditFilter()) == {"churn", "fraud"}  # nobody's eyes: everything
