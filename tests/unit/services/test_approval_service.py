"""Approval gates (bot/services/approvals.py): no self-approval, the quorum, a rejection's
reason, eligibility by name or by the user-group membership passed in — on the in-memory
storage, with Slack's user groups as a dict."""

from __future__ import annotations

import pytest

from bot.domain.approvers import Approvers
from bot.domain.deployment_machine import StaleResult
from bot.domain.deployment_model import DeploymentState
from bot.domain.executor_specs import DryRunSpec
from bot.domain.pipeline import ApprovalSpec, Pipeline, PipelineSet, StageSpec
from bot.domain.usecases import Conflict, DomainError, NotAllowed, Role, TeamMember
from bot.render import refusals
from bot.services.approvals import RETRIES, ApprovalService
from bot.services.commands import StartDeployment
from bot.services.deployments import DeploymentService
from bot.services.events import DeploymentChanged
from tests.fakes.directory import FakeGroups
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import (
    ADMIN,
    ENGINEER,
    OUTSIDER,
    OWNER,
    actor,
    button,
    deployments,
    raced,
    seed,
    texts,
)

APPROVER, RELEASE_MANAGER = "U_APP", "U_REL"
DRY = DryRunSpec()
NAMED = ApprovalSpec(required=2, approvers=(ENGINEER, APPROVER, "@release"))
PIPELINES = PipelineSet({"named": Pipeline("named", (StageSpec("prod", DRY, approval=NAMED),)),
                         "owner": Pipeline("owner", (StageSpec("prod", DRY, approval=ApprovalSpec()),))},
                        default="named")


def approvals(db: InMemoryDatabase, groups: FakeGroups | None = None) -> ApprovalService:
    groups = groups or FakeGroups({"@release": frozenset({RELEASE_MANAGER})})
    deploys = DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}),
                                groups=groups)
    return ApprovalService(db.uow, db.clock, groups, deploys, "UTC", frozenset({ADMIN}))


async def requested(db: InMemoryDatabase, pipeline: str = "named") -> ApprovalService:
    """churn, deployed by its data engineer, waiting at the gate of ``pipeline``."""
    await seed(db, team=(TeamMember(ENGINEER, Role.DATA_ENGINEER),))
    service = approvals(db)
    await service.deployments.execute(StartDeployment("churn", "v1", pipeline), actor(ENGINEER))
    return service


async def votes(db: InMemoryDatabase) -> list[tuple[str, bool]]:
    [d] = await deployments(db)
    return [(v.user_id, v.approve) for v in d.stages[0].votes]


async def test_whoever_requested_it_may_not_approve_it_even_if_named(db: InMemoryDatabase) -> None:
    service = await requested(db)
    with pytest.raises(NotAllowed) as refused:
        await service.approve(button(db, "approve"), actor(ENGINEER))
    assert refused.value.key == "own_deployment"
    assert await votes(db) == []


async def test_only_named_approvers_and_group_members_may_approve(db: InMemoryDatabase) -> None:
    service = await requested(db)
    with pytest.raises(NotAllowed) as refused:
        await service.approve(button(db, "approve"), actor(OWNER))  # the owner is not named here
    assert (refused.value.key, refused.value.facts["stage"]) == ("may_not_approve", "prod")
    assert refused.value.facts["approvers"] == Approvers(users=(APPROVER,), groups=("@release",),
                                                         excluded=ENGINEER)  # told whom to ask
    await service.approve(button(db, "approve"), actor(RELEASE_MANAGER))  # in @release
    assert await votes(db) == [(RELEASE_MANAGER, True)]


