"""The deployment state machine: every transition, every refusal, waves and time.

Pure: each transition takes ``(deployment, ..., now)`` and returns a ``Transition``; refusals raise
``DomainError`` (``StaleResult`` for results and clicks that no longer apply).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.approvers import Approvers
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_machine import (
    StaleResult,
    StepResult,
    Transition,
    cancel,
    followed,
    launch,
    lost,
    record_result,
    request,
    time_out,
)
from bot.domain.deployment_model import (
    Deployment,
    DeploymentState,
    StageState,
    Step,
    StepKind,
)
from bot.domain.deployment_stop import Stop, StopKind, from_text
from bot.domain.executor_specs import CommandSpec, DryRunSpec
from bot.domain.gates import approve, expire, reject, remind, tell
from bot.domain.pipeline import (
    ApprovalSpec,
    ExecutorSpec,
    OnFailure,
    Pipeline,
    StageSpec,
)
from bot.domain.rollbacks import rollback_version
from bot.domain.usecases import DomainError, NotAllowed

NOW = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
REQUESTER = "U0REQUESTER"
ALICE = "U0ALICE"
BOB = "U0BOB"
APPROVERS = Approvers(owner="U0OWNER", admins=("U0ADMIN",), by_default=True, excluded=REQUESTER)
TIMEOUT = timedelta(minutes=30)
BAKE = timedelta(minutes=5)

W, AA, R, P, F, S, C, TO = (
    StageState.WAITING, StageState.AWAITING_APPROVAL, StageState.RUNNING, StageState.PASSED,
    StageState.FAILED, StageState.SKIPPED, StageState.CANCELLED, StageState.TIMED_OUT,
)
REJ, EXP = StageState.REJECTED, StageState.EXPIRED


# ── builders ─────────────────────────────────────────────────────────────────────────────────

def at(minutes: float = 0, **kw: float) -> datetime:
    return NOW + timedelta(minutes=minutes, **kw)


def cmd() -> ExecutorSpec:
    return CommandSpec(argv=("./deploy.sh", "{version}", "{targets}"))


def stage(name: str, **kw: Any) -> StageSpec:
    return StageSpec(name, kw.pop("run", None) or cmd(), **kw)


def gated(name: str, required: int = 1, **kw: Any) -> StageSpec:
    return stage(name, approval=ApprovalSpec(required=required, **kw))


def rollout(name: str = "prod", *, waves: tuple[str, ...] = ("1", "50%", "100%"),
            targets: int | tuple[str, ...] = 4, health: bool = True,
            on_failure: OnFailure = OnFailure.HALT, **kw: Any) -> StageSpec:
    return stage(name, waves=waves, targets=targets, health=cmd() if health else None,
                 bake=kw.pop("bake", BAKE), on_failure=on_failure, **kw)


def start(*stages: StageSpec, by: str = REQUESTER, now: datetime = NOW, **kw: Any) -> Transition:
    return request(use_case="churn", version="v2", pipeline=Pipeline("standard", stages),
                   requested_by=by, channel_id="C0CHURN", now=now, **kw)


def begin(*stages: StageSpec, **kw: Any) -> Deployment:
    return start(*stages, **kw).deployment


def ok(detail: str = "done", **kw: Any) -> StepResult:
    return StepResult(True, detail, **kw)


def bad(detail: str = "boom") -> StepResult:
    return StepResult(False, detail)


def step_of(d: Deployment) -> Step:
    stage_run = d.current_stage
    assert stage_run is not None and stage_run.step is not None
    return stage_run.step


def launched(d: Deployment, now: datetime = NOW) -> Deployment:
    assert d.current is not None
    return launch(d, d.current, now)


def report(d: Deployment, result: StepResult, now: datetime = NOW) -> Transition:
    """The executor's result for the current (launched) step."""
    assert d.current is not None
    step = step_of(d)
    return record_result(d, d.current, step.kind, step.wave, result, now)


def finish(d: Deployment, now: datetime = NOW, result: StepResult | None = None) -> Transition:
    """Launch the current step and report its result (success unless told)."""
    return report(launched(d, now), result or ok(), now)


def vote(d: Deployment, user: str, now: datetime = NOW, *, eligible: bool = True,
         comment: str = "") -> Transition:
    assert d.current is not None
    return approve(d, d.current, user, now, eligible=eligible, approvers=APPROVERS,
                   comment=comment)


def refuse(d: Deployment, user: str, reason: str, now: datetime = NOW, *,
           eligible: bool = True) -> Transition:
    assert d.current is not None
    return reject(d, d.current, user, reason, now, eligible=eligible, approvers=APPROVERS)


def states(d: Deployment) -> list[StageState]:
    return [s.state for s in d.stages]


def kinds(t: Transition) -> list[str]:
    return [e.kind for e in t.events]


def at_gate(*, required: int = 1, **kw: Any) -> Deployment:
    """build passed; deploy waits for approval (gate opened at NOW+1m)."""
    d = begin(stage("build"), gated("deploy", required, **kw), stage("smoke"))
    return finish(d, at(1)).deployment


# ── request ──────────────────────────────────────────────────────────────────────────────────

