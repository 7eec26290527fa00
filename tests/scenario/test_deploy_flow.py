"""`/deploy` with the built-in dry-run pipeline: the gate, who may approve, and exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.deployment_model import DeploymentState, StageState
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import deployment, deployment_messages, latest, press, said
from tests.scenario.helpers import post_text, posts, reply_text, row_counts


async def _use_case(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')  # alice (admin) owns it
    await sim.command("/usecase team churn add @erin devops")
    await sim.command("/usecase team churn add @carol data-scientist")


async def _at_gate(sim: Simulator, requester: str = "erin") -> dict:
    await _use_case(sim)
    sim.switch_user(requester)
    step = await sim.command("/deploy churn 1.0.0")
    assert "Deployment 1 of *churn* `1.0.0` started" in reply_text(step)
    assert "dry run" in reply_text(step)
    message = latest(sim)
    assert "awaiting approval" in post_text(message)
    return message


async def test_the_built_in_pipeline_runs_to_the_gate_and_finishes_after_approval(
    sim: Simulator,
) -> None:
    message = await _at_gate(sim)
    text = post_text(message)
    for stage in ("develop", "verify", "stage", "verify-staging"):
        assert f"✅ *{stage}* · passed" in text
    assert "✋ *deploy* · awaiting approval · 1 more approval needed" in text
    assert "dry run" in message["text"] and "dry run" in text

    sim.switch_user("alice")
    step = await press(sim, message, "deploy_approve")

    assert "You approved *deploy* of deployment 1" in said(step)
    final = latest(sim)
    assert "✅ *deploy* · passed" in post_text(final)
    assert "<@UALICE> approved *deploy*" in post_text(final)
    assert "Succeeded" in post_text(final)
    assert not [b for b in final["blocks"] if b["type"] == "actions"], "no buttons once it ended"
    finished = [p for p in posts(sim) if p["text"].startswith("Deployment 1: churn 1.0.0") and
                "succeeded" in p["text"]]
    assert len(finished) == 1, "success is announced exactly once"
    # One message per deployment: posted once, then only edited in place.
    posted = [m for m in sim.fake.calls_to("chat.postMessage") if not m.args.get("thread_ts")
              and m.args["text"].startswith("Deployment 1: churn 1.0.0 (dry run) — running")]
    assert len(posted) == 1
    assert sim.fake.calls_to("chat.update")
    d = await deployment(sim, 1)
    assert d.state is DeploymentState.SUCCEEDED
    async with sim.app.db.uow() as uow:
        kinds = [e.kind for e in await uow.deployments.events(1)]
    assert kinds[0] == "requested" and kinds[-1] == "succeeded"
    assert "approved" in kinds and "gate_passed" in kinds
    status = reply_text(await sim.command("/deploy status 1"))
    assert "succeeded · system — dry run: nothing was deployed" in status  # never "is out"
    assert "is out" not in status


async def test_the_requester_cannot_approve_their_own_deployment(sim: Simulator) -> None:
    message = await _at_gate(sim, requester="erin")
    step = await press(sim, message, "deploy_approve")
    assert "You requested deployment 1, so you cannot approve it" in said(step)
    assert (await deployment(sim, 1)).state is DeploymentState.AWAITING_APPROVAL


async def test_an_outsider_cannot_approve_and_is_told_who_can(sim: Simulator) -> None:
    message = await _at_gate(sim)
    for outsider in ("dave", "carol"):  # carol is on the team, but not an approver
        sim.switch_user(outsider)
        step = await press(sim, message, "deploy_approve")
        assert "Only the owner <@UALICE> (the only admin) may approve deploy" in said(step)
    assert (await deployment(sim, 1)).stages[-1].votes == ()


async def test_a_double_click_is_one_vote_and_one_stage_start(sim: Simulator) -> None:
    message = await _at_gate(sim)
    sim.switch_user("alice")
    await asyncio.gather(press(sim, message, "deploy_approve"), press(sim, message, "deploy_approve"))
    answers = [body["text"] for _token, body in sim.fake.response_posts]
    assert sum("You approved" in a for a in answers) == 1
    assert sum("no longer awaiting approval" in a for a in answers) == 1  # told, not counted
    d = await deployment(sim, 1)
    assert d.state is DeploymentState.SUCCEEDED
    assert [v.user_id for v in d.stages[-1].votes] == ["UALICE"]
    async with sim.app.db.uow() as uow:
        events = await uow.deployments.events(1)
    assert [e.kind for e in events].count("gate_passed") == 1
    assert [(e.kind, e.stage) for e in events].count(("run_passed", "deploy")) == 1


async def test_two_approvers_at_the_same_moment_start_the_stage_once(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn" owner=@bob')
    sim.switch_user("erin")
    await sim.command("/usecase new x-unused \"unused\"")
    sim.switch_user("bob")
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 2.0.0")
    message = latest(sim)

    async def approve_as(user: str):  # type: ignore[no-untyped-def]
        sim.switch_user(user)
        return await press(sim, message, "deploy_approve")

    # alice (admin) and bob (owner) click together; the gate needs one approval.
    await asyncio.gather(approve_as("alice"), approve_as("bob"))
    d = await deployment(sim, 1)
    assert d.state is DeploymentState.SUCCEEDED
    assert len(d.stages[-1].votes) == 1
    async with sim.app.db.uow() as uow:
        kinds = [e.kind for e in await uow.deployments.events(1)]
    assert kinds.count("gate_passed") == 1 and kinds.count("succeeded") == 1
    answers = [body["text"] for _token, body in sim.fake.response_posts]
    assert sum("You approved" in a for a in answers) == 1


async def test_reject_asks_for_a_reason_and_ends_the_deployment(sim: Simulator) -> None:
    message = await _at_gate(sim)
    sim.switch_user("alice")
    step = await press(sim, message, "deploy_reject")
    assert step.status == 200
    [dialog] = sim.fake.opened_views
    assert dialog["title"]["text"] == "Reject deployment"
    assert dialog["private_metadata"] != "" and "churn" not in dialog["private_metadata"]

    await sim.submit("the model drifted on Monday's data")

    d = await deployment(sim, 1)
    assert d.state is DeploymentState.REJECTED
    assert d.stages[-1].state is StageState.REJECTED  # not "cancelled": it was rejected
    text = post_text(latest(sim))
    assert "⛔ *deploy* · rejected" in text and "🚫" not in text
    assert "Rejected" in text and "the model drifted on Monday" in text
    approve_late = await press(sim, message, "deploy_approve")
    assert "has already ended (rejected)" in said(approve_late)


async def test_an_outsider_cannot_even_open_the_reject_dialog(sim: Simulator) -> None:
    message = await _at_gate(sim)
    sim.switch_user("dave")
    step = await press(sim, message, "deploy_reject")
    assert "Only the owner <@UALICE> (the only admin) may reject" in said(step)
    assert sim.fake.opened_views == []


async def test_an_unanswered_gate_expires_and_is_announced(sim: Simulator, clock: ManualClock) -> None:
    message = await _at_gate(sim)
    clock.advance(timedelta(hours=23, minutes=59))
    await sim.app.settle()
    assert (await deployment(sim, 1)).state is DeploymentState.AWAITING_APPROVAL

    clock.advance(timedelta(minutes=2))
    await sim.app.settle()
    d = await deployment(sim, 1)
    assert d.state is DeploymentState.EXPIRED
    assert "Expired" in post_text(latest(sim))
    assert "⌛ *deploy* · expired" in post_text(latest(sim))  # an expiry, not a cancellation
    sim.switch_user("alice")
    late = await press(sim, message, "deploy_approve")
    assert "already ended (expired)" in said(late)


async def test_a_second_deploy_while_one_is_active_is_refused_naming_it(sim: Simulator) -> None:
    await _at_gate(sim)
    before = await row_counts(sim)
    step = await sim.command("/deploy churn 1.0.1")
    text = reply_text(step)
    assert "Deployment 1 of `churn` (`1.0.0`, requested by <@UERIN>) is still awaiting approval" in text
    assert "/deploy cancel 1" in text
    assert (await deployment(sim, 1)).state is DeploymentState.AWAITING_APPROVAL
    assert await row_counts(sim) == {**before, "outbox": before["outbox"]}


async def test_lock_blocks_deploys_until_unlock(sim: Simulator, clock: ManualClock) -> None:
    await _use_case(sim)
    sim.switch_user("erin")
    locked = await sim.command('/deploy lock churn "quarter-end freeze"')
    assert "locked until `/deploy unlock churn`" in reply_text(locked)
    assert any("locked deployments of *churn*" in post_text(p) for p in posts(sim))

    clock.advance(timedelta(hours=3))
    refused = await sim.command("/deploy churn 1.0.0")
    assert "`churn` is locked by <@UERIN>" in reply_text(refused)
    assert "quarter-end freeze" in reply_text(refused)
    status = await sim.command("/deploy status churn")
    assert "Locked by <@UERIN>" in reply_text(status) and "3 hours" in reply_text(status)
    sim.switch_user("dave")
    outsider = await sim.command("/deploy unlock churn")
    assert "may unlock `churn`" in reply_text(outsider)

    sim.switch_user("erin")
    await sim.command("/deploy unlock churn")
    started = await sim.command("/deploy churn 1.0.0")
    assert "started" in reply_text(started)


async def test_cancel_by_command_and_by_button(sim: Simulator) -> None:
    message = await _at_gate(sim)
    sim.switch_user("dave")
    refused = await sim.command("/deploy cancel 1")
    assert "may cancel deployments of `churn`" in reply_text(refused)
    sim.switch_user("erin")  # the requester may always cancel
    done = await press(sim, message, "deploy_cancel")
    assert "⏹️ Deployment 1 of *churn* `1.0.0` is cancelled." in said(done)
    assert "🚫" not in said(done)  # a cancellation that worked is no refusal
    assert "⏹️ *deploy* · cancelled" in post_text(latest(sim))
    d = await deployment(sim, 1)
    assert d.state is DeploymentState.CANCELLED
    assert d.stages[-1].state is StageState.CANCELLED
    again = await sim.command("/deploy cancel 1")
    assert "already ended (cancelled)" in reply_text(again)


async def test_who_may_start_a_deployment(sim: Simulator) -> None:
    await _use_case(sim)
    for user, allowed in (("carol", False), ("dave", False), ("erin", True)):
        sim.switch_user(user)
        step = await sim.command("/deploy churn 1.0.0")
        if allowed:
            assert "started" in reply_text(step)
        else:
            assert "Only the owner <@UALICE>, the team's data engineers and devops engineers " \
                   "(<@UERIN>) or an admin may deploy `churn`" in reply_text(step)


@pytest.mark.parametrize(("text", "problem"), [
    ("/deploy churn 1.0 2.0", "Say which use case and which version"),
    ('/deploy churn "1.0; rm -rf /"', "is not a valid version"),
    ("/deploy churn 1.0.0 pipeline=nope", "There is no pipeline `nope`"),
    ("/deploy churn 1.0.0 colour=red", "Unknown option `colour=`"),
    ("/deploy cancel abc", "is not a deployment id"),
    ("/deploy status 99", "There is no deployment 99"),
    ("/deploy history chrn", "Did you mean `churn`?"),
])
async def test_bad_input_changes_nothing(sim: Simulator, text: str, problem: str) -> None:
    await _use_case(sim)
    before = await row_counts(sim)
    step = await sim.command(text)
    assert problem in reply_text(step)
    assert await row_counts(sim) == before
    assert deployment_messages(sim) == []


async def test_status_history_and_rollback(sim: Simulator) -> None:
    await _use_case(sim)
    for version in ("1.0.0", "1.1.0"):
        sim.switch_user("erin")
        await sim.command(f"/deploy churn {version}")
        sim.switch_user("alice")
        await press(sim, latest(sim), "deploy_approve")
    history = reply_text(await sim.command("/deploy history churn"))
    assert history.index("1.1.0") < history.index("1.0.0")
    assert "<@UERIN>" in history and "Succeeded" in history

    sim.switch_user("erin")  # alice, the only admin and the owner, approves it
    step = await sim.command("/deploy rollback churn")
    assert "back to `1.0.0`" in reply_text(step)
    rollback = await deployment(sim, 3)
    assert rollback.kind == "rollback" and rollback.version == "1.0.0"
    assert [s.name for s in rollback.stages] == ["deploy"], "straight to production, gate kept"
    status = reply_text(await sim.command("/deploy status 3"))
    assert "Rollback 3: churn 1.0.0" in status and "Audit trail" in status


async def test_help(sim: Simulator) -> None:
    text = reply_text(await sim.command("/deploy help"))
    for verb in ("status", "history", "cancel", "rollback", "lock", "unlock"):
        assert f"/deploy {verb}" in text


async def test_a_stale_lock_is_reminded_once_per_day(sim: Simulator, clock: ManualClock) -> None:
    await _use_case(sim)
    await sim.command('/deploy lock churn "waiting for the data fix"')

    def reminders() -> int:
        return sum("Reminder: deployments of *churn*" in post_text(p) for p in posts(sim))

    clock.advance(timedelta(hours=23))
    await sim.app.settle()
    assert reminders() == 0
    clock.advance(timedelta(hours=2))
    await sim.app.settle()
    await sim.app.settle()
    assert reminders() == 1
    assert "(1 day 1 hour): waiting for the data fix" in post_text(posts(sim)[-1])
    clock.advance(timedelta(hours=25))
    await sim.app.settle()
    assert reminders() == 2
