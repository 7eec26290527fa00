"""The dashboard's pages through the running app, signed in through the fake Slack (SPEC "Web
dashboard"): each page shows what its query selects and nothing of a use case homed in a private
channel the reader is not in; pages are paged; a malformed query gets a page saying how to write
it (400) and a use case one may not see reads like one that does not exist. On SQLite and
PostgreSQL."""

from __future__ import annotations

import html as markup
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import usecases
from bot.render.dashboard_links import DashboardLinks
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.dora_support import deploy_approved, real_simulator
from tests.scenario.test_private_use_cases import SECRET, with_deals
from tests.scenario.web_support import Browser, browser, sign_in
from tests.unit.test_dora import deployment


async def _world(sim: Simulator) -> None:
    """churn (public, KPI auc with a target, deployed 1.0.0 by erin, approved by alice) and the
    private `pricing` of #deals (alice and bob), 2.0 asked for by bob in #deals."""
    await with_deals(sim)
    await sim.command("/usecase team churn add @erin devops")
    await sim.command("/metric target churn auc >= 0.8")
    for value in (0.78, 0.81, 0.84):
        await sim.command(f"/metric record churn auc {value}")
        sim.clock.advance(timedelta(days=1))
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")
    await press(sim, latest(sim), "deploy_approve")
    sim.switch_user("bob")
    sim.switch_channel("deals")
    await sim.command("/deploy pricing 2.0")
    sim.switch_user("alice")
    sim.switch_channel("general")
    await sim.app.settle()


async def _page(sim: Simulator, b: Browser, path: str) -> tuple[int, str]:
    hop = await b.get(f"{sim.base_url}{path}")
    return hop.status, hop.text


def _text(html: str) -> str:
    return markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


async def test_a_non_member_sees_nothing_of_a_private_use_case(sim: Simulator) -> None:
    await _world(sim)
    sim.switch_user("carol")  # on pricing's team, but not in #deals
    async with browser() as b:
        await sign_in(sim, b, "/")
        for path in ("/", "/?phase=dev", "/deployments", "/audit", "/dora", "/?q=pricing"):
            status, html = await _page(sim, b, path)
            assert status == 200, path
            assert "/use-cases/pricing" not in html and SECRET not in html, path
            assert "#deals" not in html and "term sheet" not in html, path
        status, html = await _page(sim, b, "/use-cases/pricing")
        _, unknown = await _page(sim, b, "/use-cases/nosuch")
        assert status == 404 and SECRET not in html
        assert _text(html).replace("pricing", "nosuch") == _text(unknown)  # the same answer
        status, csv = await _page(sim, b, "/api/v1/audit?format=csv")  # with the session
        assert status == 200 and "churn" in csv and "pricing" not in csv
        _, portfolio = await _page(sim, b, "/")
        assert "Biz: 1" in _text(portfolio) and "Dev: 0" in _text(portfolio)  # churn only
        assert "churn" in portfolio and "auc: 0.84, met ≥ 0.8" in _text(portfolio)


async def test_a_member_reads_the_private_use_cases_story(sim: Simulator) -> None:
    await _world(sim)
    sim.switch_user("bob")
    async with browser() as b:
        await sign_in(sim, b, "/use-cases/pricing")
        status, html = await _page(sim, b, "/use-cases/pricing")
        assert status == 200 and SECRET in html
        text = _text(html)
        assert "Biz → Dev: term sheet signed" in text
        assert re.search(r'id="deployment-\d+"', html) and "2.0" in text
        _, deployments = await _page(sim, b, "/deployments?use_case=pricing")
        assert re.search(r"/use-cases/pricing\?deployment=(\d+)#deployment-\1\"", deployments)
        _, audit = await _page(sim, b, "/audit?use_case=pricing")
        assert "phase changed" in _text(audit) and "requested" in _text(audit)


async def test_a_use_case_page_tells_its_story_with_its_kpi_chart(sim: Simulator) -> None:
    await _world(sim)
    async with browser() as b:
        await sign_in(sim, b, "/use-cases/churn")
        status, html = await _page(sim, b, "/use-cases/churn")
    text = _text(html)
    assert status == 200 and "Predict churn" in text
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 1 and 'role="img"' in html
    assert "latest 0.84" in text and "target ≥ 0.8, met" in text
    assert "no deployment to production in the period" in text  # the default pipeline: a dry run
    assert "1.0.0 (dry run) — succeeded" in text
    assert "Erin (devops)" in text
    assert "approved" in text and "Alice" in text  # the trail, with names