def test_request_without_gates_starts_the_first_stage() -> None:
    t = start(stage("build"), stage("test"))
    d = t.deployment
    assert d.state is DeploymentState.RUNNING
    assert states(d) == [R, W]
    assert d.current == 0
    assert d.stages[0].started_at == NOW
    assert step_of(d) == Step(StepKind.RUN, None, due_at=NOW, deadline=NOW + TIMEOUT)
    assert not step_of(d).launched and not step_of(d).accepted
    assert (d.use_case, d.version, d.pipeline, d.requested_by, d.requested_at, d.channel_id) == (
        "churn", "v2", "standard", REQUESTER, NOW, "C0CHURN")
    assert d.kind == "deploy" and d.finished_at is None and not d.dry_run
    assert kinds(t) == ["requested"]
    assert t.events[0].actor == REQUESTER and t.events[0].at == NOW
    assert t.events[0].detail == ""  # what and how are the deployment's own facts
    assert not t.kill and t.rollback_targets == ()


def test_request_uses_the_stage_timeout_for_the_deadline() -> None:
    d = begin(stage("build", timeout=timedelta(minutes=5)))
    assert step_of(d).deadline == NOW + timedelta(minutes=5)


def test_request_with_a_gate_first_waits_for_approval() -> None:
    t = start(gated("deploy"))
    assert t.deployment.state is DeploymentState.AWAITING_APPROVAL
    assert states(t.deployment) == [AA]
    assert t.deployment.stages[0].gate_opened_at == NOW
    assert t.deployment.stages[0].step is None
    assert kinds(t) == ["requested", "gate_opened"]


def test_request_of_a_rollback() -> None:
    t = start(stage("build"), kind="rollback", rollback_of=7)
    assert t.deployment.kind == "rollback"
    assert t.deployment.rollback_of == 7
    assert t.events[0].kind == "requested" and t.events[0].detail == ""


def test_request_marks_a_dry_run_pipeline() -> None:
    dry = DryRunSpec()
    assert begin(stage("a", run=dry), stage("b", run=dry)).dry_run
    assert not begin(stage("a", run=dry), stage("b")).dry_run


def test_request_plans_the_waves() -> None:
    d = begin(rollout(targets=4))
    assert [w.targets for w in d.stages[0].waves] == [("1",), ("2",), ("3", "4")]
    assert all(w.state is W and w.health is None for w in d.stages[0].waves)
    assert step_of(d) == Step(StepKind.RUN, 0, due_at=NOW, deadline=NOW + TIMEOUT)
    assert (d.stages[0].targets_done(), d.stages[0].targets_total()) == (0, 4)


# ── launch ───────────────────────────────────────────────────────────────────────────────────

def test_launch_marks_the_step_launched() -> None:
    d = begin(stage("build"))
    before = step_of(d)
    after = launch(d, 0, NOW)
    assert step_of(after).launched
    assert step_of(after) == Step(before.kind, before.wave, before.due_at, before.deadline, launched=True)
    assert after.state is DeploymentState.RUNNING and states(after) == [R]


def test_launching_twice_is_stale() -> None:
    d = launch(begin(stage("build")), 0, NOW)
    with pytest.raises(StaleResult):
        launch(d, 0, at(1))


def test_launching_a_step_before_it_is_due_is_stale() -> None:
    d = finish(begin(rollout()), NOW).deployment  # wave 1 ran; its health check waits for the bake
    assert step_of(d).kind is StepKind.HEALTH and step_of(d).due_at == NOW + BAKE
    with pytest.raises(StaleResult):
        launch(d, 0, NOW + BAKE - timedelta(seconds=1))
    assert step_of(launch(d, 0, NOW + BAKE)).launched


def test_launching_another_stage_or_a_gate_or_an_ended_deployment_is_stale() -> None:
    d = begin(stage("build"), stage("test"))
    with pytest.raises(StaleResult):
        launch(d, 1, NOW)
    with pytest.raises(StaleResult):
        launch(at_gate(), 1, at(2))
    with pytest.raises(StaleResult):
        launch(cancel(d, REQUESTER, "", NOW).deployment, 0, NOW)


# ── record_result ────────────────────────────────────────────────────────────────────────────

def test_success_moves_to_the_next_stage() -> None:
    d = launched(begin(stage("build"), stage("test")))
    t = report(d, ok("built", url="https://ci.example/1"), at(3))
    d = t.deployment
    assert d.state is DeploymentState.RUNNING
    assert states(d) == [P, R]
    assert d.stages[0].finished_at == at(3)
    assert d.stages[0].detail == "built" and d.stages[0].url == "https://ci.example/1"
    assert d.stages[0].step is None
    assert d.stages[1].started_at == at(3)
    assert step_of(d) == Step(StepKind.RUN, None, due_at=at(3), deadline=at(3) + TIMEOUT)
    assert kinds(t) == ["run_passed"]
    assert t.events[0].stage == "build"


def test_success_of_the_last_stage_succeeds_the_deployment() -> None:
    d = finish(begin(stage("build"), stage("test")), at(1)).deployment
    t = finish(d, at(2))
    assert t.deployment.state is DeploymentState.SUCCEEDED
    assert t.deployment.finished_at == at(2)
    assert states(t.deployment) == [P, P]
    assert t.deployment.current is None
    assert kinds(t) == ["run_passed", "succeeded"]


