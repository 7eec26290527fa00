"""Who may start which pipeline (a pipeline's `allowed`): team roles, user groups and user IDs;
admins always; refusals name who may — on the in-memory storage."""

from __future__ import annotations

import pytest

from bot.domain.deploy_results import DeploymentStarted
from bot.domain.executor_specs import DryRunSpec
from bot.domain.pipeline import Pipeline, PipelineSet, StageSpec
from bot.domain.usecases import NotAllowed, Role, TeamMember
from bot.render.refusals import said
from bot.services.commands import StartDeployment
from bot.services.deployments import DeploymentService
from tests.fakes.directory import FakeGroups
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import ADMIN, ENGINEER, OUTSIDER, OWNER, SCIENTIST, actor, seed

DRY = (StageSpec("prod", DryRunSpec()),)
PIPELINES = PipelineSet({
    "guarded": Pipeline("guarded", DRY, allowed=("devops", "@release-managers", OUTSIDER)),
    "open": Pipeline("open", DRY)}, default="guarded")
RELEASE_MANAGER = "U_RM"


def service(db: InMemoryDatabase) -> DeploymentService:
    groups = FakeGroups({"@release-managers": frozenset({RELEASE_MANAGER})})
    return DeploymentService(db.uow, db.clock, PIPELINES, "UTC", admins=frozenset({ADMIN}),
                             groups=groups)


@pytest.fixture(autouse=True)
async def churn(db: InMemoryDatabase) -> None:
    await seed(db, team=(TeamMember(ENGINEER, Role.DEVOPS), TeamMember(SCIENTIST, Role.DATA_SCIENTIST)))


@pytest.mark.parametrize("user", [ENGINEER, RELEASE_MANAGER, OUTSIDER, ADMIN])
async def test_a_role_a_group_a_user_id_and_admins_may_start_it(db: InMemoryDatabase,
                                                                user: str) -> None:
    started = await service(db).execute(StartDeployment("churn", "1.0"), actor(user))
    assert isinstance(started, DeploymentStarted) and started.version == "1.0"


@pytest.mark.parametrize("user", [OWNER, SCIENTIST])
async def test_anyone_else_is_told_who_may(db: InMemoryDatabase, user: str) -> None:
    with pytest.raises(NotAllowed) as refused:
        await service(db).execute(StartDeployment("churn", "1.0"), actor(user))
    assert said(refused.value) == (
        f"Only admins, the team's devops engineers, @release-managers or <@{OUTSIDER}> may start "
        "the `guarded` pipeline of `churn`.")


async def test_without_allowed_the_deployers_may_start_it(db: InMemoryDatabase) -> None:
    started = await service(db).execute(StartDeployment("churn", "1.0", "open"), actor(OWNER))
    assert isinstance(started, DeploymentStarted)
    with pytest.raises(NotAllowed) as refused:
        await service(db).execute(StartDeployment("churn", "1.1", "open"), actor(OUTSIDER))
    assert refused.value.key == "deployers_only" and refused.value.facts["team"] == (ENGINEER,)
    assert "the team's data engineers and devops engineers" in said(refused.value)
