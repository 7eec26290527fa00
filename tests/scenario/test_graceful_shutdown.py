"""Graceful shutdown: SIGTERM on a real `bizdevops serve` lets a running command step finish.

The step's command is a real subprocess (in its own session, so the SIGTERM sent to `serve` does
not reach it). It writes a marker when it starts and another when it reaches its end; were the
step cancelled instead, the executor would SIGTERM its process group and the end marker would
never be written. After the signal the process must wait for the step, record its result,
deliver what that result owes Slack, and exit 0 — well within its shutdown grace.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.domain.deployment_model import DeploymentState, StageState
from bot.server import SHUTDOWN_GRACE
from bot.simulator.fake_slack import FakeSlack
from tests.scenario.scale_support import (
    PY,
    TOKEN,
    Commander,
    Serve,
    deployment_id_of,
    deployments,
    events,
    free_port,
    open_db,
    outbox_rows,
    serve_env,
    wait_until,
)

STEP_SECONDS = 3.0  # how long the step's command takes; SIGTERM arrives right after it starts
VERSION = "1.4.0"

# argv: marker directory, seconds, version. Markers appear whole (written, then renamed).
STEP = (
    "import pathlib, sys, time\n"
    "marks = pathlib.Path(sys.argv[1])\n"
    "def mark(name):\n"
    "    marks.joinpath(name + '.tmp').write_text(repr(time.time()))\n"
    "    marks.joinpath(name + '.tmp').rename(marks / name)\n"
    "mark('started')\n"
    "time.sleep(float(sys.argv[2]))\n"
    "print('shipped ' + sys.argv[3], flush=True)\n"
    "mark('finished')\n"
)

# (kind, text + blocks) of one message: "post" (top level), "edit" (of the deployment's
# message) or "thread" (a reply under it).
Item = tuple[str, str]


def _pipeline(directory: Path, marks: Path) -> Path:
    """One pipeline, one command stage `ship` that takes STEP_SECONDS; no approval gate."""
    argv = json.dumps([PY, "-c", STEP, str(marks), str(STEP_SECONDS), "{version}"])
    path = directory / "pipelines.toml"
    path.write_text("\n".join([
        "[pipelines.slow]", 'description = "graceful shutdown test"', "",
        "[[pipelines.slow.stages]]", 'name = "ship"',
        f'run = {{ executor = "command", argv = {argv} }}', 'timeout = "2m"', "",
    ]), encoding="utf-8")
    return path


def _content(args: dict[str, object]) -> str:
    return str(args.get("text", "")) + json.dumps(args.get("blocks", []), ensure_ascii=False)


def _assert_result_messages(d_id: int, items: list[Item]) -> None:
    """What the stage's result owes Slack: the deployment's message edited to show the stage
    passed, the command's output in its thread, and the end announced once."""
    title = f"Deployment {d_id}: churn {VERSION}"
    edits = [text for kind, text in items if kind == "edit"]
    assert edits and edits[-1].startswith(f"{title} — succeeded"), edits
    assert "*ship* · passed" in edits[-1], edits[-1]
    notes = [text for kind, text in items if kind == "thread"]
    assert any("*ship*: exit code 0" in n and f"shipped {VERSION}" in n for n in notes), notes
    ends = [text for kind, text in items if kind == "post" and text.startswith(f"{title}: ")]
    assert len(ends) == 1 and ends[0].startswith(f"{title}: succeeded"), ends


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token=TOKEN)
    await slack.start()
    slack.add_user("alice")
    slack.add_channel("churn")
    yield slack
    await slack.stop()