def test_failure_fails_the_deployment_and_skips_the_rest() -> None:
    d = finish(begin(stage("build"), stage("test"), stage("ship")), at(1)).deployment
    t = finish(d, at(2), bad("3 tests failed"))
    d = t.deployment
    assert d.state is DeploymentState.FAILED
    assert d.finished_at == at(2)
    assert states(d) == [P, F, S]
    assert d.stages[1].finished_at == at(2) and d.stages[1].step is None
    assert d.stop == Stop(StopKind.FAILED, "test", reason="3 tests failed")
    assert kinds(t) == ["failed"]
    assert t.events[0].stage == "test" and from_text(t.events[0].detail) == d.stop
    assert not t.kill and t.rollback_targets == ()


def test_webhook_accepted_keeps_the_step_and_waits_for_the_callback() -> None:
    d = launched(begin(stage("build"), stage("test")))
    t = report(d, StepResult(True, accepted=True, url="https://ci.example/run/9"), at(1))
    d = t.deployment
    assert states(d) == [R, W]
    assert d.state is DeploymentState.RUNNING
    assert step_of(d).launched and step_of(d).accepted
    assert step_of(d).deadline == NOW + TIMEOUT
    assert d.stages[0].url == "https://ci.example/run/9"
    assert t.events == ()
    # The callback then finishes it.
    done = report(d, ok("deployed"), at(4)).deployment
    assert states(done) == [P, R]
    assert done.stages[0].url == "https://ci.example/run/9"


def test_a_result_for_another_stage_is_stale() -> None:
    d = launched(begin(stage("build"), stage("test")))
    with pytest.raises(StaleResult):
        record_result(d, 1, StepKind.RUN, None, ok(), NOW)


@pytest.mark.parametrize(("kind", "wave"), [(StepKind.HEALTH, None), (StepKind.RUN, 0)])
def test_a_result_for_another_kind_or_wave_is_stale(kind: StepKind, wave: int | None) -> None:
    d = launched(begin(stage("build")))
    with pytest.raises(StaleResult):
        record_result(d, 0, kind, wave, ok(), NOW)


def test_a_result_for_another_wave_of_a_rollout_is_stale() -> None:
    d = launched(begin(rollout()))
    with pytest.raises(StaleResult):
        record_result(d, 0, StepKind.RUN, 1, ok(), NOW)
    with pytest.raises(StaleResult):
        record_result(d, 0, StepKind.RUN, None, ok(), NOW)
    with pytest.raises(StaleResult):
        record_result(d, 0, StepKind.HEALTH, 0, ok(), NOW)


def test_a_result_for_an_unlaunched_step_is_stale() -> None:
    d = begin(stage("build"))
    with pytest.raises(StaleResult):
        record_result(d, 0, StepKind.RUN, None, ok(), NOW)


def test_a_duplicate_result_is_stale() -> None:
    d = launched(begin(stage("build"), stage("test")))
    after = report(d, ok(), at(1)).deployment
    with pytest.raises(StaleResult):
        record_result(after, 0, StepKind.RUN, None, ok(), at(2))


def test_a_result_after_the_end_is_stale() -> None:
    d = finish(begin(stage("build")), at(1)).deployment
    assert d.state is DeploymentState.SUCCEEDED
    with pytest.raises(StaleResult):
        record_result(d, 0, StepKind.RUN, None, bad(), at(2))


# ── approval gates ───────────────────────────────────────────────────────────────────────────

def test_reaching_a_gated_stage_waits_for_approval() -> None:
    d = begin(stage("build"), gated("deploy"))
    t = finish(d, at(1))
    d = t.deployment
    assert d.state is DeploymentState.AWAITING_APPROVAL
    assert states(d) == [P, AA]
    assert d.stages[1].gate_opened_at == at(1)
    assert d.stages[1].step is None and d.stages[1].started_at is None
    assert kinds(t) == ["run_passed", "gate_opened"]
    assert t.events[1].stage == "deploy"


def test_one_approval_passes_a_gate_of_one_and_starts_the_stage() -> None:
    d = at_gate()
    t = vote(d, ALICE, at(2), comment="lgtm")
    d = t.deployment
    assert d.state is DeploymentState.RUNNING
    assert states(d) == [P, R, W]
    assert d.stages[1].started_at == at(2)
    assert step_of(d) == Step(StepKind.RUN, None, due_at=at(2), deadline=at(2) + TIMEOUT)
    assert [(v.user_id, v.approve, v.at, v.comment) for v in d.stages[1].votes] == [
        (ALICE, True, at(2), "lgtm")]
    assert kinds(t) == ["approved", "gate_passed"]
    assert t.events[0].actor == ALICE and t.events[0].stage == "deploy"


def test_a_gate_of_two_needs_two_distinct_people() -> None:
    d = at_gate(required=2)
    first = vote(d, ALICE, at(2))
    assert kinds(first) == ["approved"]
    d = first.deployment
    assert d.state is DeploymentState.AWAITING_APPROVAL
    assert states(d) == [P, AA, W]
    assert len(d.stages[1].approvals) == 1
    with pytest.raises(DomainError) as again:
        vote(d, ALICE, at(3))
    assert again.value.key == "already_voted"
    second = vote(d, BOB, at(4))
    assert kinds(second) == ["approved", "gate_passed"]
    assert second.deployment.state is DeploymentState.RUNNING
    assert [v.user_id for v in second.deployment.stages[1].approvals] == [ALICE, BOB]


def test_the_requester_cannot_approve_their_own_deployment() -> None:
    with pytest.raises(NotAllowed) as refused:
        vote(at_gate(), REQUESTER, at(2))
    assert refused.value.key == "own_deployment"
    assert refused.value.facts["approvers"] == APPROVERS  # told whom to ask


