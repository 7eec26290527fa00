"""`/digest` end to end: schedules, who may set them, the digest itself, exactly once per fire
time (also with two bot processes on one database), the digest missed while down, reminders.

The scheduler is driven directly: ``await sim.app.scheduler.fire(channel)`` is the body of the
cron job, ``sync()`` the start-up/periodic reconciliation, ``reminders.run()`` the reminders
job. The ManualClock decides what "now" is; nothing waits on real time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import usecases
from bot.simulator import fake_slack_methods
from bot.simulator.simulator import Simulator
from storage.models import DigestRunRow, DigestScheduleRow, OutboxRow
from tests.scenario.conftest import START
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.helpers import post_text, posts, reply_text

GENERAL, OPS = "CGENERAL", "COPS"
DAILY_9 = "0 9 * * *"  # START is Monday 2 March 2026, 09:00 UTC: the next one is Tuesday 09:00
TUESDAY_9 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
SCHEDULE_USAGE = 'Usage: /digest schedule "<cron>" [tz=<IANA zone>]'
MAX_BLOCKS, MAX_SECTION, MAX_HEADER = 50, 3000, 150


# ── readers ────────────────────────────────────────────────────────────────────────────────


def is_digest(args: dict[str, Any]) -> bool:
    first = (args.get("blocks") or [{}])[0]
    return first.get("type") == "header" and first["text"]["text"].startswith("📋 BizDevOps digest")


def digests(sim: Simulator, channel: str | None = None) -> list[dict[str, Any]]:
    """Digests Slack accepted from the bot, oldest first."""
    return [p for p in posts(sim, channel) if is_digest(p)]


def sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def section_titled(message: dict[str, Any], title: str) -> str:
    found = [s for s in sections(message) if s.startswith(f"*{title}")]
    assert found, f"no section {title!r} in {sections(message)}"
    return "\n".join(found)


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    assert 0 < len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
    assert 0 < len(message["text"]) <= 4000  # the notification text


async def table_rows(sim: Simulator, model: type) -> int:
    async with sim.app.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def stored_schedule(sim: Simulator, channel: str) -> tuple[str, str, str] | None:
    async with sim.app.db.sessions() as session:
        row = await session.get(DigestScheduleRow, channel)
        return None if row is None else (row.cron, row.timezone, row.created_by)


async def schedule(sim: Simulator, cron: str = DAILY_9, tz: str = "UTC") -> str:
    step = await sim.command(f'/digest schedule "{cron}" tz={tz}')
    text = reply_text(step)
    assert "Digest scheduled" in text, text
    return text


def https_permalinks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake answers chat.getPermalink with its own http://127.0.0.1 address; real Slack
    answers https://<workspace>.slack.com/archives/<channel>/p<ts>. Answer like Slack does."""
    original = fake_slack_methods._METHODS["chat.getPermalink"]

    def permalink(state: Any, args: dict[str, Any]) -> dict[str, Any]:
        found = original(state, args)
        path = found["permalink"].split("/archives/", 1)[1]
        return {**found, "permalink": f"https://simulated.slack.com/archives/{path}"}

    monkeypatch.setitem(fake_slack_methods._METHODS, "chat.getPermalink", permalink)


# ── /digest schedule, /digest, /digest off ─────────────────────────────────────────────────


async def test_a_good_schedule_is_stored_and_the_reply_says_when_the_next_one_comes_in_its_zone(
    sim: Simulator,
) -> None:
    text = await schedule(sim, "0 9 * * mon-fri", "Europe/Berlin")
    # Monday 09:00 UTC is 10:00 in Berlin: today's 09:00 has passed, so Tuesday, in CET.
    assert "📋 Digest scheduled at 09:00 on Mon–Fri (Europe/Berlin)" in text
    assert "The next one comes 2026-03-03 09:00 CET" in text
    assert await stored_schedule(sim, GENERAL) == ("0 9 * * mon-fri", "Europe/Berlin", "UALICE")

    text = await schedule(sim, "30 7 * * 1", "America/New_York")  # replaces it
    assert "The next one comes 2026-03-02 07:30 EST" in text  # later today: it is 04:00 in New York
    assert await stored_schedule(sim, GENERAL) == ("30 7 * * 1", "America/New_York", "UALICE")
    assert await table_rows(sim, DigestScheduleRow) == 1


