"""`/metric` and `POST /api/v1/metrics` end to end: signed requests in, fake Slack calls out."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.dora import BANDS
from bot.services.tokens import TokenService
from bot.simulator.simulator import Simulator
from storage.kpi_models import MetricPointRow, MetricTargetRow
from tests.scenario.dora_support import deploy_approved, real_simulator
from tests.scenario.helpers import post_text, posts, private_reply, reply_text
from tests.scenario.test_digests import digests, section_titled

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RECORD_USAGE = "/metric record <slug> <name> <value> [unit=<text>]"
SHOW_USAGE = "/metric show <slug> [<name>] [days=30]"
TARGET_USAGE = "/metric target <slug> <name> <op> <number>"


# ── helpers ────────────────────────────────────────────────────────────────────────────────


async def points(sim: Simulator) -> list[tuple[str, float, str, str, datetime]]:
    """Every stored KPI point: (name, value, unit, recorded_by, at), oldest first."""
    async with sim.app.db.sessions() as session:
        rows = await session.scalars(select(MetricPointRow).order_by(MetricPointRow.id))
        return [(r.name, r.value, r.unit, r.recorded_by, r.at) for r in rows]


async def point_count(sim: Simulator) -> int:
    async with sim.app.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MetricPointRow)) or 0)


async def target_count(sim: Simulator) -> int:
    async with sim.app.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MetricTargetRow)) or 0)


def announcements(sim: Simulator, channel: str | None = None) -> list[str]:
    """Target crossings the bot posted."""
    return [post_text(p) for p in posts(sim, channel)
            if "its target" in p.get("text", "")]


async def button_token(sim: Simulator, name: str = "ci") -> str:
    return await TokenService(sim.app.db.uow, sim.clock).create(name)


async def api(sim: Simulator, body: Any = None, *, token: str | None, raw: bytes | None = None,
              authorization: str | None = None) -> tuple[int, Any]:
    """POST /api/v1/metrics; returns the status and the parsed JSON answer."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    async with sim.http.post(f"{sim.base_url}/api/v1/metrics", data=data, headers=headers) as response:
        status, text = response.status, await response.text()
    await sim.app.settle()  # deliver what the push put in the outbox
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:  # e.g. aiohttp's own 500 page
        return status, text


def png_shape(content: bytes) -> tuple[int, ...]:
    assert content[:8] == PNG_SIGNATURE, content[:16]
    image = matplotlib.image.imread(io.BytesIO(content), format="png")
    return tuple(image.shape)


# ── record ─────────────────────────────────────────────────────────────────────────────────