async def test_the_gate_passes_at_its_quorum_with_one_vote_per_person(db: InMemoryDatabase) -> None:
    service = await requested(db)
    db.published.clear()
    reply = await service.approve(button(db, "approve"), actor(APPROVER))
    [d] = await deployments(db)
    assert (d.state, len(d.stages[0].approvals)) == (DeploymentState.AWAITING_APPROVAL, 1)
    assert (reply.deployment_id, reply.stage) == (d.id, "prod")
    with pytest.raises(Conflict) as again:
        await service.approve(button(db, "approve"), actor(APPROVER))
    assert again.value.key == "already_voted"
    await service.approve(button(db, "approve"), actor(RELEASE_MANAGER))
    [d] = await deployments(db)
    assert d.state is DeploymentState.RUNNING  # 2 of 2: the stage runs
    async with db.uow() as uow:
        kinds = [e.kind for e in await uow.deployments.events(d.id or 0)]
    assert kinds[-3:] == ["approved", "approved", "gate_passed"]
    assert db.published.count(DeploymentChanged(d.id or 0)) == 2  # one per committed vote


async def test_a_rejection_needs_a_reason_and_ends_the_deployment(db: InMemoryDatabase) -> None:
    service = await requested(db)
    with pytest.raises(NotAllowed) as refused:
        await service.reject(button(db, "reject"), actor(OUTSIDER), "no")
    assert (refused.value.key, refused.value.facts["stage"]) == ("may_not_reject", "prod")
    with pytest.raises(DomainError) as bad:
        await service.reject(button(db, "reject"), actor(APPROVER), "  ")
    assert bad.value.key == "reason_required"
    await service.reject(button(db, "reject"), actor(APPROVER), "tests are red")
    [d] = await deployments(db)
    assert d.state is DeploymentState.REJECTED and "tests are red" in d.detail
    assert "rejected" in texts(db)[-1]  # the closing announcement
    with pytest.raises(StaleResult) as stale:
        await service.approve(button(db, "approve"), actor(APPROVER))
    assert stale.value.key == "button_ended"


async def test_the_reject_dialog_opens_only_for_those_who_may_reject(db: InMemoryDatabase) -> None:
    service = await requested(db)
    with pytest.raises(NotAllowed) as refused:
        await service.check_reject(button(db, "reject"), actor(OUTSIDER))
    assert (refused.value.key, refused.value.facts["stage"]) == ("may_not_reject_yet", "prod")
    gate = await service.check_reject(button(db, "reject"), actor(RELEASE_MANAGER))
    assert (gate.slug, gate.version, gate.stage) == ("churn", "v1", "prod")


async def test_without_named_approvers_the_owner_or_an_admin_decides(db: InMemoryDatabase) -> None:
    service = await requested(db, "owner")
    with pytest.raises(NotAllowed) as refused:
        await service.approve(button(db, "approve"), actor(OUTSIDER))
    assert refusals.said(refused.value).startswith(
        "Only the owner <@U_OWNER> or an admin (<@U_ADMIN>) may approve")
    await service.approve(button(db, "approve"), actor(ADMIN))
    assert (await deployments(db))[0].state is DeploymentState.RUNNING


async def test_membership_is_what_the_group_directory_says(db: InMemoryDatabase) -> None:
    await requested(db)
    nobody = approvals(db, FakeGroups({"@release": frozenset()}))
    with pytest.raises(NotAllowed):
        await nobody.approve(button(db, "approve"), actor(RELEASE_MANAGER))
    assert await votes(db) == []


async def test_the_cancel_button_cancels_and_an_unknown_button_is_stale(db: InMemoryDatabase) -> None:
    service = await requested(db)
    with pytest.raises(StaleResult) as stale:
        await service.approve("made-up", actor(APPROVER))
    assert stale.value.key == "button_unknown"
    await service.cancel(button(db, "cancel"), actor(ENGINEER))
    assert (await deployments(db))[0].state is DeploymentState.CANCELLED


async def test_votes_that_keep_colliding_ask_to_try_again(db: InMemoryDatabase) -> None:
    service = await requested(db)
    token = button(db, "approve")

    async def rival_vote() -> None:  # a vote by someone else commits first, every time
        async with db.uow() as uow:
            [d] = await uow.deployments.history("churn")
            await uow.deployments.save(d)
            await uow.commit()

    service.uow = raced(db, rival_vote, times=RETRIES)
    with pytest.raises(DomainError) as refused:
        await service.approve(token, actor(APPROVER))
    assert refused.value.key == "too_many_clicks"
    assert await votes(db) == []