def test_the_requester_may_approve_when_the_gate_allows_self() -> None:
    t = vote(at_gate(allow_self=True), REQUESTER, at(2))
    assert t.deployment.state is DeploymentState.RUNNING


def test_a_self_approval_counts_once_towards_a_quorum() -> None:
    d = vote(at_gate(required=2, allow_self=True), REQUESTER, at(2)).deployment
    assert d.state is DeploymentState.AWAITING_APPROVAL
    with pytest.raises(DomainError) as again:
        vote(d, REQUESTER, at(3))
    assert again.value.key == "already_voted"
    assert vote(d, ALICE, at(3)).deployment.state is DeploymentState.RUNNING


def test_an_ineligible_user_cannot_approve_and_is_told_who_can() -> None:
    with pytest.raises(NotAllowed) as refused:
        vote(at_gate(), BOB, at(2), eligible=False)
    assert refused.value.key == "may_not_approve"
    assert refused.value.facts["approvers"] == APPROVERS


def test_reject_needs_a_reason() -> None:
    d = at_gate()
    for reason in ("", "   "):
        with pytest.raises(DomainError) as refused:
            refuse(d, ALICE, reason, at(2))
        assert refused.value.key == "reason_required"


def test_an_ineligible_user_cannot_reject() -> None:
    with pytest.raises(NotAllowed) as refused:
        refuse(at_gate(), BOB, "no", at(2), eligible=False)
    assert refused.value.key == "may_not_reject"
    assert refused.value.facts["approvers"] == APPROVERS


def test_reject_ends_the_deployment() -> None:
    t = refuse(at_gate(), ALICE, "  freeze week <!channel>  ", at(2))
    d = t.deployment
    assert d.state is DeploymentState.REJECTED
    assert d.finished_at == at(2)
    assert states(d) == [P, REJ, S]  # a rejected gate reads as rejected, not as cancelled
    assert d.stages[1].finished_at == at(2)
    assert d.stop == Stop(StopKind.REJECTED, "deploy", ALICE, "freeze week <!channel>")
    assert [(v.user_id, v.approve, v.comment) for v in d.stages[1].votes] == [
        (ALICE, False, "freeze week <!channel>")]
    assert kinds(t) == ["rejected"]
    assert t.events[0].actor == ALICE and t.events[0].detail == "freeze week <!channel>"


def test_one_reject_ends_it_even_after_an_approval() -> None:
    d = vote(at_gate(required=2), ALICE, at(2)).deployment
    assert refuse(d, BOB, "not today", at(3)).deployment.state is DeploymentState.REJECTED


def test_approve_or_reject_after_the_end_is_stale() -> None:
    for ended in (
        refuse(at_gate(), ALICE, "no", at(2)).deployment,
        cancel(at_gate(), REQUESTER, "", at(2)).deployment,
        expire(at_gate(), at(1) + timedelta(hours=24)).deployment,
    ):
        with pytest.raises(StaleResult):
            approve(ended, 1, BOB, at(3), eligible=True, approvers=APPROVERS)
        with pytest.raises(StaleResult):
            reject(ended, 1, BOB, "late", at(3), eligible=True, approvers=APPROVERS)


def test_approve_on_an_old_stage_is_stale() -> None:
    # Two gates: a click on the first gate's (old) message must not pass the second gate.
    d = begin(gated("staging"), stage("smoke"), gated("prod"))
    d = vote(d, ALICE, at(1)).deployment
    d = finish(d, at(2)).deployment
    d = finish(d, at(3)).deployment
    assert states(d) == [P, P, AA]
    with pytest.raises(StaleResult):
        approve(d, 0, BOB, at(4), eligible=True, approvers=APPROVERS)
    with pytest.raises(StaleResult):
        reject(d, 0, BOB, "old message", at(4), eligible=True, approvers=APPROVERS)
    assert d.stages[2].votes == ()


def test_approve_on_a_running_stage_is_stale() -> None:
    d = vote(at_gate(), ALICE, at(2)).deployment  # deploy is running now
    with pytest.raises(StaleResult):
        approve(d, 1, BOB, at(3), eligible=True, approvers=APPROVERS)


def test_approve_after_the_gate_expired_is_refused() -> None:
    d = at_gate()
    with pytest.raises(StaleResult):
        vote(d, ALICE, at(1) + timedelta(hours=24))


def test_a_click_for_a_stage_index_beyond_the_pipeline_is_stale() -> None:
    with pytest.raises(StaleResult):
        approve(at_gate(), 9, ALICE, at(2), eligible=True, approvers=APPROVERS)


# ── expiry ───────────────────────────────────────────────────────────────────────────────────

def test_a_gate_before_its_expiry_does_not_expire() -> None:
    d = at_gate()
    with pytest.raises(StaleResult):
        expire(d, at(1) + timedelta(hours=24) - timedelta(seconds=1))


@pytest.mark.parametrize("late", [timedelta(), timedelta(hours=3)])
def test_a_gate_expires_at_or_after_its_expiry(late: timedelta) -> None:
    when = at(1) + timedelta(hours=24) + late
    t = expire(at_gate(), when)
    d = t.deployment
    assert d.state is DeploymentState.EXPIRED
    assert d.finished_at == when
    assert states(d) == [P, EXP, S]
    assert d.stop == Stop(StopKind.EXPIRED, "deploy")
    assert kinds(t) == ["expired"]
    assert t.events[0].stage == "deploy" and t.events[0].actor is None


