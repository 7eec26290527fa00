"""The web dashboard's lists on the in-memory storage, SQLite and PostgreSQL alike: the
portfolio's filters, search and keyset pages, the phase counts, the newest value of each KPI
watched, the deployments page; each narrowed to what one person may see."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain import usecases
from bot.domain.dashboard import DeploymentFilter, PortfolioFilter
from bot.domain.deployment_model import DeploymentState, Event
from bot.domain.usecases import Phase
from bot.services.ports import StoredPoint
from bot.services.use_case_ports import Sight
from tests.integration.conftest import START, Store
from tests.unit.test_dora import deployment

EVERYONE = Sight()
HOUR = timedelta(hours=1)


async def _seeded(store: Store) -> None:
    """churn (Dev, marketing, U1), fraud (Biz, risk, U2), promo_100% (Biz, marketing, U1),
    secret (Biz, homed in private GSECRET), old (archived); churn has 3 deployments, secret 1."""
    async with store.uow() as uow:
        for slug, title, owner, domain, channel in (
                ("churn", "Churn model", "U1", "marketing", "C1"),
                ("fraud", "Fraud alerts", "U2", "risk", "C2"),
                ("promo", "Promo 100% off", "U1", "marketing", "C1"),
                ("secret", "Secret merger", "U1", "marketing", "GSECRET"),
                ("old", "Old churn", "U1", "marketing", "C1")):
            uc = usecases.create(slug, title, creator_id=owner, channel_id=channel, now=START)
            await uow.use_cases.add(replace(uc, domain=domain))
        await uow.use_cases.set_private("GSECRET", True)
        for slug, phase in (("churn", Phase.DEV), ("old", Phase.ARCHIVED)):
            uc = await uow.use_cases.get(slug)
            assert uc is not None
            await uow.use_cases.save(replace(uc, phase=phase))
        for i, state in enumerate((DeploymentState.SUCCEEDED, DeploymentState.FAILED,
                                   DeploymentState.SUCCEEDED), start=1):
            await uow.deployments.add(deployment(i, START + i * HOUR, state=state))
        await uow.deployments.add(deployment(4, START + 4 * HOUR, use_case="secret"))
        await uow.commit()


async def _slugs(store: Store, where: PortfolioFilter, sight: Sight = EVERYONE,
                 after: str | None = None, limit: int = 50) -> list[str]:
    async with store.uow() as uow:
        return [uc.slug for uc in await uow.dashboard.portfolio(where, sight, after, limit)]


async def test_the_portfolio_by_slug_with_its_filters_and_search(store: Store) -> None:
    await _seeded(store)
    assert await _slugs(store, PortfolioFilter()) == ["churn", "fraud", "promo"]  # no archived
    assert await _slugs(store, PortfolioFilter(), Sight(frozenset({"GSECRET"}))) == [
        "churn", "fraud", "promo", "secret"]
    assert await _slugs(store, PortfolioFilter(phase=Phase.ARCHIVED)) == ["old"]
    assert await _slugs(store, PortfolioFilter(phase=Phase.BIZ)) == ["fraud", "promo"]
    assert await _slugs(store, PortfolioFilter(owner_id="U2")) == ["fraud"]
    assert await _slugs(store, PortfolioFilter(domain="marketing")) == ["churn", "promo"]
    assert await _slugs(store, PortfolioFilter(channel_id="C2")) == ["fraud"]
    assert await _slugs(store, PortfolioFilter(search="CHURN")) == ["churn"]  # any case
    assert await _slugs(store, PortfolioFilter(search="100%")) == ["promo"]  # % is a character
    assert await _slugs(store, PortfolioFilter(search="0%o")) == []
    assert await _slugs(store, PortfolioFilter(), limit=2) == ["churn", "fraud"]
    assert await _slugs(store, PortfolioFilter(), after="fraud") == ["promo"]


async def test_phase_counts_across_phases_for_the_same_selection(store: Store) -> None:
    await _seeded(store)
    async with store.uow() as uow:
        counts = await uow.dashboard.phase_counts(PortfolioFilter(phase=Phase.DEV), EVERYONE)
        marketing = await uow.dashboard.phase_counts(PortfolioFilter(domain="marketing"),
                                                     Sight(frozenset({"GSECRET"})))
    assert counts == {"biz": 2, "dev": 1, "archived": 1}
    assert marketing == {"biz": 2, "dev": 1, "archived": 1}


async def test_deployments_newest_first_filtered_and_paged(store: Store) -> None:
    await _seeded(store)

    async def ids(where: DeploymentFilter, sight: Sight = EVERYONE, before: int | None = None,
                  limit: int = 50) -> list[int]:
        async with store.uow() as uow:
            return [d.id for d in await uow.dashboard.deployments(where, sight, before, limit)]

    every = await ids(DeploymentFilter(), Sight(frozenset({"GSECRET"})))
    assert len(every) == 4 and every == sorted(every, reverse=True)
    assert await ids(DeploymentFilter()) == every[1:]  # secret's is not theirs to see
    assert await ids(DeploymentFilter(use_case="secret")) == []
    assert len(await ids(DeploymentFilter(result=DeploymentState.FAILED))) == 1
    assert await ids(DeploymentFilter(), before=every[1], limit=1) == [every[2]]
    async with store.uow() as uow:
        first = (await uow.dashboard.deployments(DeploymentFilter(use_case="churn"), EVERYONE,
                                                 None, 1))[0]
    assert (first.slug, first.state, first.kind, first.dry_run) == ("churn", "succeeded", "deploy", False)
    requested = first.requested_at
    assert await ids(DeploymentFilter(since=requested - HOUR / 2, until=requested)) == [first.id]


async def test_the_newest_value_of_each_kpi_somebody_watches(store: Store) -> None:
    """churn's success KPI and its targeted KPI, each by its newest point (two at the same
    moment: the one stored last); recall has values but nobody watches it; fraud's success KPI
    has no value yet; promo is not asked for."""
    await _seeded(store)
    async with store.uow() as uow:
        for slug, kpi in (("churn", "accuracy"), ("fraud", "precision"), ("promo", "accuracy")):
            uc = await uow.use_cases.get(slug)
            assert uc is not None
            await uow.use_cases.save(replace(uc, kpi=kpi))
        points = [("churn", StoredPoint("accuracy", v, "", START + h * HOUR))
                  for v, h in ((0.7, 1), (0.9, 3), (0.8, 2), (0.91, 3))]
        points += [("churn", StoredPoint("latency", 120.0, "ms", START + HOUR)),
                   ("churn", StoredPoint("latency", 95.0, "ms", START + 2 * HOUR)),
                   ("churn", StoredPoint("recall", 0.5, "", START + 9 * HOUR)),
                   ("promo", StoredPoint("accuracy", 0.6, "", START))]
        await uow.metrics.add_points(points, "U1", START + 10 * HOUR)
        await uow.metrics.set_target("churn", "latency", "<=", 100, "U1", START, None)
        await uow.commit()
    async with store.uow() as uow:
        watched = await uow.dashboard.watched(["churn", "fraud"])
        assert await uow.dashboard.watched([]) == {}
    assert {slug: sorted((p.name, p.value, p.unit, p.at) for p in points)
            for slug, points in watched.items()} == {
        "churn": [("accuracy", 0.91, "", START + 3 * HOUR), ("latency", 95.0, "ms", START + 2 * HOUR)]}


async def test_trails_of_several_deployments_in_one_read(store: Store) -> None:
    await _seeded(store)
    async with store.uow() as uow:
        churn = await uow.deployments.history("churn", limit=2)
        first, second = churn[0], churn[1]
        await uow.deployments.record(first, (Event("requested", START, "U1"),
                                             Event("approved", START + HOUR, "U2", "prod")))
        await uow.deployments.record(second, (Event("requested", START, "U3"),))
        await uow.commit()
    assert first.id is not None and second.id is not None
    async with store.uow() as uow:
        trails = await uow.dashboard.trails([first.id, second.id, 999])
    assert [(e.kind, e.actor) for e in trails[first.id]] == [("requested", "U1"), ("approved", "U2")]
    assert [e.kind for e in trails[second.id]] == ["requested"] and trails[999] == []


async def test_a_use_cases_deployments_a_page_at_a_time(store: Store) -> None:
    """Its real deployments and dry runs together, newest first by id, from any id down (one of
    another use case's only marks where to start): never another use case's."""
    await _seeded(store)
    async with store.uow() as uow:
        for i in range(5, 9):
            await uow.deployments.add(deployment(i, START + i * HOUR, dry_run=i % 2 == 0))
        await uow.commit()
        [secret] = await uow.deployments.history("secret")

    async def story(upto: int | None, limit: int = 50, slug: str = "churn") -> list[int | None]:
        async with store.uow() as uow:
            return [d.id for d in await uow.dashboard.story(slug, upto, limit)]

    every = await story(None)
    assert len(every) == 7 and every == sorted(every, reverse=True)
    assert await story(None, 3) == every[:3]  # dry runs and real ones merged
    assert await story(every[2], 3) == every[2:5]
    assert secret.id is not None and secret.id not in every
    assert await story(secret.id) == [i for i in every if i is not None and i < secret.id]
    assert await story(None, slug="nosuch") == [] and await story(1, slug="secret") == []
    async with store.uow() as uow:
        [newest] = await uow.dashboard.story("churn", None, 1)
    assert (newest.use_case, newest.version, newest.dry_run) == ("churn", "v8", True)