async def test_the_zone_defaults_to_the_configured_one(sim: Simulator) -> None:
    step = await sim.command(f'/digest schedule "{DAILY_9}"')
    assert "The next one comes 2026-03-03 09:00 UTC" in reply_text(step)
    assert await stored_schedule(sim, GENERAL) == (DAILY_9, "UTC", "UALICE")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('/digest schedule "0 9 * *"', "has 4 fields; a digest schedule has 5"),
        ('/digest schedule "0 9 * * * 2026"', "Seconds and years are not supported"),
        ('/digest schedule "61 9 * * *"', "`61` is not a valid minute (0–59)"),
        ('/digest schedule "0 25 * * *"', "`25` is not a valid hour (0–23)"),
        ('/digest schedule "0 9 * * funday"', "is not a day of the week"),
        ('/digest schedule "*/15 * * * *"', "digests come at most once an hour"),
        ('/digest schedule "0 9 31 2 *"', "never fires"),
        (f'/digest schedule "{DAILY_9}" tz=Mars/Olympus_Mons', "`Mars/Olympus_Mons` is not a time zone"),
        (f'/digest schedule "{DAILY_9}" tz=CEST', "`CEST` is not a time zone I know"),
        ("/digest schedule 0 9 * * *", "Put the cron expression in quotes"),
        (f'/digest schedule "{DAILY_9}" zone=UTC', "zone"),
    ],
)
async def test_a_bad_schedule_is_refused_clearly_and_nothing_is_stored(
    sim: Simulator, line: str, says: str,
) -> None:
    step = await sim.command(line)
    text = reply_text(step)
    assert step.status == 200
    assert says in text, text
    assert "⚠️" in text and "Digest scheduled" not in text
    assert SCHEDULE_USAGE in text or "Example: `0 9 * * mon-fri`" in text
    assert await table_rows(sim, DigestScheduleRow) == 0
    assert digests(sim) == [] and posts(sim) == []


async def test_a_bad_schedule_leaves_the_existing_one_as_it_was(sim: Simulator) -> None:
    await schedule(sim, DAILY_9, "Europe/Berlin")
    await sim.command('/digest schedule "0 9 * * *" tz=Nowhere/Special')
    await sim.command('/digest schedule "every monday"')
    assert await stored_schedule(sim, GENERAL) == (DAILY_9, "Europe/Berlin", "UALICE")


async def test_admins_and_owners_of_use_cases_homed_in_the_channel_may_schedule_others_not(
    sim: Simulator,
) -> None:
    await sim.command('/usecase new fraud "Detect fraud" owner=@bob channel=#ops')
    await sim.command("/usecase team fraud add @carol data-scientist")

    sim.switch_channel("ops")
    for outsider in ("carol", "dave"):  # a team member is not the owner; dave is nobody here
        sim.switch_user(outsider)
        step = await sim.command(f'/digest schedule "{DAILY_9}"')
        assert "Only admins and the owners of use cases homed in this channel (<@UBOB>)" in reply_text(step)
        assert await stored_schedule(sim, OPS) is None
        step = await sim.command("/digest off")
        assert "Only admins and the owners" in reply_text(step)

    sim.switch_user("bob")  # the owner of a use case homed in #ops
    await schedule(sim, "0 8 * * mon")
    assert await stored_schedule(sim, OPS) == ("0 8 * * mon", "UTC", "UBOB")

    sim.switch_channel("general")  # bob owns nothing homed in #general
    step = await sim.command(f'/digest schedule "{DAILY_9}"')
    assert "(nobody yet) may schedule its digest" in reply_text(step)
    assert await stored_schedule(sim, GENERAL) is None

    sim.switch_user("alice")  # the admin may schedule anywhere
    await schedule(sim)
    assert await stored_schedule(sim, GENERAL) == (DAILY_9, "UTC", "UALICE")


