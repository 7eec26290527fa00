"""Pipelines from a file, end to end: webhook and command executors, waves with health checks,
rollback, cancel, restarts, the timeout watchdog and ``bizdevops check-config``.

Everything goes through signed requests (slash commands, button presses, executor callbacks)
into the real app; assertions read what the fake Slack received and what the database holds.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState, StageState
from bot.executors.webhook import callback_path, sign_callback
from bot.render.deploy_stop_words import kept_stop
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import (
    ACCEPTED,
    PY,
    SECRET,
    Answer,
    Receiver,
    always,
    announcements,
    buttons,
    callback,
    carry_over_slack,
    command_without_settling,
    deploy,
    deployment_id_of,
    events,
    failed,
    history,
    in_turn,
    kinds,
    load,
    message_text,
    new_use_case,
    post_result,
    press,
    private_replies,
    rebase,
    simulator,
    stage_states,
    succeeded,
    thread,
    toml_list,
    wait_for,
    with_pipeline,
    write_pipeline,
)

MINUTE = timedelta(minutes=1)



# ── 1. webhook stages against a real receiver ──────────────────────────────────────────────

def webhook_pipeline(receiver: Receiver, ship_timeout: str = "1h") -> str:
    return f"""
[pipelines.hooks]
[[pipelines.hooks.stages]]
name = "build"
run = {{ executor = "webhook", url = "{receiver.url('build')}" }}