def test_a_gate_uses_its_own_expiry() -> None:
    d = at_gate(expires=timedelta(hours=1))
    assert d.next_deadline() == at(1)  # its approvers are told at once
    d = tell(d, ("U0OWNER",), at(1)).deployment
    assert d.next_deadline() == at(61)  # the 4-hour reminder would come after the expiry
    with pytest.raises(StaleResult):
        expire(d, at(60))
    assert expire(d, at(61)).deployment.state is DeploymentState.EXPIRED


def test_expire_without_a_waiting_gate_is_stale() -> None:
    d = begin(stage("build"))
    with pytest.raises(StaleResult):
        expire(d, at(60 * 48))
    passed = vote(at_gate(), ALICE, at(2)).deployment
    with pytest.raises(StaleResult):
        expire(passed, at(60 * 48))


# ── cancel ───────────────────────────────────────────────────────────────────────────────────

def test_cancel_before_launch_needs_no_kill() -> None:
    d = begin(stage("build"), stage("test"))
    t = cancel(d, ALICE, "wrong version", at(1))
    d = t.deployment
    assert d.state is DeploymentState.CANCELLED
    assert d.finished_at == at(1)
    assert states(d) == [C, S]
    assert d.stages[0].step is None
    assert d.stop == Stop(StopKind.CANCELLED, "build", ALICE, "wrong version")
    assert kinds(t) == ["cancelled"]
    assert (t.events[0].actor, t.events[0].stage, t.events[0].detail) == (ALICE, "build", "wrong version")
    assert not t.kill and t.rollback_targets == ()


def test_cancel_of_a_launched_step_kills_it() -> None:
    t = cancel(launched(begin(stage("build"), stage("test"))), ALICE, "", at(1))
    assert t.kill
    assert t.deployment.state is DeploymentState.CANCELLED
    assert t.deployment.stop == Stop(StopKind.CANCELLED, "build", ALICE)


def test_cancel_of_an_accepted_webhook_kills_it() -> None:
    d = report(launched(begin(stage("build"))), StepResult(True, accepted=True), at(1)).deployment
    assert cancel(d, ALICE, "", at(2)).kill


def test_cancel_while_awaiting_approval() -> None:
    t = cancel(at_gate(), REQUESTER, "changed my mind", at(2))
    assert t.deployment.state is DeploymentState.CANCELLED
    assert states(t.deployment) == [P, C, S]
    assert not t.kill


def test_cancel_while_a_health_check_waits_for_its_bake() -> None:
    d = finish(begin(rollout(), stage("announce")), NOW).deployment
    assert step_of(d).kind is StepKind.HEALTH and not step_of(d).launched
    t = cancel(d, ALICE, "", at(1))
    assert not t.kill
    assert t.deployment.state is DeploymentState.CANCELLED
    assert states(t.deployment) == [C, S]


def test_cancel_while_a_health_check_runs_kills_it() -> None:
    d = launched(finish(begin(rollout()), NOW).deployment, NOW + BAKE)
    assert cancel(d, ALICE, "", NOW + BAKE).kill


def test_cancel_keeps_the_reason_as_it_was_written() -> None:
    d = cancel(begin(stage("build")), ALICE, "<!here> & more", at(1)).deployment
    assert d.stop == Stop(StopKind.CANCELLED, "build", ALICE, "<!here> & more")  # words escape it
    assert d.stages[0].detail == d.detail


@pytest.mark.parametrize("end", ["succeeded", "failed", "cancelled", "rejected", "expired"])
def test_cancel_after_the_end_is_refused(end: str) -> None:
    d = begin(stage("build"), gated("deploy"))
    ended = {
        "succeeded": lambda: finish(vote(finish(d).deployment, ALICE).deployment).deployment,
        "failed": lambda: finish(d, NOW, bad()).deployment,
        "cancelled": lambda: cancel(d, ALICE, "", NOW).deployment,
        "rejected": lambda: refuse(finish(d).deployment, ALICE, "no").deployment,
        "expired": lambda: expire(finish(d).deployment, NOW + timedelta(days=1)).deployment,
    }[end]()
    assert ended.state.value == end
    with pytest.raises(DomainError) as refused:
        cancel(ended, ALICE, "", at(5))
    assert refused.value.key == "deployment_ended"


def test_cancel_wins_over_a_result_in_flight() -> None:
    d = launched(begin(stage("build"), stage("test")))
    cancelled = cancel(d, ALICE, "", at(1)).deployment
    with pytest.raises(StaleResult):
        record_result(cancelled, 0, StepKind.RUN, None, ok(), at(2))


def test_cancel_wins_over_a_promotion_in_flight() -> None:
    # The health check of wave 1 is running; abort; its "passed" arrives late and promotes nothing.
    d = launched(finish(begin(rollout()), NOW).deployment, NOW + BAKE)
    cancelled = cancel(d, ALICE, "abort", NOW + BAKE).deployment
    with pytest.raises(StaleResult):
        record_result(cancelled, 0, StepKind.HEALTH, 0, ok(), NOW + BAKE + timedelta(seconds=1))
    with pytest.raises(StaleResult):
        launch(cancelled, 0, at(60))
    # Wave 1's run had passed: its target runs the new version, cancelled or not.
    assert cancelled.stages[0].targets_done() == 1
    assert [(g.version, g.targets) for g in cancelled.production] == [("v2", ("1",)), ("", ("2", "3", "4"))]