async def test_an_archived_use_case_does_not_make_its_owner_a_scheduler(sim: Simulator) -> None:
    await sim.command('/usecase new fraud "Detect fraud" owner=@bob channel=#ops')
    sim.switch_user("bob")
    await sim.command('/usecase archive fraud "stopped"')
    sim.switch_channel("ops")
    step = await sim.command(f'/digest schedule "{DAILY_9}"')
    assert "Only admins and the owners" in reply_text(step)
    assert await stored_schedule(sim, OPS) is None


async def test_digest_shows_the_schedule_and_its_next_run_and_off_turns_it_off(
    sim: Simulator, clock: ManualClock,
) -> None:
    step = await sim.command("/digest")
    assert "No digest is scheduled in this channel" in reply_text(step)

    await schedule(sim, "0 9 * * mon-fri", "Europe/Berlin")
    step = await sim.command("/digest")
    text = reply_text(step)
    assert "Digest at 09:00 on Mon–Fri (Europe/Berlin) (`0 9 * * mon-fri`), set by <@UALICE>" in text
    assert "Next: 2026-03-03 09:00 CET" in text

    clock.advance(timedelta(days=4, hours=1))  # Friday 10:00 UTC = 11:00 in Berlin: next is Monday
    text = reply_text(await sim.command("/digest"))
    assert "Next: 2026-03-09 09:00 CET" in text

    step = await sim.command("/digest off")
    assert "Scheduled digests are off in this channel" in reply_text(step)
    assert await stored_schedule(sim, GENERAL) is None
    assert "No digest is scheduled" in reply_text(await sim.command("/digest"))
    assert "No digest was scheduled in this channel" in reply_text(await sim.command("/digest off"))
    assert digests(sim) == []


async def test_digest_mentions_when_the_last_one_was_posted(sim: Simulator, clock: ManualClock) -> None:
    await sim.command("/digest now")
    clock.advance(timedelta(hours=2))
    text = reply_text(await sim.command("/digest"))
    assert "The last digest here was posted 2026-03-02 09:00 UTC" in text


async def test_digest_help_and_unknown_sub_commands(sim: Simulator) -> None:
    text = reply_text(await sim.command("/digest help"))
    for usage in ("/digest now", '/digest schedule "<cron>" [tz=<IANA zone>]', "/digest off"):
        assert usage in text
    text = reply_text(await sim.command("/digest weekly"))
    assert "Unknown sub-command `weekly`" in text
    text = reply_text(await sim.command("/digest now please"))
    assert "`/digest now` takes nothing more" in text
    assert digests(sim) == []


# ── /digest now ────────────────────────────────────────────────────────────────────────────


async def realistic_session(sim: Simulator, clock: ManualClock) -> dict[str, Any]:
    """Seven weeks of team work in #general; returns the message of the deployment at the gate."""
    await sim.command('/usecase new churn "Predict churn"')  # alice (admin) owns it
    await sim.command("/usecase team churn add @erin devops")
    await sim.command("/usecase team churn add @carol data-scientist")
    await sim.command('/usecase advance churn "kick-off with the business"')  # Dev from Monday
    await sim.command('/usecase new fraud "Detect card fraud" owner=@bob')
    await sim.command('/usecase new upsell "Upsell offers" owner=@carol')
    await sim.command('/usecase new pricing "Dynamic pricing" owner=@dave channel=#ops')  # elsewhere

    clock.advance(timedelta(weeks=6, days=2))  # churn is now over its 6-week Dev time box
    sim.switch_user("bob")
    await sim.command('/usecase advance fraud "business case signed"')  # a phase change this week
    await sim.command("/usecase team fraud add @erin devops")

    sim.switch_user("alice")
    await sim.command("/metric record churn auc 0.80")
    await sim.command("/metric target churn auc >= 0.85")
    await sim.command("/metric record churn latency 120 unit=ms")
    clock.advance(timedelta(days=1))
    await sim.command("/metric record churn auc 0.88")  # crosses the target

    sim.switch_user("bob")  # a finished deployment: bob asks, alice (admin) approves
    await sim.command("/deploy fraud 1.0.0")
    sim.switch_user("alice")
    await press(sim, latest(sim), "deploy_approve")

    sim.switch_user("erin")  # and one waiting at the gate
    await sim.command("/deploy churn 2.0.0")
    at_gate = latest(sim)
    assert "awaiting approval" in post_text(at_gate)
    clock.advance(timedelta(hours=5))
    await sim.app.settle()  # what fell due meanwhile: the gate's 4-hour reminder
    sim.switch_user("alice")
    return at_gate