async def test_the_owner_records_a_value_with_its_unit(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Predict churn"')

    step = await sim.command("/metric record churn precision 0.83 unit=%")

    assert step.status == 200
    assert step.reply is not None and step.reply["response_type"] == "ephemeral"
    assert "Recorded *precision* = 0.83% for *churn*" in reply_text(step)
    assert await points(sim) == [("precision", 0.83, "%", "UALICE", clock.now())]


async def test_the_owner_who_is_no_admin_and_team_members_may_record(sim: Simulator) -> None:
    sim.switch_user("bob")
    await sim.command('/usecase new churn "Predict churn"')  # bob owns it; bob is no admin
    await sim.command("/usecase team churn add @carol data-scientist")

    owner = await sim.command("/metric record churn latency_ms 120 unit=ms")
    sim.switch_user("carol")
    member = await sim.command("/metric record churn latency_ms 110 unit=ms")

    assert "Recorded *latency_ms* = 120 ms" in reply_text(owner)
    assert "Recorded *latency_ms* = 110 ms" in reply_text(member)
    assert [(name, value, unit, by) for name, value, unit, by, _ in await points(sim)] == [
        ("latency_ms", 120.0, "ms", "UBOB"), ("latency_ms", 110.0, "ms", "UCAROL")]


async def test_an_outsider_is_refused_and_told_who_may(sim: Simulator) -> None:
    sim.switch_user("bob")
    await sim.command('/usecase new churn "Predict churn"')
    sim.switch_user("dave")

    step = await sim.command("/metric record churn precision 0.83")

    assert "Only the owner <@UBOB>, the team of `churn` or an admin may record" in reply_text(step)
    assert await point_count(sim) == 0


async def test_an_admin_who_is_not_on_the_team_may_record(sim: Simulator) -> None:
    sim.switch_user("bob")
    await sim.command('/usecase new churn "Predict churn"')
    sim.switch_user("alice")
    step = await sim.command("/metric record churn precision 0.5")
    assert "Recorded *precision* = 0.5" in reply_text(step)


BAD_VALUES = [
    ("nan", "`nan` is not a finite number"),
    ("NaN", "`NaN` is not a finite number"),
    ("inf", "`inf` is not a finite number"),
    ("-Infinity", "`-Infinity` is not a finite number"),
    ("1e999", "`1e999` is too large to store"),
    ("lots", "`lots` is not a number"),
    ("0.8x", "`0.8x` is not a number"),
    ('""', "A value is needed"),
    ("1,5", "write numbers without separators"),
    ("83%", "Give the unit separately: `83 unit=%`"),
]


@pytest.mark.parametrize(("value", "problem"), BAD_VALUES, ids=[v for v, _ in BAD_VALUES])
async def test_a_bad_value_is_explained_with_the_usage_and_nothing_is_stored(
    sim: Simulator, value: str, problem: str
) -> None:
    await sim.command('/usecase new churn "Predict churn"')

    step = await sim.command(f"/metric record churn precision {value}")

    assert step.status == 200 and step.reply is not None
    assert step.reply["response_type"] == "ephemeral"
    assert problem in reply_text(step)
    assert RECORD_USAGE in reply_text(step)
    assert await point_count(sim) == 0


BAD_RECORDS = [
    ("/metric record churn precision", "Give the use case, the KPI's name and one value"),
    ("/metric record churn Precision 0.8", "Did you mean `precision`?"),
    ("/metric record churn -precision 0.8", "is not a valid metric name"),
    (f"/metric record churn {'p' * 65} 0.8", "is not a valid metric name"),
    ("/metric record churn préc 0.8", "is not a valid metric name"),
    (f"/metric record churn precision 0.8 unit={'u' * 33}", "at most 32 are allowed"),
    ("/metric record churn precision 0.8 colour=red", "Unknown option `colour=`"),
    ("/metric record Churn precision 0.8", "is not a valid slug"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_RECORDS, ids=[t[15:45] for t, _ in BAD_RECORDS])
async def test_bad_names_and_options_are_explained_and_nothing_is_stored(
    sim: Simulator, text: str, problem: str
) -> None:
    await sim.command('/usecase new churn "Predict churn"')

    step = await sim.command(text)

    assert problem in reply_text(step)
    assert RECORD_USAGE in reply_text(step)
    assert await point_count(sim) == 0


async def test_an_unknown_use_case_gets_a_suggestion(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    step = await sim.command("/metric record chrun precision 0.8")
    assert "There is no use case `chrun`" in reply_text(step)
    assert "Did you mean `churn`?" in reply_text(step)
    assert await point_count(sim) == 0


async def test_unknown_sub_command_and_help(sim: Simulator) -> None:
    unknown = await sim.command("/metric frobnicate churn")
    assert "Unknown sub-command `frobnicate`" in reply_text(unknown)
    assert "/metric help" in reply_text(unknown)

    for line in ("/metric help", "/metric"):
        step = await sim.command(line)
        text = reply_text(step)
        assert "/metric — shared KPIs and DORA metrics" in text
        for usage in (RECORD_USAGE, SHOW_USAGE, TARGET_USAGE, "/metric dora [<slug>] [days=30]"):
            assert usage in text
    assert not sim.fake.uploads


# ── show ───────────────────────────────────────────────────────────────────────────────────


async def _history(sim: Simulator, clock: ManualClock) -> datetime:
    """latency at now-40d, now-30d, now-7d, now-1d and now; recall only at now-40d and now."""
    await sim.command('/usecase new churn "Predict churn"')
    start = clock.now()
    for day, latency, recall in ((0, 40, 0.5), (10, 50, None), (33, 80, None), (39, 90, None),
                                 (40, 100, 0.6)):
        clock.advance(start + timedelta(days=day) - clock.now())
        await sim.command(f"/metric record churn latency {latency} unit=ms")
        if recall is not None:
            await sim.command(f"/metric record churn recall {recall}")
    await sim.command("/metric target churn latency <= 120")
    return clock.now()


async def test_show_answers_the_table_with_changes_sparkline_and_target(
    sim: Simulator, clock: ManualClock
) -> None:
    await _history(sim, clock)

    step = await sim.command("/metric show churn")

    assert step.reply is None  # acked at once; the table follows through the response_url
    assert private_reply(step)["response_type"] == "ephemeral"
    text = reply_text(step)
    assert "📈 churn — KPIs, last 30 days" in text
    # latest 100; previous 90; 7 days ago 80; 30 days ago 50 (the 40-day-old 40 is older)
    assert "*latency* 100 ms · prev +10 ms (+11.1%) · 7d +20 ms (+25.0%) · 30d +50 ms (+100%)" in text
    # the sparkline covers the last 30 days: 80, 90, 100
    assert "`▁▅█` · ✅ met ≤ 120 ms ↓ (by 20 ms)" in text
    # recall's only older point is 40 days old: it is the base for 7 and 30 days ago too
    assert "*recall* 0.6 · prev +0.1 (+20.0%) · 7d +0.1 (+20.0%) · 30d +0.1 (+20.0%)" in text
    assert "prev = against the previous value" in text
    assert private_reply(step)["text"] == "KPIs of churn: latency 100 ms, recall 0.6"


async def test_show_one_kpi_and_fewer_days(sim: Simulator, clock: ManualClock) -> None:
    await _history(sim, clock)

    step = await sim.command("/metric show churn latency days=7")

    text = reply_text(step)
    assert "📈 churn — KPIs, last 7 days" in text
    assert "*latency* 100 ms · prev +10 ms (+11.1%) · 7d +20 ms (+25.0%) · 30d +50 ms (+100%)" in text
    assert "`▁█`" in text, "only 90 and 100 fall in the last 7 days"
    assert "recall" not in text
    [upload] = sim.fake.uploads
    assert upload["title"] == "Predict churn — latency, last 7 days"


async def test_show_uploads_a_real_png_chart_to_the_channel_it_was_typed_in(
    sim: Simulator, clock: ManualClock
) -> None:
    await _history(sim, clock)
    sim.switch_channel("ops")
    uploads_before = len(sim.fake.uploads)

    step = await sim.command("/metric show churn")

    methods = [c.method for c in step.calls]
    assert methods.index("files.getUploadURLExternal") < methods.index("files.completeUploadExternal")
    [get_url] = sim.fake.calls_to("files.getUploadURLExternal")
    assert get_url.args["filename"] == "kpis.png"
    [complete] = sim.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "COPS"
    [upload] = sim.fake.uploads[uploads_before:]
    assert upload["channel_id"] == "COPS"
    assert upload["filename"] == "kpis.png"
    assert upload["title"] == "Predict churn — KPIs, last 30 days"
    content = upload["content"]
    assert isinstance(content, bytes) and len(content) == int(get_url.args["length"])
    height, width, channels = png_shape(content)
    assert height >= 200 and width >= 300 and channels in (3, 4)
    assert "uploaded file Predict churn — KPIs, last 30 days" in [m.text for m in sim.fake.messages("COPS")]


async def test_show_without_values_says_how_to_record_and_uploads_nothing(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    step = await sim.command("/metric show churn")
    assert "No KPIs recorded for *churn* in the last 30 days" in reply_text(step)
    assert "/metric record churn <name> <value>" in reply_text(step)
    assert not sim.fake.uploads
    assert not sim.fake.calls_to("files.getUploadURLExternal")


async def test_show_of_an_unknown_kpi_names_those_that_exist(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/metric record churn precision 0.8")
    await sim.command("/metric record churn recall 0.7")

    step = await sim.command("/metric show churn accuracy")

    assert "`churn` has no KPI `accuracy` (known: `precision`, `recall`)" in reply_text(step)
    assert SHOW_USAGE in reply_text(step)
    assert not sim.fake.uploads


async def test_show_of_a_use_case_without_kpis_says_none_exist(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    step = await sim.command("/metric show churn accuracy")
    assert "`churn` has no KPI `accuracy` (known: none yet)" in reply_text(step)


@pytest.mark.parametrize(("text", "problem"), [
    ("/metric show churn days=0", "`days=0` must be a whole number from 1 to 366"),
    ("/metric show churn days=400", "must be a whole number from 1 to 366"),
    ("/metric show churn a b", "Give the use case and, optionally, one KPI name"),
    ("/metric show", "Give the use case"),
])
async def test_bad_show_is_explained(sim: Simulator, text: str, problem: str) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    step = await sim.command(text)
    assert problem in reply_text(step)
    assert SHOW_USAGE in reply_text(step)


# ── targets and crossings ──────────────────────────────────────────────────────────────────


async def test_only_the_owner_or_an_admin_sets_a_target(sim: Simulator) -> None:
    sim.switch_user("bob")
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @carol data-scientist")
    await sim.command("/metric record churn precision 0.75")

    sim.switch_user("carol")
    member = await sim.command("/metric target churn precision >= 0.8")
    assert "Only the owner <@UBOB> or an admin may set targets of `churn`" in reply_text(member)
    assert await target_count(sim) == 0

    sim.switch_user("bob")
    owner = await sim.command("/metric target churn precision >= 0.8")
    assert ("Target for *churn* · *precision*: ≥ 0.8. Now: missed ≥ 0.8 ↑ (by 0.05)"
            in reply_text(owner))
    sim.switch_user("alice")
    admin = await sim.command("/metric target churn precision ≥ 0.7")
    assert "Now: met ≥ 0.7 ↑ (by 0.05)" in reply_text(admin)
    assert await target_count(sim) == 1
    show = await sim.command("/metric show churn")
    assert "✅ met ≥ 0.7 ↑ (by 0.05)" in reply_text(show)


@pytest.mark.parametrize(("text", "problem"), [
    ("/metric target churn precision => 0.8", "`=&gt;` is not a comparison"),  # mrkdwn-escaped
    ("/metric target churn precision >= nan", "is not a finite number"),
    ("/metric target churn precision >= high", "`high` is not a number"),
    ("/metric target churn Precision >= 0.8", "is not a valid metric name"),
    ("/metric target churn precision 0.8", "Give the use case, the KPI, an operator and a number"),
])
async def test_bad_target_is_explained_and_nothing_is_stored(
    sim: Simulator, text: str, problem: str
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    step = await sim.command(text)
    assert problem in reply_text(step)
    assert TARGET_USAGE in reply_text(step)
    assert await target_count(sim) == 0


async def test_each_crossing_is_announced_once_in_the_use_case_channel(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn" channel=#ops')
    await sim.command("/metric target churn precision >= 0.8")  # typed in #general

    replies = []
    for value in ("0.7",            # the first value only establishes the state: missed
                  "0.85", "0.9",    # crosses up, stays above
                  "0.6", "0.5"):    # crosses down, stays below
        replies.append(reply_text(await sim.command(f"/metric record churn precision {value}")))

    assert announcements(sim, "COPS") == [
        "🎯 churn · precision reached its target ≥ 0.8: now 0.85"
        + json.dumps([{"text": {"text": "🎯 *churn* · *precision* reached its target ≥ 0.8: now 0.85",
                                "type": "mrkdwn"}, "type": "section"}], ensure_ascii=False),
        "⚠️ churn · precision fell short of its target ≥ 0.8: now 0.6"
        + json.dumps([{"text": {"text": "⚠️ *churn* · *precision* fell short of its target ≥ 0.8: "
                                        "now 0.6", "type": "mrkdwn"}, "type": "section"}],
                     ensure_ascii=False),
    ]
    assert announcements(sim, "CGENERAL") == []
    assert "missed ≥ 0.8 ↑ (by 0.1)" in replies[0]
    assert "met ≥ 0.8 ↑ (by 0.05)" in replies[1]
    assert "missed ≥ 0.8 ↑ (by 0.3)" in replies[4]


async def test_a_target_set_after_values_takes_the_current_state_and_stays_quiet(
    sim: Simulator,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/metric record churn latency 250 unit=ms")
    await sim.command("/metric target churn latency < 200")   # missed now: not a crossing
    await sim.command("/metric record churn latency 240 unit=ms")
    assert announcements(sim) == []
    await sim.command("/metric record churn latency 150 unit=ms")
    assert announcements(sim) == [
        "🎯 churn · latency reached its target < 200: now 150 ms"
        + json.dumps([{"text": {"text": "🎯 *churn* · *latency* reached its target < 200: now 150 ms",
                                "type": "mrkdwn"}, "type": "section"}], ensure_ascii=False)]


# ── DORA ───────────────────────────────────────────────────────────────────────────────────


async def test_dora_after_a_few_deployments(
    settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    async with real_simulator(settings, clock, tmp_path) as sim:
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command('/usecase new fraud "Detect card fraud"')
        for slug in ("churn", "fraud"):
            await sim.command(f"/usecase team {slug} add @erin devops")
        # fraud only ever rehearses: it has nothing to measure, and is no busy use case.
        await deploy_approved(sim, clock, "fraud", "0.1.0", timedelta(hours=2), pipeline="rehearsal")
        for version in ("1.0.0", "1.1.0", "1.2.0"):
            await deploy_approved(sim, clock, "churn", version, timedelta(hours=2))
            clock.advance(timedelta(days=2))
        # Then a rehearsal: a dry run, in no number (with it, 4 in 30 days would be 0.933 per week).
        await deploy_approved(sim, clock, "churn", "1.3.0-rc", timedelta(hours=22), pipeline="rehearsal")

        month = reply_text(await sim.command("/metric dora churn"))
        assert "🚀 DORA — churn, last 30 days" in month
        assert "*Deployment frequency* 0.7 per week — medium" in month   # 3 in 30 days
        assert "*Lead time* 2 h — elite" in month
        assert "*Change failure rate* 0% — elite" in month
        assert "*Time to restore* n/a — n/a" in month
        assert "Overall: 🟡 *medium* · 3 production deployments, 0 failed" in month
        assert "1 dry run not counted" in month

        week = reply_text(await sim.command("/metric dora churn days=7"))
        assert "🚀 DORA — churn, last 7 days" in week
        assert "*Deployment frequency* 2 per week — high" in week        # 1.1.0, 1.2.0
        assert "*Lead time* 2 h — elite" in week
        assert "Overall: 🟢 *high* · 2 production deployments, 0 failed · 1 dry run not counted" in week

        overall = reply_text(await sim.command("/metric dora"))
        assert "🚀 DORA — all use cases, last 30 days" in overall
        assert "*Deployment frequency* 0.7 per week — medium" in overall
        assert "*churn* 0.7 per week, CFR 0%, lead 2 h — 🟡 medium" in overall
        assert "3 production deployments, 0 failed · 2 dry runs not counted" in overall
        assert "*fraud*" not in overall
        fraud = reply_text(await sim.command("/metric dora fraud"))
        assert "🧪 1 dry run, nothing deployed: nothing to measure yet." in fraud

        await sim.command("/digest now")  # the digest's DORA: the week before it
        [digest] = digests(sim, "CGENERAL")
        assert section_titled(digest, "📊 DORA") == (
            "*📊 DORA*\n🟢 high: 2 per week, lead time 2 h, change failure rate 0%, "
            "time to restore n/a")

        unknown = reply_text(await sim.command("/metric dora chrun"))
        assert "There is no use case `chrun`" in unknown and "Did you mean `churn`?" in unknown
        bad = reply_text(await sim.command("/metric dora churn days=week"))
        assert "`days=week` must be a whole number" in bad
        assert "/metric dora [<slug>] [days=30]" in bad


async def test_dora_of_a_use_case_with_only_dry_runs_has_nothing_to_measure_yet(
    sim: Simulator, clock: ManualClock,
) -> None:
    """The built-in pipeline is a dry run: DORA says so, in the card and in the digest, with no
    band and no chart; it counts nothing."""
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    for version in ("1.0.0", "1.1.0"):
        await deploy_approved(sim, clock, "churn", version, timedelta(hours=2))
        clock.advance(timedelta(days=1))

    card = private_reply(await sim.command("/metric dora churn"))
    said = post_text(card)
    assert "🚀 DORA — churn, last 30 days" in said
    assert "🧪 2 dry runs, nothing deployed: nothing to measure yet." in said
    assert card["text"] == "DORA churn, 30 days: 2 dry runs, nothing deployed: nothing to measure yet"
    assert "Deployment frequency" not in said and not any(band in said for band in BANDS)
    overall = reply_text(await sim.command("/metric dora"))
    assert "🚀 DORA — all use cases, last 30 days" in overall
    assert "2 dry runs, nothing deployed: nothing to measure yet" in overall
    assert not sim.fake.uploads, "no chart of nothing"

    await sim.command("/digest now")
    [digest] = digests(sim, "CGENERAL")
    assert section_titled(digest, "📊 DORA") == (
        "*📊 DORA*\n🧪 2 dry runs, nothing deployed: nothing to measure yet")


async def test_dora_uploads_its_trend_chart_after_the_card(
    settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    async with real_simulator(settings, clock, tmp_path) as sim:
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command("/usecase team churn add @erin devops")
        for version in ("1.0.0", "1.1.0", "1.2.0"):
            await deploy_approved(sim, clock, "churn", version, timedelta(hours=2))
            clock.advance(timedelta(days=9))
        sim.switch_channel("ops")
        uploads_before = len(sim.fake.uploads)

        step = await sim.command("/metric dora churn")

        assert "🚀 DORA — churn, last 30 days" in reply_text(step)
        methods = [c.method for c in step.calls]
        assert methods.index("files.getUploadURLExternal") < methods.index("files.completeUploadExternal")
        [complete] = sim.fake.calls_to("files.completeUploadExternal")
        assert complete.args["channel_id"] == "COPS"
        [upload] = sim.fake.uploads[uploads_before:]
        assert upload["channel_id"] == "COPS"
        assert upload["filename"] == "dora.png"
        assert upload["title"] == "DORA — churn, last 30 days"
        height, width, _channels = png_shape(upload["content"])
        assert height >= 300 and width >= 600, "four panels, two by two"

        overall = await sim.command("/metric dora days=14")
        assert "🚀 DORA — all use cases, last 14 days" in reply_text(overall)
        assert sim.fake.uploads[-1]["title"] == "DORA — all use cases, last 14 days"
        quiet = len(sim.fake.uploads)
        await sim.command("/metric dora days=7")  # the last deployment was nine days ago
        assert len(sim.fake.uploads) == quiet, "no chart of nothing"


async def test_dora_without_deployments_says_not_available(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    text = reply_text(await sim.command("/metric dora churn"))
    assert "*Deployment frequency* 0 per week — n/a" in text
    assert "*Lead time* n/a — n/a" in text
    assert "*Change failure rate* n/a — n/a" in text
    assert "0 production deployments" in text
    assert not sim.fake.uploads, "no chart of nothing"


# ── POST /api/v1/metrics ───────────────────────────────────────────────────────────────────


async def test_a_push_with_a_good_token_is_stored_echoed_and_shown(
    sim: Simulator, clock: ManualClock
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)

    status, body = await api(sim, {"use_case": "churn", "name": "precision", "value": 0.83,
                                   "unit": "%"}, token=token)

    assert status == 201, body
    assert body == {"use_case": "churn", "name": "precision", "value": 0.83, "unit": "%",
                    "at": clock.now().isoformat()}
    assert await points(sim) == [("precision", 0.83, "%", "token:ci", clock.now())]

    earlier = clock.now() - timedelta(hours=3)
    status, body = await api(sim, {"use_case": "churn", "name": "recall", "value": 7,
                                   "at": earlier.isoformat().replace("+00:00", "Z")}, token=token)
    assert status == 201, body
    assert body == {"use_case": "churn", "name": "recall", "value": 7.0, "unit": "",
                    "at": earlier.isoformat()}

    shown = reply_text(await sim.command("/metric show churn"))
    assert "*precision* 0.83%" in shown
    assert "*recall* 7" in shown


@pytest.mark.parametrize("authorization", [
    None, "Bearer", "Bearer bdo_wrong", "Basic dXNlcjpwYXNz", "bdo_{token}", "Bearer {token}x",
], ids=["missing", "empty", "wrong", "basic", "no-scheme", "altered"])
async def test_a_missing_or_wrong_token_is_401_and_stores_nothing(
    sim: Simulator, authorization: str | None
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)
    header = None if authorization is None else authorization.replace("bdo_{token}", token).replace(
        "{token}", token)

    status, body = await api(sim, {"use_case": "churn", "name": "precision", "value": 0.8},
                             token=None, authorization=header)

    assert status == 401
    assert body == {"error": "missing, wrong or revoked bearer token"}
    assert await point_count(sim) == 0


async def test_a_revoked_token_is_401(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    tokens = TokenService(sim.app.db.uow, sim.clock)
    token = await tokens.create("ci")
    item = {"use_case": "churn", "name": "precision", "value": 0.8}
    assert (await api(sim, item, token=token))[0] == 201

    await tokens.revoke("ci")

    status, body = await api(sim, item, token=token)
    assert status == 401 and "revoked" in body["error"]
    assert await point_count(sim) == 1


async def test_a_token_without_metrics_write_is_403_naming_the_scope_and_stores_nothing(
    sim: Simulator,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    tokens = TokenService(sim.app.db.uow, sim.clock)
    deployer = await tokens.create("deployer", ("deployments:write", "audit:read"))
    both = await tokens.create("both", ("metrics:write", "deployments:write"))
    item = {"use_case": "churn", "name": "precision", "value": 0.8}

    status, body = await api(sim, item, token=deployer)
    assert status == 403
    assert body == {"error": "the token 'deployer' lacks the scope metrics:write; create one that "
                             "has it with `bizdevops token create NAME --scope metrics:write`"}
    assert await point_count(sim) == 0
    assert (await api(sim, item, token=both))[0] == 201
    assert await point_count(sim) == 1


GOOD = {"use_case": "churn", "name": "precision", "value": 0.8}
BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("not-json", b"{use_case: churn", "the body is not JSON"),
    ("not-utf8", b'{"use_case": "\xff"}', "the body is not JSON"),
    ("nan-literal", b'{"use_case": "churn", "name": "precision", "value": NaN}', "value: "),
    ("infinity-literal", b'{"use_case": "churn", "name": "precision", "value": -Infinity}', "value: "),
    ("huge-float", b'{"use_case": "churn", "name": "precision", "value": 1e400}',
     "value: must be a finite number"),
    ("string-value", json.dumps({**GOOD, "value": "0.8"}).encode(), "value: must be a finite number"),
    ("bool-value", json.dumps({**GOOD, "value": True}).encode(), "value: must be a finite number"),
    ("no-value", json.dumps({"use_case": "churn", "name": "precision"}).encode(),
     "value: must be a finite number"),
    ("unknown-use-case", json.dumps({**GOOD, "use_case": "nope"}).encode(),
     "use_case: no use case 'nope'"),
    ("bad-slug", json.dumps({**GOOD, "use_case": "Churn"}).encode(), "use_case: "),
    ("no-use-case", json.dumps({"name": "precision", "value": 1}).encode(),
     "use_case: must be a non-empty string"),
    ("bad-name", json.dumps({**GOOD, "name": "Precision"}).encode(), "name: `Precision` is not a valid"),
    ("long-unit", json.dumps({**GOOD, "unit": "u" * 33}).encode(), "unit: "),
    ("unit-number", json.dumps({**GOOD, "unit": 5}).encode(), "unit: must be a string"),
    ("future-at", json.dumps({**GOOD, "at": "2100-01-01T00:00:00Z"}).encode(),
     "at: is more than 60 s ahead of the bot's clock"),
    ("naive-at", json.dumps({**GOOD, "at": "2026-03-01T00:00:00"}).encode(), "at: give a time zone"),
    ("garbage-at", json.dumps({**GOOD, "at": "yesterday"}).encode(), "at: expected an ISO 8601 time"),
    ("unknown-field", json.dumps({**GOOD, "colour": "red"}).encode(), "colour: unknown field"),
    ("scalar-body", b"42", "body: expected a JSON object"),
    ("empty-list", b"[]", "send one object or a list of 1 to 1000"),
    ("too-many", json.dumps([GOOD] * 1001).encode(), "send one object or a list of 1 to 1000"),
    ("bad-item", json.dumps([GOOD, GOOD, {**GOOD, "value": "x"}]).encode(),
     "items[2].value: must be a finite number"),
    ("non-object-item", json.dumps([GOOD, 7]).encode(), "expected a JSON object"),
    # RecursionError and Python's 4300-digit limit were 500s
    ("nested-3000-deep", b"[" * 3000 + b"]" * 3000, "the body is not JSON"),
    ("value-nested-3000-deep", b'{"value": ' + b"[" * 3000 + b"]" * 3000 + b"}", "the body is not JSON"),
    ("5000-digit-value", b'{"use_case": "churn", "name": "precision", "value": ' + b"9" * 5000 + b"}",
     "a number has more than 4300 digits"),
]


@pytest.mark.parametrize(("raw", "problem"), [(raw, problem) for _, raw, problem in BAD_BODIES],
                         ids=[name for name, _, _ in BAD_BODIES])
async def test_bad_input_is_400_naming_the_field_and_stores_nothing(
    sim: Simulator, raw: bytes, problem: str
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)

    status, body = await api(sim, token=token, raw=raw)

    assert status == 400, body
    assert set(body) == {"error"}
    assert problem in body["error"], body
    assert await point_count(sim) == 0


async def test_a_huge_integer_value_is_400(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)
    raw = b'{"use_case": "churn", "name": "precision", "value": 1' + b"0" * 400 + b"}"
    status, body = await api(sim, token=token, raw=raw)
    assert status == 400
    assert "value:" in body["error"]


async def test_an_at_out_of_range_is_400(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)
    status, body = await api(sim, {**GOOD, "at": "0001-01-01T00:00:00+01:00"}, token=token)
    assert status == 400
    assert "at:" in body["error"]


async def test_a_non_object_item_is_named_without_a_stray_dot(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)
    status, body = await api(sim, [GOOD, 7], token=token)
    assert status == 400
    assert body["error"] == "items[1]: expected a JSON object"


async def test_a_nan_in_a_batch_names_the_item(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)
    raw = b'[' + json.dumps(GOOD).encode() + b', {"use_case": "churn", "name": "p", "value": NaN}]'
    status, body = await api(sim, token=token, raw=raw)
    assert status == 400
    assert body["error"].startswith("items[1].value:"), body


async def test_a_batch_is_all_or_nothing(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command('/usecase new fraud "Detect fraud"')
    token = await button_token(sim)
    assert (await api(sim, GOOD, token=token))[0] == 201
    before = await point_count(sim)

    # the third is invalid: caught before anything is written
    status, body = await api(sim, [GOOD, {**GOOD, "use_case": "fraud"},
                                   {**GOOD, "value": "high"}], token=token)
    assert status == 400 and body["error"].startswith("items[2].value:")
    assert await point_count(sim) == before

    # the third names a use case that does not exist: found while writing, all rolled back
    status, body = await api(sim, [GOOD, {**GOOD, "use_case": "fraud"},
                                   {**GOOD, "use_case": "nope"}], token=token)
    assert status == 400 and body["error"] == "use_case: no use case 'nope'"
    assert await point_count(sim) == before


async def test_a_batch_of_500_is_stored_and_echoed(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    token = await button_token(sim)
    start = clock.now() - timedelta(days=5)
    batch = [{"use_case": "churn", "name": f"kpi{i % 5}", "value": i, "unit": "ms",
              "at": (start + timedelta(minutes=i)).isoformat()} for i in range(500)]

    status, body = await api(sim, batch, token=token)

    assert status == 201
    assert isinstance(body, list) and len(body) == 500
    assert body[0] == {"use_case": "churn", "name": "kpi0", "value": 0.0, "unit": "ms",
                       "at": start.isoformat()}
    assert body[499]["name"] == "kpi4" and body[499]["value"] == 499.0
    assert await point_count(sim) == 500
    shown = reply_text(await sim.command("/metric show churn"))
    assert "*kpi4* 499 ms" in shown


async def test_a_crossing_pushed_through_the_api_is_announced_once(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn" channel=#ops')
    await sim.command("/metric target churn precision >= 0.8")
    token = await button_token(sim)

    for value in (0.7, 0.85, 0.9):
        assert (await api(sim, {**GOOD, "value": value}, token=token))[0] == 201
    status, _ = await api(sim, [{**GOOD, "value": 0.95}, {**GOOD, "value": 0.97}], token=token)
    assert status == 201

    assert [text.split("[")[0] for text in announcements(sim)] == [
        "🎯 churn · precision reached its target ≥ 0.8: now 0.85"]
    assert len(announcements(sim, "COPS")) == 1


async def test_the_same_crossing_pushed_twice_at_once_is_announced_once(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/metric target churn precision >= 0.8")
    token = await button_token(sim)
    assert (await api(sim, {**GOOD, "value": 0.7}, token=token))[0] == 201

    results = await asyncio.gather(*(api(sim, {**GOOD, "value": 0.9}, token=token)
                                     for _ in range(2)))

    assert [status for status, _ in results] == [201, 201]
    assert await point_count(sim) == 3
    assert len(announcements(sim)) == 1


async def test_a_backfilled_older_value_does_not_announce_a_crossing(
    sim: Simulator, clock: ManualClock
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/metric target churn precision >= 0.8")
    token = await button_token(sim)
    assert (await api(sim, {**GOOD, "value": 0.7}, token=token))[0] == 201     # missed
    clock.advance(timedelta(hours=1))
    assert (await api(sim, {**GOOD, "value": 0.9}, token=token))[0] == 201     # met: announced
    assert len(announcements(sim)) == 1

    yesterday = (clock.now() - timedelta(days=1)).isoformat()
    status, _ = await api(sim, {**GOOD, "value": 0.5, "at": yesterday}, token=token)

    assert status == 201
    shown = reply_text(await sim.command("/metric show churn"))
    assert "*precision* 0.9" in shown and "✅ met" in shown   # the latest value still meets it
    assert len(announcements(sim)) == 1, announcements(sim)