async def test_pages_are_paged_and_filters_narrow_them(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    async with sim.app.db.uow() as uow:
        for i in range(60):
            await uow.use_cases.add(usecases.create(f"case-{i:02d}", f"Case {i}", creator_id="U1",
                                                    channel_id="C1", now=sim.clock.now()))
        await uow.commit()
    async with browser() as b:
        await sign_in(sim, b, "/")
        _, first = await _page(sim, b, "/")
        assert first.count('href="/use-cases/') == 50
        after = re.search(r'href="(/\?after=[^"]+)" rel="next"', first)
        assert after is not None
        _, second = await _page(sim, b, after.group(1).replace("&amp;", "&"))
        assert second.count('href="/use-cases/') == 11 and 'rel="next"' not in second
        assert 'href="/use-cases/churn"' in second
        _, searched = await _page(sim, b, "/?q=case-0")
        assert searched.count('href="/use-cases/') == 10


async def test_a_malformed_query_says_how_to_write_it(sim: Simulator) -> None:
    async with browser() as b:
        await sign_in(sim, b, "/")
        for path, words in (("/?phase=nope", "write one of biz, dev, ops, continuous, archived"),
                            ("/?colour=red", "'colour' is not a filter here"),
                            ("/deployments?result=done", "'done' is not a result"),
                            ("/deployments?since=yesterday", "since"),
                            ("/audit?after=junk", "follow the page's own link"),
                            ("/?after=Not%20A%20Slug", "is not a use case slug"),
                            ("/use-cases/churn?deployment=last", "'last' is not a deployment number"),
                            ("/use-cases/churn?deployment=0", "'0' is not a deployment number"),
                            ("/use-cases/churn?deployment=99999999999", "1 to 2147483647"),
                            ("/use-cases/churn?page=2", "'page' is not a filter here"),
                            ("/deployments?before=99999999999", "is not a deployment number")):
            status, html = await _page(sim, b, path)
            assert status == 400 and words in _text(html), (path, _text(html)[:300])


async def test_a_day_filter_is_a_day_of_the_dashboards_zone_and_reads_back_as_itself(
        settings: Settings) -> None:
    """Berlin is an hour ahead of UTC in March: a deployment at 23:30 UTC on the 4th was asked
    for on the 5th there."""
    clock = ManualClock(datetime(2026, 3, 4, 23, 30, tzinfo=UTC))
    async with Simulator(replace(settings, timezone="Europe/Berlin"), clock=clock) as sim:
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command("/usecase team churn add @erin devops")
        sim.switch_user("erin")
        await sim.command("/deploy churn 1.0.0")  # waits for alice's approval
        sim.switch_user("alice")
        async with browser() as b:
            await sign_in(sim, b, "/")
            for path in ("/deployments", "/audit"):
                _, on_the_5th = await _page(sim, b, f"{path}?since=2026-03-05&until=2026-03-05")
                assert 'value="2026-03-05"' in on_the_5th and "2026-03-06" not in on_the_5th, path
                assert "churn" in _text(on_the_5th), path
                _, on_the_4th = await _page(sim, b, f"{path}?since=2026-03-04&until=2026-03-04")
                assert 'value="2026-03-04"' in on_the_4th and "1.0.0" not in _text(on_the_4th), path


async def test_no_page_repeats_an_id(settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    """Ids name the charts' titles and text alternatives to screen readers: one each."""
    async with real_simulator(settings, clock, tmp_path) as sim:  # DORA counts real deployments
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command("/usecase team churn add @erin devops")
        await sim.command("/metric record churn auc 0.8")
        await deploy_approved(sim, clock, "churn", "1.0.0", timedelta(hours=2))
        async with browser() as b:
            await sign_in(sim, b, "/")
            for path in ("/", "/use-cases/churn", "/deployments", "/dora", "/audit"):
                status, html = await _page(sim, b, path)
                ids = re.findall(r'\sid="([^"]+)"', html)
                assert status == 200 and ids, path
                assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))
            _, dora = await _page(sim, b, "/dora")
    assert dora.count("<svg ") == 4


def _shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<section class="deployment" id="deployment-(\d+)"', html)]


async def test_a_use_case_page_pages_its_deployments_and_every_link_finds_its_own(
        sim: Simulator) -> None:
    """churn's deployment 1 (erin's, approved by alice) and 12 more after pricing's 2: its page
    shows the newest 10, then the older ones; a message's link to 1 opens the page that has it."""
    await _world(sim)
    async with sim.app.db.uow() as uow:
        added = [(await uow.deployments.add(deployment(i, sim.clock.now()))).id for i in range(12)]
        await uow.commit()
    newest = sorted((i for i in added if i is not None), reverse=True)
    assert newest[-1] == 3  # after churn's 1 and pricing's 2
    async with browser() as b:
        await sign_in(sim, b, "/use-cases/churn")
        _, first = await _page(sim, b, "/use-cases/churn")
        assert _shown(first) == newest[:10] and "Newest deployments" not in first
        older = re.search(r'href="(/use-cases/churn\?deployment=(\d+)#deployment-\2)" rel="next">'
                          r"Older deployments<", first)
        assert older is not None and int(older.group(2)) == newest[10]
        _, second = await _page(sim, b, older.group(1))
        assert _shown(second) == [*newest[10:], 1] and 'rel="next"' not in second
        assert '<a href="/use-cases/churn#deployments">Newest deployments</a>' in second

        hop = await b.get(DashboardLinks(sim.base_url).deployment("churn", 1))  # as Slack links it
        assert hop.status == 200 and _shown(hop.text) == [1]
        assert "approved" in _text(hop.text) and "Alice" in _text(hop.text)  # its trail
        _, listed = await _page(sim, b, "/deployments?use_case=churn")
        assert f'href="/use-cases/churn?deployment={newest[0]}#deployment-{newest[0]}"' in listed

        _, across = await _page(sim, b, "/use-cases/churn?deployment=2")  # pricing's number
        assert _shown(across) == [1] and SECRET not in across and "pricing" not in across
        _, before_any = await _page(sim, b, "/use-cases/pricing?deployment=1")
        assert _shown(before_any) == [] and "No deployment of pricing is this old" in _text(before_any)