async def test_digest_now_after_a_realistic_session_posts_one_message_with_every_section(
    sim: Simulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    https_permalinks(monkeypatch)
    at_gate = await realistic_session(sim, clock)
    before = len(posts(sim))
    links_before = len(sim.fake.calls_to("chat.getPermalink"))  # the requester's DM has one too

    step = await sim.command("/digest now")

    assert "Putting the digest together" in reply_text(step)
    new = posts(sim)[before:]
    assert len(new) == 1, [p["text"] for p in new]
    [digest] = digests(sim, GENERAL)
    assert digest is new[0] and digest["channel"] == GENERAL
    assert_within_slack_limits(digest)
    text = post_text(digest)

    assert digest["blocks"][0]["text"]["text"] == "📋 BizDevOps digest — Thu 16 Apr 2026"
    assert digest["text"].startswith("Weekly digest: 3 use cases, 1 approval waiting, 1 over the time box")
    assert "*3 use cases* · 💼 Biz 1 · 🛠️ Dev 2" in text  # #ops's pricing is not this channel's

    approvals = section_titled(digest, "✋ Approvals waiting (1)")
    assert "*churn* 2.0.0 → deploy · waiting 5 hours · needs 1 more approval" in approvals
    [permalink_call] = sim.fake.calls_to("chat.getPermalink")[links_before:]
    assert permalink_call.args["channel"] == GENERAL
    assert permalink_call.args["message_ts"] == at_gate["ts"]
    link = f"<https://simulated.slack.com/archives/{GENERAL}/p{at_gate['ts'].replace('.', '')}|open>"
    assert link in approvals

    overdue = section_titled(digest, "⏰ Over the Dev time box (1)")
    assert "*churn* — Predict churn · <@UALICE> · 6.5 weeks in Dev" in overdue

    moves = section_titled(digest, "🔀 Phase changes (1)")
    assert "*fraud* — Detect card fraud: 💼 Biz → 🛠️ Dev · <@UBOB>" in moves
    assert "business case signed" in moves
    assert "churn" not in moves  # moved six weeks ago, before this digest's period

    deployments = section_titled(digest, "🚀 Deployments (2: 1 ✅)")
    assert "✅ Succeeded" in deployments and "*fraud* 1.0.0 (#1) · <@UBOB> · _dry run_" in deployments
    assert "✋ Waiting for approval · *churn* 2.0.0 (#2) · <@UERIN>" in deployments

    crossings = section_titled(digest, "🎯 Targets crossed (1)")
    assert "churn · auc reached its target" in crossings and "0.88" in crossings

    kpis = section_titled(digest, "📈 KPI movements (2)")
    assert "*churn* auc: 0.88" in kpis and "*churn* latency: 120 ms" in kpis

    dora = section_titled(digest, "📊 DORA")  # fraud's dry run is the only deployment: no band
    assert dora == "*📊 DORA*\n🧪 1 dry run, nothing deployed: nothing to measure yet"

    # Most urgent first: approvals, overdue work, then what moved, DORA last.
    order = [sections(digest).index(section_titled(digest, t)) for t in (
        "✋ Approvals", "⏰ Over the Dev", "🔀 Phase changes", "🚀 Deployments", "📊 DORA")]
    assert order == sorted(order)


async def test_a_digest_in_a_quiet_channel_says_it_was_quiet(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    clock.advance(timedelta(days=9))  # nothing happened since a week before now

    await sim.command("/digest now")

    [digest] = digests(sim, GENERAL)
    assert_within_slack_limits(digest)
    text = post_text(digest)
    assert "😌 A quiet week: no phase changes, deployments or KPI movements since Wed 4 Mar 2026" in text
    assert "a quiet week" in digest["text"]
    titles = [s.split("\n", 1)[0] for s in sections(digest) if s.startswith("*")]
    for title in ("Approvals waiting", "Phase changes", "Deployments", "KPI movements", "DORA"):
        assert not [t for t in titles if title in t], titles


async def test_a_digest_in_an_empty_workspace_is_quiet_and_posted_once(sim: Simulator) -> None:
    sim.switch_channel("ops")
    step = await sim.command("/digest now")
    assert step.status == 200
    [digest] = digests(sim)
    assert digest["channel"] == OPS
    assert "😌 A quiet week" in post_text(digest)
    assert "0 use cases" in digest["text"]


async def test_a_digest_of_a_busy_channel_ends_long_lists_with_and_n_more(
    sim: Simulator, clock: ManualClock,
) -> None:
    async with sim.app.db.uow() as uow:  # 40 use cases in Dev since Monday, long titles
        for i in range(40):
            uc = usecases.create(f"uc-{i:02d}", f"A use case with a long title number {i} " + "x" * 150,
                                 creator_id="UBOB", channel_id=GENERAL, now=START)
            moved = usecases.advance(uc, "UBOB", START, is_admin=False, note="n" * 300).use_case
            await uow.use_cases.add(moved)
        await uow.commit()
    clock.advance(timedelta(weeks=7))
    await sim.command("/usecase list")  # something in between, as people do

    await sim.command("/digest now")

    [digest] = digests(sim, GENERAL)
    assert_within_slack_limits(digest)
    overdue = section_titled(digest, "⏰ Over the Dev time box (40)")
    assert "… and 25 more use cases" in overdue
    assert overdue.count("\n• ") == 15
    assert "*40 use cases* · 🛠️ Dev 40" in post_text(digest)


async def test_a_second_digest_covers_only_what_happened_since_the_first(
    sim: Simulator, clock: ManualClock,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command('/usecase advance churn "kick-off"')
    await sim.command("/digest now")
    [first] = digests(sim, GENERAL)
    assert "🔀 Phase changes (1)" in post_text(first)

    clock.advance(timedelta(days=1))
    await sim.command("/digest now")

    second = digests(sim, GENERAL)[-1]
    assert second is not first
    assert "Since Mon 2 Mar 2026, 09:00" in post_text(second)
    assert "Phase changes" not in post_text(second)
    assert "😌 A quiet day" in post_text(second)


# ── scheduled digests: exactly once ────────────────────────────────────────────────────────


async def test_the_scheduled_job_posts_once_per_fire_time(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await schedule(sim)
    clock.advance(TUESDAY_9 - clock.now() + timedelta(seconds=1))  # the job runs just after 09:00

    assert await sim.app.scheduler.fire(GENERAL) is True
    await sim.app.settle()
    [digest] = digests(sim, GENERAL)
    assert_within_slack_limits(digest)
    assert digest["blocks"][0]["text"]["text"] == "📋 BizDevOps digest — Tue 3 Mar 2026"

    clock.advance(timedelta(seconds=30))  # the same fire time again (a retried or doubled job)
    assert await sim.app.scheduler.fire(GENERAL) is False
    await sim.app.settle()
    assert len(digests(sim, GENERAL)) == 1
    async with sim.app.db.sessions() as session:
        runs = (await session.scalars(select(DigestRunRow))).all()
    assert [(r.channel_id, r.fire_time.replace(tzinfo=UTC)) for r in runs] == [(GENERAL, TUESDAY_9)]

    clock.advance(timedelta(days=1))  # Wednesday 09:00:31: the next fire time posts again
    assert await sim.app.scheduler.fire(GENERAL) is True
    await sim.app.settle()
    assert len(digests(sim, GENERAL)) == 2


async def test_the_scheduled_job_for_a_channel_without_a_schedule_posts_nothing(
    sim: Simulator, clock: ManualClock,
) -> None:
    clock.advance(TUESDAY_9 - clock.now() + timedelta(seconds=1))
    assert await sim.app.scheduler.fire(GENERAL) is False
    await sim.app.settle()
    assert digests(sim) == []


async def test_after_digest_off_the_job_posts_nothing(sim: Simulator, clock: ManualClock) -> None:
    await schedule(sim)
    await sim.command("/digest off")
    clock.advance(TUESDAY_9 - clock.now() + timedelta(seconds=1))

    assert await sim.app.scheduler.fire(GENERAL) is False
    assert await sim.app.scheduler.sync() == 0
    await sim.app.settle()
    assert digests(sim) == []
    assert await table_rows(sim, DigestRunRow) == 0


async def test_two_bot_processes_on_one_database_post_a_scheduled_digest_once(
    sim: Simulator, settings: Settings, clock: ManualClock,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await schedule(sim)
    clock.advance(TUESDAY_9 - clock.now() + timedelta(milliseconds=200))
    async with Simulator(settings, clock=clock) as other:
        for _round in range(3):  # the job fires in both processes at the same moment
            results = await asyncio.gather(sim.app.scheduler.fire(GENERAL),
                                           other.app.scheduler.fire(GENERAL))
            await asyncio.gather(sim.app.settle(), other.app.settle())
            assert results.count(True) <= 1
        both = digests(sim, GENERAL) + digests(other, GENERAL)
        assert len(both) == 1, "one digest in total, whichever process posted it"
        assert await table_rows(sim, DigestRunRow) == 1
        async with sim.app.db.sessions() as session:
            outbox = (await session.scalars(select(OutboxRow))).all()
        assert sum(is_digest(row.args) for row in outbox) == 1


async def test_two_processes_catching_up_on_start_up_post_the_missed_digest_once(
    sim: Simulator, settings: Settings, clock: ManualClock,
) -> None:
    await schedule(sim)
    clock.advance(TUESDAY_9 - clock.now() + timedelta(minutes=20))
    async with Simulator(settings, clock=clock) as other:
        posted = await asyncio.gather(sim.app.scheduler.sync(), other.app.scheduler.sync(),
                                      sim.app.scheduler.fire(GENERAL))
        await asyncio.gather(sim.app.settle(), other.app.settle())
        assert sum(int(p) for p in posted) == 1
        assert len(digests(sim) + digests(other)) == 1


# ── the digest missed while the bot was down ───────────────────────────────────────────────


async def test_a_digest_missed_within_the_hour_is_posted_once_on_sync(
    sim: Simulator, clock: ManualClock,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await schedule(sim)
    clock.advance(TUESDAY_9 - clock.now() + timedelta(minutes=30))  # down at 09:00, back at 09:30

    assert await sim.app.scheduler.sync() == 1
    await sim.app.settle()
    [digest] = digests(sim, GENERAL)
    assert digest["blocks"][0]["text"]["text"] == "📋 BizDevOps digest — Tue 3 Mar 2026"
    async with sim.app.db.sessions() as session:
        [run] = (await session.scalars(select(DigestRunRow))).all()
    assert run.fire_time.replace(tzinfo=UTC) == TUESDAY_9

    clock.advance(timedelta(minutes=1))
    assert await sim.app.scheduler.sync() == 0  # the next sync, a minute later
    assert await sim.app.scheduler.fire(GENERAL) is False  # and the late cron job itself
    await sim.app.settle()
    assert len(digests(sim)) == 1


async def test_a_digest_missed_by_more_than_an_hour_is_not_posted(
    sim: Simulator, clock: ManualClock,
) -> None:
    await schedule(sim)
    clock.advance(TUESDAY_9 - clock.now() + timedelta(hours=1, minutes=1))

    assert await sim.app.scheduler.sync() == 0
    await sim.app.settle()
    assert digests(sim) == []
    assert await table_rows(sim, DigestRunRow) == 0

    clock.advance(TUESDAY_9 + timedelta(days=1, seconds=1) - clock.now())  # the next one comes
    assert await sim.app.scheduler.fire(GENERAL) is True


async def test_sync_after_the_job_already_posted_posts_nothing(sim: Simulator, clock: ManualClock) -> None:
    await schedule(sim)
    clock.advance(TUESDAY_9 - clock.now() + timedelta(seconds=1))
    assert await sim.app.scheduler.fire(GENERAL) is True
    clock.advance(timedelta(minutes=10))
    assert await sim.app.scheduler.sync() == 0
    await sim.app.settle()
    assert len(digests(sim)) == 1


async def test_scheduling_after_todays_fire_time_does_not_post_a_missed_digest(
    sim: Simulator, clock: ManualClock,
) -> None:
    clock.advance(timedelta(minutes=30))  # Monday 09:30: today's 09:00 has passed
    await schedule(sim)  # "The next one comes 2026-03-03 09:00"
    clock.advance(timedelta(seconds=40))
    assert await sim.app.scheduler.sync() == 0
    await sim.app.settle()
    assert digests(sim) == []


async def test_a_digest_whose_posting_failed_is_not_lost(
    sim: Simulator, clock: ManualClock, database_url: str, request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await schedule(sim)
    clock.advance(TUESDAY_9 - clock.now() + timedelta(seconds=1))
    real_collect = sim.app.digests.collect
    calls = 0

    async def collect_failing_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("the database went away mid-digest")
        return await real_collect(*args, **kwargs)

    monkeypatch.setattr(sim.app.digests, "collect", collect_failing_once)
    with pytest.raises(ConnectionResetError):
        await sim.app.scheduler.fire(GENERAL)
    assert await table_rows(sim, DigestRunRow) == 0, "the failed attempt claimed nothing"

    clock.advance(timedelta(minutes=1))
    assert await sim.app.scheduler.sync() == 1  # the next sync catches up
    await sim.app.settle()
    assert len(digests(sim)) == 1


# ── reminders ──────────────────────────────────────────────────────────────────────────────


def thread_replies(sim: Simulator, parent: dict[str, Any]) -> list[str]:
    return [p["text"] for p in posts(sim, parent["channel"]) if p.get("thread_ts") == parent["ts"]]


def nudges(sim: Simulator, parent: dict[str, Any]) -> list[str]:
    return [t for t in thread_replies(sim, parent) if "for approval from" in t]


def reminder_dms(sim: Simulator, user: str) -> list[str]:
    return [c.args["text"] for c in sim.fake.calls_to("chat.postMessage")
            if c.args.get("channel") == user and "Still waiting for your approval" in c.args["text"]]


async def test_a_waiting_gate_is_nudged_once_per_remind_interval_in_its_thread_and_by_dm(
    sim: Simulator, clock: ManualClock,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    message = latest(sim)

    clock.advance(timedelta(hours=3, minutes=59))
    await sim.app.settle()
    assert nudges(sim, message) == [] and reminder_dms(sim, "UALICE") == []

    clock.advance(timedelta(minutes=2))  # the default remind interval, 4 hours, has passed
    await sim.app.settle()
    await sim.app.settle()
    [nudge] = nudges(sim, message)
    assert nudge.startswith("⏰ *deploy* has waited 4 hours")
    assert nudge.endswith("for approval from the owner <@UALICE> (the only admin).")
    [dm] = reminder_dms(sim, "UALICE")  # with the buttons, to the one who may approve
    assert "Still waiting for your approval after 4 hours" in dm
    assert "deployment 1 of *churn* `1.0.0` at *deploy* (dry run), requested by <@UERIN>" in dm
    assert reminder_dms(sim, "UERIN") == []  # the requester is not asked to approve

    clock.advance(timedelta(hours=3, minutes=58))
    await sim.app.settle()
    assert len(nudges(sim, message)) == 1
    clock.advance(timedelta(minutes=4))  # 8 hours: the next interval, the next nudge
    await sim.app.settle()
    assert len(nudges(sim, message)) == 2 and len(reminder_dms(sim, "UALICE")) == 2


async def test_a_decided_gate_is_not_nudged(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    message = latest(sim)
    sim.switch_user("alice")
    await press(sim, message, "deploy_approve")
    clock.advance(timedelta(hours=5))
    assert await sim.app.scheduler.reminders.run() == 0
    await sim.app.settle()
    assert nudges(sim, message) == []


async def test_two_processes_nudge_a_gate_once(
    sim: Simulator, settings: Settings, clock: ManualClock,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    message = latest(sim)
    clock.advance(timedelta(hours=5))
    async with Simulator(settings, clock=clock) as other:
        await asyncio.gather(sim.app.engine.tick(), other.app.engine.tick())
        await asyncio.gather(sim.app.settle(), other.app.settle())
        # whichever process sent them: one nudge in the thread, one reminder to the approver
        assert len(nudges(sim, message) + nudges(other, message)) == 1
        assert len(reminder_dms(sim, "UALICE") + reminder_dms(other, "UALICE")) == 1
        async with sim.app.db.uow() as uow:
            trail = await uow.deployments.events(1)
        assert [e.kind for e in trail].count("reminded") == 1