# ── waves ────────────────────────────────────────────────────────────────────────────────────

def test_a_rollout_with_health_checks_succeeds_only_after_the_last_health_check() -> None:
    d = begin(rollout(targets=4))
    prod = d.stages[0]
    assert [w.targets for w in prod.waves] == [("1",), ("2",), ("3", "4")]
    now = NOW
    done_after_wave = [1, 2, 4]
    for wave in range(3):
        # the wave's run
        assert step_of(d) == Step(StepKind.RUN, wave, due_at=now, deadline=now + TIMEOUT)
        t = finish(d, now)
        d = t.deployment
        assert kinds(t) == ["run_passed"] and t.events[0].wave == wave + 1
        assert d.state is DeploymentState.RUNNING and states(d) == [R]
        # The wave's targets run the new version from its run on; its health check is to come.
        assert d.stages[0].waves[wave].state is P
        assert d.stages[0].waves[wave].health is W
        assert d.stages[0].targets_done() == done_after_wave[wave]
        # its health check after the bake
        assert step_of(d) == Step(StepKind.HEALTH, wave, due_at=now + BAKE,
                                  deadline=now + BAKE + TIMEOUT)
        assert d.next_deadline() == now + BAKE
        now += BAKE
        t = finish(d, now, ok("p99 ok"))
        d = t.deployment
        assert d.stages[0].waves[wave].state is P and d.stages[0].waves[wave].health is P
        assert d.stages[0].targets_done() == done_after_wave[wave]
        assert d.stages[0].targets_total() == 4
        if wave < 2:
            assert kinds(t) == ["health_passed"]
            assert d.state is DeploymentState.RUNNING and states(d) == [R]
    assert kinds(t) == ["health_passed", "succeeded"]
    assert t.events[0].wave == 3
    assert d.state is DeploymentState.SUCCEEDED and states(d) == [P]
    assert d.finished_at == d.stages[0].finished_at == now


def test_a_rollout_does_not_succeed_when_its_last_wave_ran_but_is_unchecked() -> None:
    d = begin(rollout(waves=("100%",), targets=3))
    d = finish(d, NOW).deployment
    assert d.state is DeploymentState.RUNNING
    assert step_of(d).kind is StepKind.HEALTH
    assert d.stages[0].targets_done() == 3  # deployed, yet not a success before its check


def test_a_rollout_without_health_checks_moves_wave_to_wave() -> None:
    d = begin(rollout(targets=4, health=False), stage("announce"))
    for wave, done in enumerate([1, 2, 4]):
        assert step_of(d).kind is StepKind.RUN and step_of(d).wave == wave
        d = finish(d, at(wave)).deployment
        assert d.stages[0].targets_done() == done
        assert d.stages[0].waves[wave].health is None
    assert states(d) == [P, R]
    assert d.state is DeploymentState.RUNNING


def test_a_standard_rollout_over_120_targets() -> None:
    d = begin(rollout(waves=("1", "10%", "50%", "100%"), targets=120))
    progress = []
    now = NOW
    while d.state is DeploymentState.RUNNING:
        d = finish(d, now).deployment                  # run
        now += BAKE
        d = finish(d, now).deployment                  # health
        progress.append(d.stages[0].targets_done())
    assert progress == [1, 12, 60, 120]
    assert d.state is DeploymentState.SUCCEEDED


def test_a_rollout_over_named_targets() -> None:
    d = begin(rollout(waves=("1", "100%"), targets=("web-a", "web-b", "web-c")))
    assert [w.targets for w in d.stages[0].waves] == [("web-a",), ("web-b", "web-c")]


def to_wave(d: Deployment, wave: int) -> tuple[Deployment, datetime]:
    """Pass the runs and health checks of the waves before ``wave``; its run is due at the time
    returned."""
    now = NOW
    for _ in range(wave):
        d = finish(d, now).deployment
        now += BAKE
        d = finish(d, now).deployment
    assert step_of(d).kind is StepKind.RUN and step_of(d).wave == wave and step_of(d).due_at == now
    return d, now


@pytest.mark.parametrize(
    ("policy", "wave", "rollback"),
    [
        (OnFailure.HALT, 0, ()),
        (OnFailure.HALT, 1, ()),
        (OnFailure.HALT, 2, ()),
        (OnFailure.ROLLBACK, 0, ("1",)),
        (OnFailure.ROLLBACK, 1, ("1", "2")),
        (OnFailure.ROLLBACK, 2, ("1", "2", "3", "4")),  # a failure on the last wave is no success
    ],
)
def test_a_failing_wave_run_halts_the_rollout(policy: OnFailure, wave: int,
                                              rollback: tuple[str, ...]) -> None:
    d, now = to_wave(begin(rollout(on_failure=policy), stage("announce")), wave)
    t = finish(d, now, bad("3 hosts unreachable"))
    d = t.deployment
    assert d.state is DeploymentState.FAILED
    assert states(d) == [F, S]
    assert d.stages[0].waves[wave].state is F
    assert all(w.state is W for w in d.stages[0].waves[wave + 1:])
    assert d.stages[0].targets_done() == [0, 1, 2][wave]
    assert d.stop == Stop(StopKind.FAILED, "prod", reason="3 hosts unreachable", wave=wave + 1)
    assert kinds(t) == ["failed"] and t.events[0].wave == wave + 1
    assert t.rollback_targets == rollback
    assert not t.kill


