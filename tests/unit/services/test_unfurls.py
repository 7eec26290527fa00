"""A pasted link to a use case's dashboard page unfurls (bot/services/unfurls.py): which links
count, what the summary holds, who may see it, and that it leaves as one ``chat.unfurl`` in the
outbox — on the in-memory storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain.metrics import Target
from bot.domain.usecase_results import KpiStanding, UseCaseSummary
from bot.render.cards import slack_args
from bot.services.outbox_port import SharedIn
from bot.services.ports import StoredPoint
from bot.services.unfurls import SharedLinks, UnfurlService
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import CHANNEL, OWNER, seed

BASE = "https://bizdevops.example.com"
PAGE = f"{BASE}/use-cases/churn"
HERE = SharedIn("C_OTHER", "1700000000.000100")


def service(db: InMemoryDatabase, base: str = BASE) -> UnfurlService:
    return UnfurlService(db.uow, db.clock, base, timedelta(weeks=6), "UTC")


def recording(seen: list[object]) -> InMemoryDatabase:
    def words(card: object) -> dict[str, object]:
        seen.append(card)
        return slack_args(card)
    return InMemoryDatabase(words=words)


async def kpis(db: InMemoryDatabase) -> None:
    now = db.clock.now()
    async with db.uow() as uow:
        await uow.metrics.add_points([
            ("churn", StoredPoint("auc", 0.71, "", now - timedelta(days=2))),
            ("churn", StoredPoint("auc", 0.83, "", now - timedelta(hours=1))),
            ("churn", StoredPoint("latency", 120, "ms", now - timedelta(days=1))),
        ], OWNER, now)
        await uow.metrics.set_target("churn", "auc", ">=", 0.8, OWNER, now, None)
        await uow.metrics.set_target("churn", "revenue", ">=", 1000, OWNER, now, None)
        await uow.commit()


async def test_a_link_to_a_use_case_page_unfurls_into_its_summary() -> None:
    seen: list[object] = []
    db = recording(seen)
    uc = await seed(db)
    async with db.uow() as uow:
        await uow.use_cases.save(replace(uc, kpi="revenue"))
        await uow.commit()
    await kpis(db)
    links = (PAGE, f"{PAGE}?deployment=3#deployment-3", "https://elsewhere.example.com/use-cases/churn")

    assert await service(db).unfurl(SharedLinks(HERE, links)) == 2

    [sent] = db.messages()
    assert (sent.method, sent.channel) == ("chat.unfurl", "C_OTHER")
    assert (sent.args["channel"], sent.args["ts"]) == ("C_OTHER", HERE.ts)
    assert sorted(sent.args["unfurls"]) == sorted(links[:2])
    for item in sent.args["unfurls"].values():
        assert item["fallback"].startswith("churn — Churn") and item["blocks"]
    summary = seen[-1]
    assert isinstance(summary, UseCaseSummary) and summary.use_case.slug == "churn"
    assert summary.kpis == (  # the success KPI first, then by name; the newest value of each
        KpiStanding("revenue", None, "", Target(">=", 1000)),
        KpiStanding("auc", 0.83, "", Target(">=", 0.8)),
        KpiStanding("latency", 120, "ms", None),
    )


async def test_links_elsewhere_or_to_no_use_case_unfurl_nothing() -> None:
    db = InMemoryDatabase()
    await seed(db)
    others = (f"{BASE}/use-cases/nope", f"{BASE}/deployments?use_case=churn", f"{BASE}/",
              "http://bizdevops.example.com/use-cases/churn", f"{BASE}:8443/use-cases/churn",
              "https://example.org/use-cases/churn")
    assert await service(db).unfurl(SharedLinks(HERE, others)) == 0
    assert await service(db, base="").unfurl(SharedLinks(HERE, (PAGE,))) == 0  # no dashboard
    assert db.messages() == []


async def test_a_private_use_case_unfurls_only_in_its_own_channel() -> None:
    db = InMemoryDatabase()
    await seed(db)
    async with db.uow() as uow:
        await uow.use_cases.set_private(CHANNEL, True)  # as Slack said when it was homed
        await uow.commit()
    shared = SharedLinks(HERE, (PAGE,))
    composing = SharedLinks(SharedIn("COMPOSER", "x", "U1-abc", "composer"), (PAGE,))
    assert await service(db).unfurl(shared) == 0
    assert await service(db).unfurl(composing) == 0  # its channel is not known yet
    assert db.messages() == []
    home = SharedLinks(SharedIn(CHANNEL, "1700000000.000200"), (PAGE,))
    assert await service(db).unfurl(home) == 1
    assert [m.channel for m in db.messages()] == [CHANNEL]


async def test_a_link_being_written_unfurls_by_its_unfurl_id() -> None:
    db = InMemoryDatabase()
    await seed(db)
    composing = SharedIn("COMPOSER", "U1-abc", "U1-abc-123", "composer")
    assert await service(db).unfurl(SharedLinks(composing, (PAGE,))) == 1
    [sent] = db.messages()
    assert {k: v for k, v in sent.args.items() if k != "unfurls"} == {
        "unfurl_id": "U1-abc-123", "source": "composer"}