async def test_sigterm_lets_a_running_command_step_finish_then_exits_0(
    fake: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    env = serve_env(fake, database_url, free_port(), _pipeline(tmp_path, marks))
    serve = Serve("graceful", env, tmp_path)
    db = open_db(database_url)
    deadline = time.monotonic() + 30
    try:
        async with aiohttp.ClientSession() as http:
            await serve.start()
            await serve.wait_healthy(http)
            commander = Commander(fake, http, [serve])
            reply = await commander.command('/usecase new churn "Predict churn"', channel="churn")
            assert "Created *churn*" in reply.get("text", ""), reply
            d_id = deployment_id_of(await commander.command(f"/deploy churn {VERSION}",
                                                            channel="churn"))

            await wait_until((marks / "started").exists, deadline=deadline,
                             what="the step's command to start")
            [running] = (await deployments(db, [d_id])).values()
            assert running.state is DeploymentState.RUNNING
            assert running.stages[0].state is StageState.RUNNING

            assert serve.process is not None
            serve.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                code = await asyncio.wait_for(serve.process.wait(), timeout=SHUTDOWN_GRACE + 5)
            except TimeoutError:
                pytest.fail(f"serve did not exit within {SHUTDOWN_GRACE + 5} s of SIGTERM:\n"
                            f"{serve.output()}")
            took = time.monotonic() - signalled
            # Read right at exit: the command reached its end (a cancelled step's group is killed).
            finished_before_exit = (marks / "finished").exists()
    finally:
        await serve.stop()  # closes the log; kills the process only if it still runs
    try:
        out = serve.output()
        # The process: it waited for the step, then exited cleanly, well within the grace.
        assert code == 0, out
        assert took < SHUTDOWN_GRACE, f"exit took {took:.1f} s, the grace is {SHUTDOWN_GRACE} s"
        assert finished_before_exit, f"the step's command never reached its end:\n{out}"
        started_at = float((marks / "started").read_text())
        assert float((marks / "finished").read_text()) - started_at >= STEP_SECONDS
        assert "action=shutdown reason=signal" in out, out
        assert f"action=step.stopped deployment_id={d_id}" not in out, out
        assert f"action=command_finished deployment_id={d_id} stage=ship" in out, out
        assert "exit_code=0" in out, out

        # The database: the stage passed and the deployment succeeded — not failed, not lost.
        [done] = (await deployments(db, [d_id])).values()
        assert done.state is DeploymentState.SUCCEEDED, (done.state, done.detail)
        [stage] = done.stages
        assert stage.state is StageState.PASSED, (stage.state, stage.detail)
        trail = [e.kind for e in await events(db, d_id)]
        assert trail.count("succeeded") == 1, trail
        assert not {"failed", "timed_out", "cancelled"} & set(trail), trail
        # ...and the messages the result owes Slack were written to the outbox with it.
        rows = await outbox_rows(db)
        message = f"Deployment {d_id}: churn {VERSION} — "  # the deployment's own message
        [main_row] = [r for r in rows if r.method == "chat.postMessage" and r.ref
                      and r.args.get("text", "").startswith(message)]
        queued: list[Item] = [
            ("edit" if r.update_of == main_row.ref else
             "thread" if r.thread_of == main_row.ref else "post", _content(r.args))
            for r in rows if r.method in ("chat.postMessage", "chat.update")
            and r.status != "superseded" and r.id != main_row.id]
        _assert_result_messages(d_id, queued)

        # Slack: all of it was delivered before the process exited.
        unsent = [(r.id, r.method, r.status) for r in rows if r.status != "sent"]
        assert not unsent, f"outbox rows left unsent at exit: {unsent}"
        [main] = [c for c in fake.calls_to("chat.postMessage")
                  if c.args.get("text", "").startswith(message)]
        ts = main.response["ts"]
        delivered: list[Item] = [
            ("edit" if c.method == "chat.update" and c.args.get("ts") == ts else
             "thread" if c.args.get("thread_ts") == ts else "post", _content(c.args))
            for c in fake.calls if c.response.get("ok") is True and c is not main
            and c.method in ("chat.postMessage", "chat.update")]
        _assert_result_messages(d_id, delivered)
    finally:
        await db.dispose()