@pytest.mark.parametrize(
    ("policy", "wave", "rollback"),
    [
        (OnFailure.HALT, 1, ()),
        (OnFailure.HALT, 2, ()),
        (OnFailure.ROLLBACK, 0, ("1",)),
        (OnFailure.ROLLBACK, 1, ("1", "2")),
        (OnFailure.ROLLBACK, 2, ("1", "2", "3", "4")),  # the last health check fails: no success
    ],
)
def test_a_failing_health_check_halts_the_rollout(policy: OnFailure, wave: int,
                                                  rollback: tuple[str, ...]) -> None:
    d, now = to_wave(begin(rollout(on_failure=policy)), wave)
    d = finish(d, now).deployment  # the wave ran
    t = finish(d, now + BAKE, bad("error rate 7%"))
    d = t.deployment
    assert d.state is DeploymentState.FAILED
    assert states(d) == [F]
    assert d.stages[0].waves[wave].health is F
    assert d.stages[0].waves[wave].state is P  # its run passed: its targets run the new version
    assert d.stages[0].targets_done() == [1, 2, 4][wave]
    assert d.stop == Stop(StopKind.FAILED, "prod", reason="error rate 7%", health=True,
                          wave=wave + 1)
    assert t.rollback_targets == rollback


def test_rollback_on_failure_of_a_stage_without_waves_has_no_targets() -> None:
    t = finish(begin(stage("build", on_failure=OnFailure.ROLLBACK)), NOW, bad())
    assert t.deployment.state is DeploymentState.FAILED
    assert t.rollback_targets == ()


# ── time ─────────────────────────────────────────────────────────────────────────────────────

def test_a_launched_step_past_its_deadline_times_out() -> None:
    d = launched(begin(stage("build"), stage("test")))
    t = time_out(d, NOW + TIMEOUT)
    d = t.deployment
    assert d.state is DeploymentState.FAILED
    assert d.finished_at == NOW + TIMEOUT
    assert states(d) == [TO, S]
    assert t.kill
    assert kinds(t) == ["timed_out"]
    assert d.stop == Stop(StopKind.TIMED_OUT, "build", waited=TIMEOUT)


def test_an_accepted_webhook_without_a_callback_times_out() -> None:
    d = report(launched(begin(stage("build"))), StepResult(True, accepted=True), at(1)).deployment
    t = time_out(d, NOW + TIMEOUT + timedelta(minutes=1))
    assert states(t.deployment) == [TO] and t.kill


def test_time_out_before_the_deadline_is_stale() -> None:
    d = launched(begin(stage("build")))
    with pytest.raises(StaleResult):
        time_out(d, NOW + TIMEOUT - timedelta(seconds=1))


def test_time_out_without_a_launched_step_is_stale() -> None:
    with pytest.raises(StaleResult):
        time_out(begin(stage("build")), NOW + 2 * TIMEOUT)
    with pytest.raises(StaleResult):
        time_out(at_gate(), NOW + timedelta(days=3))
    with pytest.raises(StaleResult):
        time_out(finish(begin(stage("build"))).deployment, NOW + 2 * TIMEOUT)


def test_a_timed_out_wave_is_rolled_back_with_the_waves_before() -> None:
    d, now = to_wave(begin(rollout(on_failure=OnFailure.ROLLBACK)), 1)
    d = launched(finish(d, now).deployment, now + BAKE)  # wave 2's health check is running
    assert step_of(d).deadline == now + BAKE + TIMEOUT
    with pytest.raises(StaleResult):
        time_out(d, now + BAKE + TIMEOUT - timedelta(seconds=1))
    t = time_out(d, now + BAKE + TIMEOUT)
    assert t.deployment.stages[0].waves[1].health is TO
    assert states(t.deployment) == [TO]
    assert t.kill
    assert t.rollback_targets == ("1", "2")


def test_a_lost_step_fails_and_is_not_run_again() -> None:
    d = launched(begin(stage("build"), stage("test")))
    t = lost(d, at(3))
    d = t.deployment
    assert d.state is DeploymentState.FAILED
    assert states(d) == [F, S]
    assert d.stop == Stop(StopKind.LOST, "build")
    assert d.stages[0].detail == d.detail
    assert kinds(t) == ["failed"] and from_text(t.events[0].detail) == d.stop
    assert not t.kill


def test_a_lost_step_that_was_never_launched_is_stale() -> None:
    with pytest.raises(StaleResult):
        lost(begin(stage("build")), at(3))
    with pytest.raises(StaleResult):
        lost(at_gate(), at(3))


def test_what_a_running_step_started_elsewhere_is_kept_with_it_and_only_with_it() -> None:
    d = launched(begin(stage("build"), stage("test")))
    step = d.stages[0].step
    assert step is not None
    kept = followed(d, 0, step.kind, step.wave, "acme/churn#42")
    assert kept.stages[0].step == replace(step, follow="acme/churn#42")
    with pytest.raises(StaleResult):  # another stage, or one not launched: not the running step
        followed(d, 1, step.kind, step.wave, "acme/churn#42")
    with pytest.raises(StaleResult):
        followed(begin(stage("build")), 0, step.kind, step.wave, "acme/churn#42")


