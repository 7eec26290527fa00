"""Scale out: two real `bizdevops serve` processes on one PostgreSQL database share the work.

Signed slash commands are spread over both processes; command stages log which process ran
them. Every step must start once, every deployment end once with one closing announcement, and
every outbox message reach Slack once — also when one process is SIGKILLed mid-work: its lost
step is failed (never re-run) and its claimed messages are delivered by the survivor once the
leases run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.domain.deployment_model import DeploymentState, StageState
from bot.render.deploy_stop_words import kept_stop
from bot.simulator.fake_slack import FakeSlack, Fault, RecordedCall
from storage.database import Database
from storage.models import OutboxRow
from tests.conftest import _admin, _pg_url
from tests.scenario.scale_support import (
    FINAL_STATES,
    Commander,
    Serve,
    backlog_empty,
    closing_announcements,
    deployment_id_of,
    deployments,
    engine_steps,
    events,
    free_port,
    open_db,
    outbox_rows,
    pipeline_file,
    run_cli,
    running_on,
    sent_rows,
    serve_env,
    slack_calls,
    starts,
    step_lines,
    wait_until,
)

pytestmark = pytest.mark.postgres

# Short leases so a killed process's step and messages are taken over in seconds, not a minute.
# (Without BIZDEVOPS_LEASE_SECONDS support the default 60 s lease still fits in the budget.)
LEASE_SECONDS = 10  # heartbeats every ~3 s: a live step keeps its lease on a busy machine
BUDGET = 90.0  # seconds for the whole kill scenario, start to finish
LOST = "not run again"


@pytest.fixture
async def pg_url(pg_databases: object) -> AsyncIterator[str]:
    """An empty PostgreSQL database (the test migrates it with `bizdevops migrate`)."""
    del pg_databases  # only for the "is there a server" check and its skip/fail
    name = f"bizdevops_scale_{uuid.uuid4().hex[:10]}"
    await _admin([f'CREATE DATABASE "{name}"'])
    yield _pg_url(name)
    await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token="xoxb-test-token")
    await slack.start()
    slack.add_user("alice")
    yield slack
    await slack.stop()


async def _start_serves(fake: FakeSlack, url: str, tmp_path: Path, pipelines: Path,
                     http: aiohttp.ClientSession, processes: list[Serve], *,
                     names: tuple[str, ...] = ("a", "b"), lease: int = LEASE_SECONDS) -> None:
    extra = {"BIZDEVOPS_LEASE_SECONDS": str(lease)}
    env = serve_env(fake, url, free_port(), pipelines, **extra)
    code, out = await run_cli("migrate", env=env, cwd=tmp_path)
    assert code == 0, out
    for name in names:
        processes.append(Serve(name, serve_env(fake, url, free_port(), pipelines, **extra),
                               tmp_path))
        await processes[-1].start()
    for process in processes:
        await process.wait_healthy(http)


async def _start_deployments(fake: FakeSlack, commander: Commander, count: int) -> list[int]:
    """A use case per channel (Slack paces posts per channel), then one deployment each."""
    for i in range(count):
        fake.add_channel(f"scale{i:02d}")
    for i in range(count):
        reply = await commander.command(f'/usecase new uc{i:02d} "Scale {i}"',
                                        channel=f"scale{i:02d}")
        assert "Created *uc" in reply.get("text", ""), reply
    ids = await asyncio.gather(*(
        commander.command(f"/deploy uc{i:02d} 1.0.{i}", channel=f"scale{i:02d}")
        for i in range(count)))
    return [deployment_id_of(reply) for reply in ids]


def _assert_each_message_once(fake: FakeSlack, rows: list[OutboxRow], note: str = "") -> None:
    """Slack got exactly what the outbox says was sent: nothing twice, nothing missing."""
    statuses = Counter(r.status for r in rows)
    assert set(statuses) <= {"sent", "superseded"}, statuses
    for method in ("chat.postMessage", "chat.update"):
        got, owed = slack_calls(fake, method), sent_rows(rows, method)
        twice = {k[1:3]: n for k, n in got.items() if n > 1}
        assert not twice, f"{method} delivered more than once{note}: {twice}"
        assert got == owed, f"{method}: Slack got {got - owed}, missing {owed - got}"


async def _assert_one_ending(db: Database, ids: list[int], fake: FakeSlack) -> None:
    for d_id in ids:
        trail = [e.kind for e in await events(db, d_id)]
        assert sum(trail.count(s) for s in FINAL_STATES) == 1, (d_id, trail)
        assert len(closing_announcements(fake, d_id)) == 1, (d_id, closing_announcements(fake, d_id))


# ── 1. many deployments over two processes, nobody killed ───────────────────────────────────

async def test_two_processes_share_twenty_deployments_each_step_once(
    fake: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "steps.log"
    pipelines = pipeline_file(tmp_path, log, [("build", 0.2), ("ship", 0.2)])
    processes: list[Serve] = []
    db = open_db(pg_url)
    deadline = time.monotonic() + 60
    try:
        async with aiohttp.ClientSession() as http:
            await _start_serves(fake, pg_url, tmp_path, pipelines, http, processes)
            ids = await _start_deployments(fake, Commander(fake, http, processes), 20)
            assert len(set(ids)) == 20

            async def all_done() -> bool:
                found = await deployments(db, ids)
                return all(not d.state.is_active for d in found.values())

            await wait_until(all_done, deadline=deadline, what="every deployment to end")
            await wait_until(lambda: all(closing_announcements(fake, d) for d in ids),
                             deadline=deadline, what="every closing announcement")
            await wait_until(backlog_empty(db), deadline=deadline, what="an empty outbox")
            await asyncio.sleep(1.5)  # anything sent twice would show up by now

            found = await deployments(db, ids)
            assert {d.state for d in found.values()} == {DeploymentState.SUCCEEDED}, \
                {d_id: (d.state, d.detail) for d_id, d in found.items()}
            assert starts(log) == Counter({(d, s): 1 for d in ids for s in ("build", "ship")})
            pids = {line.pid for line in step_lines(log)}
            assert pids == {p.pid for p in processes}, "both processes ran steps"
            await _assert_one_ending(db, ids, fake)
            _assert_each_message_once(fake, await outbox_rows(db))
    finally:
        codes = [await p.stop() for p in processes]
        await db.dispose()
    assert codes == [0, 0], "\n".join(p.output() for p in processes)


# ── 2. one process SIGKILLed mid-work ────────────────────────────────────────────────────────

async def test_a_process_killed_mid_work_its_steps_fail_once_and_messages_arrive_once(
    fake: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "steps.log"
    # All deployments start together, so they sit in the long middle stage at about the same
    # time: then the outbox is quiet and the kill lands while steps (not posts) are in flight.
    pipelines = pipeline_file(tmp_path, log, [("build", 0.3), ("deploy", 4.0), ("verify", 0.3)])
    processes: list[Serve] = []
    db = open_db(pg_url)
    deadline = time.monotonic() + BUDGET
    last_call = [time.monotonic()]

    def seen(_call: RecordedCall) -> None:
        last_call[0] = time.monotonic()

    fake.subscribe(seen)
    try:
        async with aiohttp.ClientSession() as http:
            await _start_serves(fake, pg_url, tmp_path, pipelines, http, processes)
            survivor, victim = processes
            ids = await _start_deployments(fake, Commander(fake, http, processes), 10)

            # Kill the victim while it runs steps and no Slack call is in flight: a post Slack
            # took but the victim never recorded as sent would be re-sent by the survivor (see
            # test_a_post_slack_took_from_a_process_killed_before_it_was_recorded_is_not_sent_twice).
            running: set[tuple[int, str]] = set()
            quiet_until = time.monotonic() + 20
            while True:
                assert time.monotonic() < deadline, "the victim never ran a step"
                running = running_on(log, victim.pid)
                quiet = time.monotonic() - last_call[0] > 0.4
                if running and (quiet or time.monotonic() > quiet_until):
                    victim.sigkill()  # synchronously after the check: nothing ran in between
                    break
                await asyncio.sleep(0.02)
            kill_note = "" if quiet else " (no quiet moment: the kill may have hit a post)"
            assert await victim.killed() == -9

            async def all_done() -> bool:
                found = await deployments(db, ids)
                return all(not d.state.is_active for d in found.values())

            await wait_until(all_done, deadline=deadline, what="every deployment to end "
                             f"(lease {LEASE_SECONDS} s, or 60 s without BIZDEVOPS_LEASE_SECONDS)")
            await wait_until(lambda: all(closing_announcements(fake, d) for d in ids),
                             deadline=deadline, what="every closing announcement")
            await wait_until(backlog_empty(db), deadline=deadline, what="an empty outbox")
            await asyncio.sleep(1.5)  # anything sent twice would show up by now

            found = await deployments(db, ids)
            started = starts(log)
            assert max(started.values()) == 1, f"a step started twice: {started}"
            on_victim, on_survivor = engine_steps(victim.output()), engine_steps(survivor.output())
            assert max((on_victim + on_survivor).values()) == 1, "a step launched twice"
            lost_ids: set[int] = set()
            lost_steps: set[tuple[int, str]] = set()
            for d_id, d in found.items():
                if d.state is DeploymentState.FAILED:
                    # Lost with the victim (launched there, its result never recorded: maybe not
                    # started yet, running, or just finished): failed once the lease ran out,
                    # never run again, and nothing after it started.
                    lost_ids.add(d_id)
                    [failed] = [s for s in d.stages if s.state is StageState.FAILED]
                    step = (d_id, failed.name)
                    assert LOST in kept_stop(failed.detail), (d_id, failed)
                    assert step in on_victim and step not in on_survivor, (step, "not the victim's")
                    lost_steps.add(step)
                    assert survivor.pid not in {line.pid for line in step_lines(log)
                                                if (line.deployment, line.stage) == step}, step
                    later = [s.name for s in d.stages[d.stages.index(failed) + 1:]]
                    assert all(started[(d_id, name)] == 0 for name in later), started
                    [closing] = closing_announcements(fake, d_id)
                    assert "Failed" in closing and LOST in closing, closing
                else:
                    # Everything else finished normally, on whichever process took each step.
                    assert d.state is DeploymentState.SUCCEEDED, (d_id, d.state, d.detail)
                    assert all(started[(d_id, s.name)] == 1 for s in d.stages), started
            running_at_kill = {d_id for d_id, _stage in running}
            assert running_at_kill <= lost_ids, (running_at_kill, lost_ids)
            # A step's parent is the process that launched it, except for a lost step whose child
            # the kill orphaned before it logged (its parent is then init or a subreaper).
            ours = {survivor.pid, victim.pid}
            orphaned = {(line.deployment, line.stage) for line in step_lines(log) if line.pid not in ours}
            assert orphaned <= lost_steps, (orphaned, lost_steps)
            assert {line.pid for line in step_lines(log)} & ours == ours, "both processes ran steps"
            await _assert_one_ending(db, ids, fake)
            _assert_each_message_once(fake, await outbox_rows(db), kill_note)

            async with http.get(f"{survivor.base}/healthz") as response:
                assert response.status == 200 and await response.json() == {"status": "ok"}
    finally:
        for process in processes:
            await process.stop()
        await db.dispose()
    assert survivor.process is not None and survivor.process.returncode == 0, survivor.output()


# ── 3. messages claimed by a process that dies are delivered by another, once ────────────────

async def test_messages_claimed_by_a_killed_process_are_delivered_once_after_the_lease(
    fake: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    pipelines = pipeline_file(tmp_path, tmp_path / "steps.log", [("build", 0.1)])
    channel = fake.add_channel("handover")
    processes: list[Serve] = []
    db = open_db(pg_url)
    deadline = time.monotonic() + 80
    killed_at: list[float] = []
    fake.inject("chat.postMessage", Fault(status=503))  # Slack does not take the first try...

    def kill_on_try(call: RecordedCall) -> None:
        first_sender = processes[0].process
        if (call.method == "chat.postMessage" and call.status == 503
                and first_sender is not None and first_sender.returncode is None):
            processes[0].sigkill()  # ...and the sender dies before it hears so: still leased
            killed_at.append(time.time())

    try:
        async with aiohttp.ClientSession() as http:
            await _start_serves(fake, pg_url, tmp_path, pipelines, http, processes, names=("a",),
                             lease=5)
            fake.subscribe(kill_on_try)
            with contextlib.suppress(aiohttp.ClientError):
                await Commander(fake, http, processes).command(
                    '/usecase new handover "Handover"', channel="handover")
            assert processes[0].process is not None
            assert await asyncio.wait_for(processes[0].process.wait(), timeout=20) == -9
            [leased] = [r for r in await outbox_rows(db) if r.channel == channel.id]
            assert leased.status == "pending" and leased.lease_until is not None

            later = Serve("b", serve_env(fake, pg_url, free_port(), pipelines,
                                         BIZDEVOPS_LEASE_SECONDS="5"), tmp_path)
            processes.append(later)
            await later.start()
            await later.wait_healthy(http)
            await wait_until(backlog_empty(db), deadline=deadline, what="an empty outbox")
            await asyncio.sleep(1.0)
            [post] = [c for c in fake.calls_to("chat.postMessage")
                      if c.args.get("channel") == channel.id]
            assert post.args["text"] == "New use case handover: Handover"
            assert post.at - killed_at[0] >= 5 - 0.5, "taken over before the lease ran out"
            [row] = [r for r in await outbox_rows(db) if r.channel == channel.id]
            assert row.status == "sent" and row.attempts == 2
    finally:
        for process in processes:
            await process.stop()
        await db.dispose()


# ── 4. the window between Slack taking a post and the outbox recording it ────────────────────

async def test_a_post_slack_took_from_a_process_killed_before_it_was_recorded_is_not_sent_twice(
    fake: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    pipelines = pipeline_file(tmp_path, tmp_path / "steps.log", [("build", 0.1)])
    channel = fake.add_channel("doubt")
    processes: list[Serve] = []
    db = open_db(pg_url)
    deadline = time.monotonic() + 80

    def kill_on_post(call: RecordedCall) -> None:
        # Slack has taken the post; the sender dies before it reads the answer.
        first_sender = processes[0].process
        if (call.method == "chat.postMessage" and call.args.get("channel") == channel.id
                and first_sender is not None and first_sender.returncode is None):
            processes[0].sigkill()

    try:
        async with aiohttp.ClientSession() as http:
            await _start_serves(fake, pg_url, tmp_path, pipelines, http, processes, names=("a",),
                             lease=5)
            fake.subscribe(kill_on_post)
            with contextlib.suppress(aiohttp.ClientError):  # it may die before it answers
                await Commander(fake, http, processes).command('/usecase new doubt "Doubt"',
                                                              channel="doubt")
            assert processes[0].process is not None
            assert await asyncio.wait_for(processes[0].process.wait(), timeout=20) == -9
            [first] = [c for c in fake.calls_to("chat.postMessage")
                       if c.args.get("channel") == channel.id]

            later = Serve("b", serve_env(fake, pg_url, free_port(), pipelines,
                                         BIZDEVOPS_LEASE_SECONDS="5"), tmp_path)
            processes.append(later)
            await later.start()
            await later.wait_healthy(http)
            await wait_until(backlog_empty(db), deadline=deadline, what="an empty outbox")
            await asyncio.sleep(1.0)
            posts = [c for c in fake.calls_to("chat.postMessage")
                     if c.args.get("channel") == channel.id]
            assert posts == [first], [p.args.get("text") for p in posts]
    finally:
        for process in processes:
            await process.stop()
        await db.dispose()