[[pipelines.hooks.stages]]
name = "ship"
run = {{ executor = "webhook", url = "{receiver.url('ship')}" }}
timeout = "{ship_timeout}"
"""


@pytest.fixture
async def hooks_sim(settings: Settings, clock: ManualClock, receiver: Receiver,
                    tmp_path: Path) -> AsyncIterator[Simulator]:
    path = write_pipeline(tmp_path, webhook_pipeline(receiver))
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await new_use_case(sim)
        yield sim


async def test_webhook_stage_waits_for_its_signed_callback_then_succeeds_once(
    hooks_sim: Simulator, receiver: Receiver
) -> None:
    sim = hooks_sim
    receiver.on("build", always(succeeded("built in 3 s")))
    receiver.on("ship", always(ACCEPTED))

    d_id = await deploy(sim, "/deploy churn 1.0.0")

    [build_job] = receiver.jobs_for("build")
    assert build_job == {
        "deployment_id": str(d_id), "use_case": "churn", "version": "1.0.0", "stage": "build",
        "wave": None, "targets": [], "requested_by": "UALICE",
        "callback_url": f"{sim.base_url}/api/v1/deployments/{d_id}/stages/build/result?kind=run",
    }
    [ship_job] = receiver.jobs_for("ship")
    d = await load(sim, d_id)
    assert d.state is DeploymentState.RUNNING
    assert stage_states(d) == {"build": "passed", "ship": "running"}
    assert d.stages[1].step is not None and d.stages[1].step.accepted
    assert announcements(sim, d_id) == []
    assert receiver.refused == 0

    assert await callback(sim, ship_job["callback_url"], detail="shipped to prod") == 200

    d = await load(sim, d_id)
    assert d.state is DeploymentState.SUCCEEDED
    assert stage_states(d) == {"build": "passed", "ship": "passed"}
    [done] = announcements(sim, d_id)
    assert "Succeeded" in done and "churn 1.0.0" in done
    assert "Succeeded" in message_text(sim, d_id)
    assert kinds(await events(sim, d_id)).count("succeeded") == 1

    # The same callback again (an executor retrying) changes nothing and says so.
    assert await callback(sim, ship_job["callback_url"]) == 409
    assert len(announcements(sim, d_id)) == 1
    assert len(receiver.jobs_for("ship")) == 1, "a stage is started once"


async def test_forged_or_stale_callbacks_are_refused_and_change_nothing(
    hooks_sim: Simulator, receiver: Receiver
) -> None:
    sim = hooks_sim
    receiver.on("ship", always(ACCEPTED))
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    url = receiver.jobs_for("ship")[0]["callback_url"]
    before = await load(sim, d_id)

    forged = await callback(sim, url, secret="not-the-secret")
    unsigned = await callback(sim, url, signature="sha256=" + "0" * 64)
    old = int(time.time()) - 600
    now = int(time.time())
    other_body = await callback(sim, url, timestamp=now,
                                signature=sign_callback(SECRET, now, callback_path(url), b"{}"))
    replayed = await callback(sim, url, timestamp=old)  # correctly signed, but 10 minutes old

    assert (forged, unsigned, other_body, replayed) == (401, 401, 401, 401)
    after = await load(sim, d_id)
    assert after.revision == before.revision
    assert after.state is DeploymentState.RUNNING
    assert announcements(sim, d_id) == []


async def test_callback_for_a_stage_that_is_not_waiting_is_a_conflict(
    hooks_sim: Simulator, receiver: Receiver
) -> None:
    sim = hooks_sim
    receiver.on("ship", always(ACCEPTED))
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    build_url = receiver.jobs_for("build")[0]["callback_url"]
    ship_url = receiver.jobs_for("ship")[0]["callback_url"]
    before = await load(sim, d_id)

    assert await callback(sim, build_url) == 409           # build finished long ago
    assert await callback(sim, ship_url.replace("kind=run", "kind=health")) == 409
    assert await callback(sim, ship_url + "&wave=2") == 409  # ship has no waves
    assert await callback(sim, ship_url.replace(f"/deployments/{d_id}/",
                                                "/deployments/999/")) == 409
    assert (await load(sim, d_id)).revision == before.revision
    assert await callback(sim, ship_url, status="failed", detail="disk full") == 200

    d = await load(sim, d_id)
    assert d.state is DeploymentState.FAILED
    assert "disk full" in kept_stop(d.detail)
    assert len(announcements(sim, d_id)) == 1


async def test_webhook_answering_500_is_retried_and_passes_once(
    hooks_sim: Simulator, receiver: Receiver
) -> None:
    sim = hooks_sim
    receiver.on("build", in_turn((500, {"error": "deployer restarting"}), succeeded("built")))
    receiver.on("ship", always(succeeded("shipped")))

    d_id = await deploy(sim, "/deploy churn 1.0.0")

    attempts = receiver.jobs_for("build")
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    d = await load(sim, d_id)
    assert d.state is DeploymentState.SUCCEEDED
    trail = await events(sim, d_id)
    assert [e.stage for e in trail if e.kind == "run_passed"] == ["build", "ship"]
    assert len(announcements(sim, d_id)) == 1
    assert d.stages[0].state is StageState.PASSED


async def test_duplicate_callbacks_at_the_same_moment_finish_the_stage_once(
    hooks_sim: Simulator, receiver: Receiver
) -> None:
    sim = hooks_sim
    receiver.on("ship", always(ACCEPTED))
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    url = receiver.jobs_for("ship")[0]["callback_url"]

    codes = await asyncio.gather(*(post_result(sim.http, url) for _ in range(3)))
    await sim.app.settle()

    assert sorted(codes) == [200, 409, 409]
    assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED
    assert kinds(await events(sim, d_id)).count("run_passed") == 2  # build, ship
    assert len(announcements(sim, d_id)) == 1


async def test_a_callback_that_overtakes_the_202_answer_still_counts_once(
    hooks_sim: Simulator, receiver: Receiver
) -> None:
    """A fast executor reports its result before the bot has even read its 202."""
    sim = hooks_sim
    early: list[int] = []

    async def answer_after_calling_back(job: dict[str, object]) -> Answer:
        async with aiohttp.ClientSession() as http:
            early.append(await post_result(http, str(job["callback_url"]), detail="instant"))
        return ACCEPTED

    receiver.on("ship", answer_after_calling_back)
    d_id = await deploy(sim, "/deploy churn 1.0.0")

    assert early == [200]
    d = await load(sim, d_id)
    assert d.state is DeploymentState.SUCCEEDED
    assert len(announcements(sim, d_id)) == 1
    assert len(receiver.jobs_for("ship")) == 1


async def test_a_step_is_stored_as_started_before_its_webhook_is_called(
    hooks_sim: Simulator, receiver: Receiver
) -> None:
    """Persist, then act: were the bot to die during the call, the step could not start twice."""
    sim = hooks_sim
    seen: list[tuple[StageState, bool]] = []

    async def look_at_the_database_first(job: dict[str, object]) -> Answer:
        d = await load(sim, int(str(job["deployment_id"])))
        seen.append((d.stages[0].state, d.stages[0].step is not None and d.stages[0].step.launched))
        return succeeded()

    receiver.on("build", look_at_the_database_first)
    d_id = await deploy(sim, "/deploy churn 1.0.0")

    assert seen == [(StageState.RUNNING, True)]
    assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED


# ── 2. command stages with real processes ─────────────────────────────────────────────────

# Programs for `python -c`; no braces in them: `{…}` in argv is a placeholder.
CHATTY = "import sys\nfor i in range(30): print('line', i)\nprint('version', sys.argv[1])"
RECORD = ("import sys, json\n"
          "with open(sys.argv[1], 'a') as f: f.write(json.dumps(sys.argv[2:]) + chr(10))")
FAILING = "import sys\nprint('boom: table missing')\nsys.exit(3)"
SLOW = ("import os, sys, time\n"  # writes its pid, then takes its time
        "with open(sys.argv[1], 'a') as f: f.write(str(os.getpid()) + chr(10))\n"
        "time.sleep(30)")


def stage(name: str, argv: list[str], **extra: str) -> str:
    lines = [f'name = "{name}"', f'run = {{ executor = "command", argv = {toml_list(argv)} }}']
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "[[pipelines.cmds.stages]]\n" + "\n".join(lines) + "\n"


def command_pipeline(*stages: str) -> str:
    return "[pipelines.cmds]\n" + "\n".join(stages)


@asynccontextmanager
async def command_sim(settings: Settings, clock: ManualClock, tmp_path: Path,
                      *stages: str) -> AsyncIterator[Simulator]:
    path = write_pipeline(tmp_path, command_pipeline(*stages))
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await new_use_case(sim)
        yield sim


def recorded(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_command_output_tail_goes_to_the_thread_and_argv_gets_the_version_literally(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    out = tmp_path / "argv.jsonl"
    async with command_sim(
        settings, clock, tmp_path,
        stage("build", [PY, "-c", CHATTY, "{version}"]),
        stage("record", [PY, "-c", RECORD, str(out), "{version}", "{use_case}", "{stage}"]),
    ) as sim:
        d_id = await deploy(sim, "/deploy churn 1.0.0+build.7")

        assert recorded(out) == [["1.0.0+build.7", "churn", "record"]]
        d = await load(sim, d_id)
        assert d.state is DeploymentState.SUCCEEDED
        [build_note] = [n for n in thread(sim, d_id) if n.startswith("*build*")]
        assert "exit code 0" in build_note
        shown = build_note.split("```")[1].splitlines()
        assert shown == [f"line {i}" for i in range(11, 30)] + ["version 1.0.0+build.7"], \
            "the last 20 lines of output, in order"
        assert len(announcements(sim, d_id)) == 1


async def test_failing_command_fails_the_deployment_and_skips_later_stages(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    out = tmp_path / "never.jsonl"
    async with command_sim(
        settings, clock, tmp_path,
        stage("build", [PY, "-c", "print('ok')"]),
        stage("check", [PY, "-c", FAILING]),
        stage("record", [PY, "-c", RECORD, str(out), "{version}"]),
    ) as sim:
        d_id = await deploy(sim, "/deploy churn 2.0.0")

        d = await load(sim, d_id)
        assert d.state is DeploymentState.FAILED
        assert stage_states(d) == {"build": "passed", "check": "failed", "record": "skipped"}
        assert kept_stop(d.stages[1].detail) == "check run failed: exit code 3"
        assert not out.exists(), "a stage after a failure never runs"
        notes = thread(sim, d_id)
        assert any("*check*" in n and "boom: table missing" in n for n in notes)
        [done] = announcements(sim, d_id)
        assert "Failed" in done and "exit code 3" in done
        assert "❌ *check*" in message_text(sim, d_id)


@pytest.mark.parametrize("version", ['"1.0; rm -rf /"', "1.0;rm", '"$(touch pwned)"'])
async def test_a_version_that_is_not_one_is_refused_and_nothing_is_stored(
    settings: Settings, clock: ManualClock, tmp_path: Path, version: str
) -> None:
    out = tmp_path / "never.jsonl"
    async with command_sim(settings, clock, tmp_path,
                           stage("record", [PY, "-c", RECORD, str(out), "{version}"])) as sim:
        posted = len(sim.fake.calls_to("chat.postMessage"))

        step = await sim.command(f"/deploy churn {version}")

        assert step.reply is not None and step.reply["response_type"] == "ephemeral"
        assert "is not a valid version" in step.reply["text"]
        assert "/deploy <slug> <version>" in step.reply["text"], "the usage line is shown"
        assert await history(sim) == []
        assert len(sim.fake.calls_to("chat.postMessage")) == posted
        assert not out.exists()


ENV_DUMP = ("import os, sys, json\n"
            "with open(sys.argv[1], 'w') as f: json.dump(dict(os.environ), f)")


async def test_commands_do_not_inherit_the_bots_secrets(
    settings: Settings, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-never-leak")
    monkeypatch.setenv("BIZDEVOPS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@db/bizdevops")
    out = tmp_path / "env.json"
    async with command_sim(settings, clock, tmp_path,
                           stage("build", [PY, "-c", ENV_DUMP, str(out)])) as sim:
        d_id = await deploy(sim, "/deploy churn 1.0.0")

        env = json.loads(out.read_text())
        assert not {"SLACK_BOT_TOKEN", "BIZDEVOPS_WEBHOOK_SECRET", "DATABASE_URL"} & set(env)
        assert (env["BIZDEVOPS_VERSION"], env["BIZDEVOPS_USE_CASE"], env["BIZDEVOPS_STAGE"]) == (
            "1.0.0", "churn", "build")
        assert env["BIZDEVOPS_DEPLOYMENT_ID"] == str(d_id)
        said = json.dumps([c.args for c in sim.fake.calls])
        assert SECRET not in said and "xoxb-never-leak" not in said and "hunter2" not in said


# ── 3. production waves with health checks ────────────────────────────────────────────────

TARGETS = ["a", "b", "c", "d"]
WAVE_TARGETS = [["a"], ["b"], ["c", "d"]]  # "1", then up to 50 % (2 of 4), then the rest


def rollout_pipeline(receiver: Receiver, run: str | None = None, extra: str = "") -> str:
    run = run or f'{{ executor = "webhook", url = "{receiver.url("deploy")}" }}'
    return f"""