# ── next_deadline ────────────────────────────────────────────────────────────────────────────

def test_next_deadline_of_a_waiting_gate_is_telling_then_reminding_then_its_expiry() -> None:
    d = at_gate()
    assert d.next_deadline() == at(1)
    d = tell(d, ("U0OWNER",), at(1)).deployment
    for n in range(1, 6):  # every 4 hours until the 24-hour expiry
        assert d.next_deadline() == at(1) + timedelta(hours=4 * n)
        d = remind(d, d.next_deadline() or NOW).deployment
    assert d.next_deadline() == at(1) + timedelta(hours=24)


def test_next_deadline_of_an_unlaunched_step_is_when_it_is_due() -> None:
    assert begin(stage("build")).next_deadline() == NOW
    baking = finish(begin(rollout()), NOW).deployment
    assert baking.next_deadline() == NOW + BAKE


def test_next_deadline_of_a_launched_step_is_its_timeout() -> None:
    assert launched(begin(stage("build"))).next_deadline() == NOW + TIMEOUT


def test_next_deadline_after_the_end_is_none() -> None:
    d = begin(stage("build"))
    assert finish(d).deployment.next_deadline() is None
    assert finish(d, NOW, bad()).deployment.next_deadline() is None
    assert cancel(d, ALICE, "", NOW).deployment.next_deadline() is None


# ── rollback_version ─────────────────────────────────────────────────────────────────────────

def past(version: str, state: DeploymentState, pipeline: str = "standard") -> Deployment:
    return Deployment(use_case="churn", version=version, pipeline=pipeline,
                      requested_by=REQUESTER, requested_at=NOW, channel_id="C0CHURN",
                      stages=(), state=state, finished_at=NOW)


OK_, FAIL, CANC = DeploymentState.SUCCEEDED, DeploymentState.FAILED, DeploymentState.CANCELLED


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], None),
        ([("v2", OK_), ("v1", OK_)], "v1"),                       # after v2 succeeded: back to v1
        ([("v2", FAIL), ("v1", OK_)], "v1"),                      # after v2 failed: the last good
        ([("v3", OK_), ("v2", OK_), ("v1", OK_)], "v2"),          # newest first
        ([("v2", OK_)], None),
        ([("v2", FAIL)], None),
        ([("v4", FAIL), ("v3", CANC), ("v2", DeploymentState.EXPIRED),
          ("v2", DeploymentState.REJECTED), ("v1", OK_)], "v1"),  # skips what did not succeed
        ([("v2", OK_), ("v2", OK_), ("v2", FAIL)], None),         # all the same version
    ],
)
def test_rollback_version(history: list[tuple[str, DeploymentState]], expected: str | None) -> None:
    assert rollback_version([past(v, s) for v, s in history], "standard") == expected


def test_a_rollback_goes_back_only_to_what_succeeded_in_production_of_its_own_pipeline() -> None:
    # A sandbox pipeline's success (whatever it deployed) is never a version to roll back to.
    history = [past("6.6.6-evil", OK_, "sandbox"), past("1.0", OK_)]
    assert rollback_version(history, "standard") is None
    history = [past("6.6.6-evil", OK_, "sandbox"), past("2.0", FAIL), past("1.0", OK_)]
    assert rollback_version(history, "standard") == "1.0"
    assert rollback_version(history, "sandbox") is None


def test_a_rollback_goes_back_from_what_production_got_last_whichever_pipeline_put_it_there() -> None:
    # A canary pipeline halted with 2.0.1 on half the targets: the standard pipeline's newest
    # deployment (1.0, a rollback) is not what production got last, 2.0.1 is.
    history = [past("1.0", OK_), past("2.0", FAIL), past("1.0", OK_)]
    assert rollback_version(history, "standard") is None
    assert rollback_version(history, "standard", current="2.0.1") == "1.0"


def test_after_a_night_the_bot_was_down_a_gate_is_nudged_once_not_in_a_burst() -> None:
    d = tell(at_gate(), ("U0OWNER",), at(1)).deployment
    late = at(1) + timedelta(hours=13)  # three intervals went by unsaid
    d = remind(d, late).deployment
    assert d.stages[1].reminded == 1
    assert d.next_deadline() == late + timedelta(hours=4)
    with pytest.raises(StaleResult):
        remind(d, late + timedelta(minutes=1))


def _commit(sha: str) -> Change:
    return Change(ChangeKind.COMMIT, sha, NOW)


def test_what_production_got_is_the_deployments_change_else_the_first_learnt() -> None:
    """Staging built main at one commit; by the time production ran, main had moved on: what
    runs in production is production's commit. A stage before it only fills in what is unknown."""
    d = finish(begin(stage("staging"), stage("production")), at(1),
               StepResult(True, change=_commit("a" * 40))).deployment
    assert d.change == _commit("a" * 40)
    d = finish(d, at(2), StepResult(True, change=_commit("b" * 40))).deployment
    assert d.state is DeploymentState.SUCCEEDED and d.change == _commit("b" * 40)
    given = replace(begin(stage("staging"), stage("production")), change=_commit("c" * 40))
    assert finish(given, at(1), StepResult(True, change=_commit("a" * 40))).deployment.change \
        == _commit("c" * 40)  # what CI said stands against a stage before production