[pipelines.rollout]
[[pipelines.rollout.stages]]
name = "deploy"
run = {run}
timeout = "1h"
waves = ["1", "50%", "100%"]
targets = {toml_list(TARGETS)}
health = {{ executor = "webhook", url = "{receiver.url('health')}" }}
on_failure = "rollback"
{extra}
"""


@asynccontextmanager
async def rollout_sim(settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver,
                      run: str | None = None, extra: str = "") -> AsyncIterator[Simulator]:
    path = write_pipeline(tmp_path, rollout_pipeline(receiver, run, extra))
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await new_use_case(sim)
        yield sim


def waves_and_targets(jobs: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(job["wave"], job["targets"]) for job in jobs]


async def test_each_wave_gets_its_own_targets_and_success_waits_for_the_last_health_check(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.on("deploy", always(succeeded("rolled out")))
    receiver.on("health", lambda job: ACCEPTED if job["wave"] == 3 else succeeded("healthy"))
    async with rollout_sim(settings, clock, tmp_path, receiver) as sim:
        d_id = await deploy(sim, "/deploy churn 1.0.0")

        assert [(path, job["wave"]) for path, job in receiver.jobs] == [
            ("deploy", 1), ("health", 1), ("deploy", 2), ("health", 2), ("deploy", 3), ("health", 3)]
        expected = list(zip([1, 2, 3], WAVE_TARGETS, strict=True))
        assert waves_and_targets(receiver.jobs_for("deploy")) == expected
        assert waves_and_targets(receiver.jobs_for("health")) == expected
        rolled = [t for job in receiver.jobs_for("deploy") for t in job["targets"]]
        assert sorted(rolled) == TARGETS, "every target once: none twice, none left out"
        # The last wave ran, but its health check has not answered: not a success yet.
        d = await load(sim, d_id)
        assert d.state is DeploymentState.RUNNING
        assert announcements(sim, d_id) == []
        assert "wave 3/3 health check" in message_text(sim, d_id)

        last_health = receiver.jobs_for("health")[-1]["callback_url"]
        assert last_health.endswith("?kind=health&wave=3")
        assert await callback(sim, last_health) == 200

        d = await load(sim, d_id)
        assert d.state is DeploymentState.SUCCEEDED
        assert [w.state for w in d.stages[0].waves] == [StageState.PASSED] * 3
        [done] = announcements(sim, d_id)
        assert "Succeeded" in done
        assert "4/4 targets" in message_text(sim, d_id)
        trail = await events(sim, d_id)
        assert [e.wave for e in trail if e.kind == "health_passed"] == [1, 2, 3]
        assert kinds(trail).index("succeeded") > kinds(trail).index("health_passed")


async def test_a_command_runs_once_per_wave_with_that_waves_targets(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver
) -> None:
    out = tmp_path / "waves.jsonl"
    run = (f'{{ executor = "command", argv = '
           f'{toml_list([PY, "-c", RECORD, str(out), "{version}", "{wave}", "{targets}"])} }}')
    async with rollout_sim(settings, clock, tmp_path, receiver, run) as sim:
        d_id = await deploy(sim, "/deploy churn 1.0.0")

        assert recorded(out) == [["1.0.0", "1", "a"], ["1.0.0", "2", "b"], ["1.0.0", "3", "c,d"]]
        assert waves_and_targets(receiver.jobs_for("health")) == list(
            zip([1, 2, 3], WAVE_TARGETS, strict=True))
        assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED
        assert len(announcements(sim, d_id)) == 1


async def test_failed_health_check_rolls_the_done_waves_back_to_the_last_good_version(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.on("deploy", always(succeeded()))
    receiver.on("health", lambda job: failed("error rate 12 %")
                if (job["version"], job["wave"]) == ("2.0.0", 2) else succeeded("healthy"))
    async with rollout_sim(settings, clock, tmp_path, receiver) as sim:
        good = await deploy(sim, "/deploy churn 1.0.0")
        assert (await load(sim, good)).state is DeploymentState.SUCCEEDED
        clock.advance(MINUTE)

        bad = await deploy(sim, "/deploy churn 2.0.0")

        d = await load(sim, bad)
        assert d.state is DeploymentState.FAILED
        assert "health check (wave 2) failed: error rate 12 %" in kept_stop(d.detail)
        assert [job["wave"] for job in receiver.jobs_for("deploy", bad)] == [1, 2], \
            "the rollout halts: wave 3 never starts"
        [rollback] = [r for r in await history(sim) if r.kind == "rollback"]
        assert rollback.id is not None
        assert (rollback.version, rollback.rollback_of) == ("1.0.0", bad)
        assert rollback.state is DeploymentState.SUCCEEDED
        [job] = receiver.jobs_for("deploy", rollback.id)
        assert (job["version"], job["targets"]) == ("1.0.0", ["a", "b"]), \
            "the previous version goes back to the targets of waves 1-2 only"
        assert [j["targets"] for j in receiver.jobs_for("health", rollback.id)] == [["a", "b"]]
        assert any(f"Rolling back 2 targets to `1.0.0` (rollback {rollback.id})" in note
                   for note in thread(sim, bad))
        assert len(announcements(sim, bad)) == 1 and "Failed" in announcements(sim, bad)[0]
        assert len(announcements(sim, rollback.id)) == 1
        assert message_text(sim, rollback.id).count(f"rolls back deployment {bad}") == 1


async def test_cancel_during_a_wave_wins_over_a_late_callback(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.on("deploy", lambda job: ACCEPTED if job["wave"] == 2 else succeeded())
    receiver.on("health", always(succeeded()))
    async with rollout_sim(settings, clock, tmp_path, receiver) as sim:
        d_id = await deploy(sim, "/deploy churn 1.0.0")
        assert "wave 2/3 rolling out" in message_text(sim, d_id)

        step = await sim.command(f'/deploy cancel {d_id} "wrong build"')

        assert "is cancelled" in step.reply["text"]  # type: ignore[index]
        d = await load(sim, d_id)
        assert d.state is DeploymentState.CANCELLED
        assert d.stages[0].state is StageState.CANCELLED
        [done] = announcements(sim, d_id)
        assert "Cancelled" in done and "wrong build" in done
        late = receiver.jobs_for("deploy", d_id)[-1]["callback_url"]
        assert await callback(sim, late) == 409
        after = await load(sim, d_id)
        assert (after.state, after.revision) == (DeploymentState.CANCELLED, d.revision)
        assert [job["wave"] for job in receiver.jobs_for("deploy")] == [1, 2]
        assert "health_passed" not in [e.kind for e in await events(sim, d_id) if e.wave == 2]
        assert len(announcements(sim, d_id)) == 1


async def test_health_checks_wait_for_the_bake_time(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver
) -> None:
    def seen() -> list[tuple[str, object]]:
        return [(path, job["wave"]) for path, job in receiver.jobs]

    async with rollout_sim(settings, clock, tmp_path, receiver, extra='bake = "5m"') as sim:
        d_id = await deploy(sim, "/deploy churn 1.0.0")
        expected = [("deploy", 1)]
        for wave in (1, 2, 3):
            assert seen() == expected
            clock.advance(timedelta(minutes=4, seconds=59))
            await sim.app.settle()
            assert seen() == expected, f"wave {wave} is still baking"
            assert announcements(sim, d_id) == []

            clock.advance(timedelta(seconds=1))
            await sim.app.settle()
            expected += [("health", wave)] + ([("deploy", wave + 1)] if wave < 3 else [])

        assert seen() == expected
        assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED
        assert len(announcements(sim, d_id)) == 1


async def test_a_failed_first_rollout_has_nothing_to_roll_back_to_and_says_so(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.on("health", lambda job: failed("p99 latency") if job["wave"] == 2 else succeeded())
    async with rollout_sim(settings, clock, tmp_path, receiver) as sim:
        d_id = await deploy(sim, "/deploy churn 1.0.0")

        assert (await load(sim, d_id)).state is DeploymentState.FAILED
        assert [d.kind for d in await history(sim)] == ["deploy"]
        [done] = announcements(sim, d_id)
        assert "Nothing was rolled back: there is no earlier successful version" in done
        assert "⚠️ <@UALICE> — Failed: deployment 1" in done  # the owner (and requester) must act


# ── 4. restarts: a new process on the same database ───────────────────────────────────────

async def test_an_approval_gate_keeps_waiting_across_a_restart_and_passes_once(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    out = tmp_path / "shipped.jsonl"
    path = write_pipeline(tmp_path, command_pipeline(
        stage("build", [PY, "-c", "print('built')"]),
        stage("ship", [PY, "-c", RECORD, str(out), "{version}"],
              approval="{ required = 1, expires = \"24h\" }"),
    ))
    config = with_pipeline(settings, path)
    async with simulator(config, clock) as before:
        await new_use_case(before, owner="bob")
        d_id = await deploy(before, "/deploy churn 1.0.0")
        assert (await load(before, d_id)).state is DeploymentState.AWAITING_APPROVAL
        approve = buttons(before, d_id)["deploy_approve"]

    clock.advance(timedelta(hours=2))
    async with simulator(config, clock) as after:
        carry_over_slack(before, after)
        await after.app.settle()
        d = await load(after, d_id)
        assert d.state is DeploymentState.AWAITING_APPROVAL, "the gate still waits"
        assert not out.exists()

        after.switch_user("bob")
        step = await press(after, d_id, "deploy_approve", value=approve)

        assert "You approved *ship*" in private_replies(step)
        d = await load(after, d_id)
        assert d.state is DeploymentState.SUCCEEDED
        assert recorded(out) == [["1.0.0"]], "the gated stage ran exactly once"
        trail = kinds(await events(after, d_id))
        assert (trail.count("approved"), trail.count("gate_passed")) == (1, 1)
        assert len(announcements(after, d_id)) == 1
        assert "Succeeded" in message_text(after, d_id), "the old message is edited in place"

        again = await press(after, d_id, "deploy_approve", value=approve)  # a double click
        assert "already ended" in private_replies(again)
        assert recorded(out) == [["1.0.0"]]
        assert len(announcements(after, d_id)) == 1


async def test_a_webhook_stage_waits_for_its_callback_across_a_restart(
    settings: Settings, clock: ManualClock, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.on("ship", always(ACCEPTED))
    config = with_pipeline(settings, write_pipeline(tmp_path, webhook_pipeline(receiver)))
    async with simulator(config, clock) as before:
        await new_use_case(before)
        d_id = await deploy(before, "/deploy churn 1.0.0")
        [ship_job] = receiver.jobs_for("ship")

    clock.advance(timedelta(minutes=5))  # well past a worker's lease, well within the timeout
    async with simulator(config, clock) as after:
        carry_over_slack(before, after)
        await after.app.settle()
        d = await load(after, d_id)
        assert d.state is DeploymentState.RUNNING and d.stages[1].state is StageState.RUNNING
        assert len(receiver.jobs_for("ship")) == 1, "the webhook is not called again"

        url = rebase(ship_job["callback_url"], after.base_url)
        assert await callback(after, url) == 200

        assert (await load(after, d_id)).state is DeploymentState.SUCCEEDED
        assert len(announcements(after, d_id)) == 1
        assert await callback(after, url) == 409
        assert len(announcements(after, d_id)) == 1
        assert kinds(await events(after, d_id)).count("succeeded") == 1


async def test_a_command_lost_with_its_process_is_failed_and_never_run_again(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    starts = tmp_path / "starts.txt"
    shipped = tmp_path / "shipped.jsonl"
    config = with_pipeline(settings, write_pipeline(tmp_path, command_pipeline(
        stage("build", [PY, "-c", SLOW, str(starts)]),
        stage("ship", [PY, "-c", RECORD, str(shipped), "{version}"]),
    )))
    async with simulator(config, clock) as before:
        await new_use_case(before)
        reply = await command_without_settling(before, "/deploy churn 1.0.0")
        d_id = deployment_id_of(reply)
        await before.app.outbox.deliver_due()
        assert await before.app.engine.tick() == 1  # the build step is launched here...
        await wait_for(lambda: starts.exists() and starts.read_text().endswith("\n"))
        # ...and the process goes away with the bot.
    pid = int(starts.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

    async with simulator(config, clock) as after:
        carry_over_slack(before, after)
        await after.app.settle()
        assert (await load(after, d_id)).stages[0].state is StageState.RUNNING, \
            "the lease has not run out yet: the step may still be running elsewhere"

        clock.advance(timedelta(seconds=61))
        await after.app.settle()

        d = await load(after, d_id)
        assert d.state is DeploymentState.FAILED
        assert stage_states(d) == {"build": "failed", "ship": "skipped"}
        assert "not run again" in kept_stop(d.stages[0].detail)
        assert starts.read_text().splitlines() == [str(pid)], "started once, never again"
        assert not shipped.exists()
        [done] = announcements(after, d_id)
        assert "Failed" in done and "not run again" in done
        assert any("*build*" in note and "not run again" in note for note in thread(after, d_id))
        await after.app.settle()
        assert len(announcements(after, d_id)) == 1


async def test_cancel_stops_a_running_command_and_nothing_after_it_starts(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    starts, shipped = tmp_path / "starts.txt", tmp_path / "shipped.jsonl"
    async with command_sim(settings, clock, tmp_path,
                           stage("build", [PY, "-c", SLOW, str(starts)]),
                           stage("ship", [PY, "-c", RECORD, str(shipped), "{version}"])) as sim:
        reply = await command_without_settling(sim, "/deploy churn 1.0.0")
        d_id = deployment_id_of(reply)
        await sim.app.engine.tick()  # the build step runs now...
        await wait_for(lambda: starts.exists() and starts.read_text().endswith("\n"))

        step = await sim.command(f"/deploy cancel {d_id}")  # ...and is cancelled while it runs

        assert "is cancelled" in (step.reply or {}).get("text", "")
        pid = int(starts.read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        d = await load(sim, d_id)
        assert d.state is DeploymentState.CANCELLED
        assert stage_states(d) == {"build": "cancelled", "ship": "skipped"}
        assert not shipped.exists()
        assert "failed" not in kinds(await events(sim, d_id))
        assert len(announcements(sim, d_id)) == 1


async def test_two_bot_processes_on_one_database_run_each_step_once(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    """Scale out: both processes look for work at once; each stage starts once, one announcement."""
    out = tmp_path / "runs.jsonl"
    config = with_pipeline(settings, write_pipeline(tmp_path, command_pipeline(
        stage("build", [PY, "-c", RECORD, str(out), "{stage}"]),
        stage("ship", [PY, "-c", RECORD, str(out), "{stage}"]),
    )))
    async with simulator(config, clock) as one, simulator(config, clock) as two:
        await new_use_case(one)
        d_id = deployment_id_of(await command_without_settling(one, "/deploy churn 1.0.0"))

        await asyncio.gather(one.app.settle(), two.app.settle())
        await asyncio.gather(one.app.settle(), two.app.settle())

        assert recorded(out) == [["build"], ["ship"]]
        assert (await load(one, d_id)).state is DeploymentState.SUCCEEDED
        assert len(announcements(one, d_id)) + len(announcements(two, d_id)) == 1


# ── 5. the timeout watchdog ─────────────────────────────────────────────────────────────────

@pytest.fixture
async def silent_ship(settings: Settings, clock: ManualClock, receiver: Receiver,
                      tmp_path: Path) -> AsyncIterator[tuple[Simulator, int]]:
    """``ship`` (timeout 1 minute) was accepted by its webhook, which never calls back."""
    receiver.on("ship", always(ACCEPTED))
    path = write_pipeline(tmp_path, webhook_pipeline(receiver, ship_timeout="1m"))
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await new_use_case(sim)
        yield sim, await deploy(sim, "/deploy churn 1.0.0")


async def test_a_webhook_that_never_calls_back_times_out_and_is_announced_once(
    silent_ship: tuple[Simulator, int], clock: ManualClock, receiver: Receiver
) -> None:
    sim, d_id = silent_ship
    clock.advance(timedelta(seconds=59))
    await sim.app.settle()
    assert (await load(sim, d_id)).state is DeploymentState.RUNNING

    clock.advance(timedelta(seconds=2))
    await sim.app.settle()

    d = await load(sim, d_id)
    assert d.state is DeploymentState.FAILED
    assert stage_states(d) == {"build": "passed", "ship": "timed_out"}
    assert "ship run timed out" in kept_stop(d.detail)
    [done] = announcements(sim, d_id)
    assert "Timed out: deployment" in done and "at *ship*" in done
    assert "⏱️ *ship*" in message_text(sim, d_id)
    assert any("*ship* timed out" in note for note in thread(sim, d_id))

    clock.advance(timedelta(hours=1))
    await sim.app.settle()
    late = receiver.jobs_for("ship")[0]["callback_url"]
    assert await callback(sim, late) == 409
    assert len(announcements(sim, d_id)) == 1
    assert kinds(await events(sim, d_id)).count("timed_out") == 1


async def test_a_command_that_outlives_its_timeout_is_stopped_and_the_stage_timed_out(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    starts, shipped = tmp_path / "starts.txt", tmp_path / "shipped.jsonl"
    async with command_sim(settings, clock, tmp_path,
                           stage("build", [PY, "-c", SLOW, str(starts)], timeout='"1m"'),
                           stage("ship", [PY, "-c", RECORD, str(shipped), "{version}"])) as sim:
        d_id = deployment_id_of(await command_without_settling(sim, "/deploy churn 1.0.0"))
        await sim.app.engine.tick()
        await wait_for(lambda: starts.exists() and starts.read_text().endswith("\n"))

        clock.advance(timedelta(seconds=61))
        await sim.app.settle()

        with pytest.raises(ProcessLookupError):
            os.kill(int(starts.read_text()), 0)
        d = await load(sim, d_id)
        assert d.state is DeploymentState.FAILED
        assert stage_states(d) == {"build": "timed_out", "ship": "skipped"}
        assert not shipped.exists()
        assert len(starts.read_text().splitlines()) == 1
        [done] = announcements(sim, d_id)
        assert "Timed out" in done


async def test_the_timeout_is_worded_for_people(
    silent_ship: tuple[Simulator, int], clock: ManualClock
) -> None:
    sim, d_id = silent_ship
    clock.advance(timedelta(minutes=2))
    await sim.app.settle()

    said = message_text(sim, d_id)  # the reason is the message's; the end only points to it
    assert "0:01:00" not in said
    assert "no result within 1 minute" in said


# ── 6. bizdevops check-config ───────────────────────────────────────────────────────────────

BROKEN = """
default = "standrad"

[pipelines.standard]
[[pipelines.standard.stages]]
name = "build"
run = { executor = "command", argv = ["./build.sh", "{versio}"] }
timout = "20m"

[[pipelines.standard.stages]]
name = "ship"
run = { executor = "webhook", url = "ftp://deployer.internal/hook" }
waves = ["1", "0%", "50%"]
targets = 4
approval = { required = 0 }
"""


def check_config(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``bizdevops check-config`` as a user runs it, with only the variables given."""
    script = Path(sys.executable).parent / "bizdevops"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("BIZDEVOPS_", "SLACK_")) and k != "DATABASE_URL"}
    return subprocess.run([*argv, "check-config"], cwd=tmp_path, env={**clean, **env},
                          capture_output=True, text=True, timeout=60, check=False)


def test_check_config_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "pipelines.toml"
    path.write_text(BROKEN, encoding="utf-8")

    done = check_config(tmp_path, BIZDEVOPS_PIPELINES=str(path))

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    where = [line.split(": ", 2)[1] for line in lines if line.startswith(f"{path}: ")]
    assert sorted(where) == sorted([
        "default",
        "pipelines.standard.stages[0].run.argv[1]",
        "pipelines.standard.stages[0].timout",
        "pipelines.standard.stages[1].run.url",
        "pipelines.standard.stages[1].waves[1]",
        "pipelines.standard.stages[1].waves[2]",
        "pipelines.standard.stages[1].approval.required",
    ])
    assert f"{path}: pipelines.standard.stages[0].timout: unknown key; did you mean `timeout`?" in lines
    assert f"{path}: pipelines.standard.stages[1].approval.required: must be ≥ 1" in lines
    assert "did you mean {version}?" in done.stdout
    assert "BIZDEVOPS_WEBHOOK_SECRET is required: the pipeline file uses webhook executors" in lines
    assert "8 problem(s)" in done.stderr


def test_check_config_accepts_the_example_pipelines(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "pipelines.toml"

    ok = check_config(tmp_path, BIZDEVOPS_PIPELINES=str(example), BIZDEVOPS_WEBHOOK_SECRET="s3cret",
                      BIZDEVOPS_MLFLOW_URL="http://mlflow.internal:5000",
                      BIZDEVOPS_GITHUB_TOKEN="ghp_example")
    no_secret = check_config(tmp_path, BIZDEVOPS_PIPELINES=str(example))

    assert (ok.returncode, ok.stdout.strip()) == (
        0, f"configuration OK: environment and {example}")
    assert no_secret.returncode == 1
    assert "BIZDEVOPS_WEBHOOK_SECRET is required" in no_secret.stdout
