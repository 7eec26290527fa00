"""`/deploy changes` (bot/services/deploy_changes.py) on the in-memory storage, with GitHub and
MLflow stood in for by recorders: what is compared with what, and when it is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.change_results import (
    ChangesUnknown,
    CommitChanges,
    CommitLine,
    Comparison,
    ModelChanges,
    Unknowable,
)
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import Deployment, DeploymentState
from bot.domain.executor_specs import GithubActionsSpec, MlflowSpec, WebhookSpec
from bot.domain.kpis import SourceFailure
from bot.domain.pipeline import ExecutorSpec, StageSpec
from bot.domain.production import UNKNOWN, Running
from bot.domain.registry import ModelVersion
from bot.domain.usecases import Conflict
from bot.render import change_replies
from bot.render.refusals import said
from bot.services.commands import ShowChanges
from bot.services.deploy_changes import ChangeService
from tests.fakes.uow import InMemoryDatabase
from tests.unit.services.support import CHANNEL, OUTSIDER, OWNER, actor, seed

ACTIONS = GithubActionsSpec(repo="acme/churn", workflow="deploy.yml", ref="release")
SHA_1, SHA_2, SHA_3 = "1" * 40, "2" * 40, "3" * 40


class Commits:
    def __init__(self, failure: str = "") -> None:
        self.asked: list[tuple[str, str, str]] = []
        self.failure = failure

    async def compare(self, repo: str, base: str, head: str) -> Comparison:
        self.asked.append((repo, base, head))
        if self.failure:
            raise SourceFailure(self.failure)
        return Comparison(3, 0, (CommitLine("a" * 40, "Add tenure", "mona"),),
                          "https://github.com/acme/churn/compare/x...y")


class Registry:
    def __init__(self, newest: int = 9, failure: str = "") -> None:
        self.newest, self.failure = newest, failure

    async def recent_versions(self, model: str, limit: int = 10) -> list[ModelVersion]:
        if self.failure:
            raise SourceFailure(self.failure)
        return [ModelVersion(model, str(n), "READY") for n in range(self.newest, 0, -1)][:limit]

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        return {}

    async def alias_now(self, model: str, alias: str) -> str | None:
        return None


async def deployed(db: InMemoryDatabase, version: str, spec: ExecutorSpec, change: Change | None,
                   *, placement: tuple[tuple[str, int | None], ...] = ()) -> int:
    """A finished deployment of ``version`` whose production stage ran ``spec``; production is
    ``version`` everywhere, or ``placement`` (version, deployment) groups."""
    from bot.domain.deployment_model import StageRun

    d = Deployment("churn", version, "release", OWNER, db.clock.now(), CHANNEL,
                   (StageRun(StageSpec("production", spec)),), DeploymentState.SUCCEEDED,
                   finished_at=db.clock.now(), change=change)
    async with db.uow() as uow:
        added = await uow.deployments.add(d)
        assert added.id is not None
        groups = placement or ((version, added.id),)
        runs = tuple(Running(v, (f"web-{i}",), db.clock.now(), n) for i, (v, n) in enumerate(groups))
        await uow.deployments.save(replace(added, production=runs))
        await uow.commit()
    return added.id


def commit(sha: str) -> Change:
    return Change(ChangeKind.COMMIT, sha, None, f"https://github.com/acme/churn/commit/{sha}")


def model(version: int) -> Change:
    return Change(ChangeKind.MODEL_VERSION, str(version))


async def test_commits_are_counted_from_production_to_the_branch_it_deploys(db: InMemoryDatabase) -> None:
    await seed(db)
    first = await deployed(db, "1.0.0", ACTIONS, commit(SHA_1))
    commits = Commits()

    found = await ChangeService(db.uow, commits, None).changes(ShowChanges("churn"), actor(OUTSIDER))

    assert isinstance(found, CommitChanges)
    assert commits.asked == [("acme/churn", SHA_1, "release")]
    assert (found.production.version, found.production.deployment_id) == ("1.0.0", first)
    assert found.comparison.ahead == 3 and found.head == "release"
    assert "3 changes not yet in production" in change_replies.reply(found).text


async def test_a_version_deployed_before_or_a_sha_is_compared_with_its_commit(db: InMemoryDatabase) -> None:
    await seed(db)
    await deployed(db, "1.1.0", ACTIONS, commit(SHA_2))
    await deployed(db, "1.0.0", ACTIONS, commit(SHA_1))  # rolled back: production runs 1.0.0
    commits = Commits()
    service = ChangeService(db.uow, commits, None)

    named = await service.changes(ShowChanges("churn", "1.1.0"), actor(OWNER))
    by_sha = await service.changes(ShowChanges("churn", SHA_3[:10]), actor(OWNER))
    plain = await service.changes(ShowChanges("churn", "2.0.0"), actor(OWNER))

    assert commits.asked == [("acme/churn", SHA_1, SHA_2), ("acme/churn", SHA_1, SHA_3[:10])]
    assert isinstance(named, CommitChanges) and named.head == "1.1.0"
    assert isinstance(by_sha, CommitChanges)
    assert isinstance(plain, ChangesUnknown) and plain.why is Unknowable.VERSION
    assert "the bot does not know what `2.0.0` contains" in change_replies.reply(plain).text


async def test_a_rollout_left_in_a_mix_counts_from_the_oldest_version_running(db: InMemoryDatabase) -> None:
    await seed(db)
    older = await deployed(db, "1.0.0", ACTIONS, commit(SHA_1))
    await deployed(db, "1.1.0", ACTIONS, commit(SHA_2),
                   placement=(("1.1.0", older + 1), (UNKNOWN, None), ("1.0.0", older)))
    commits = Commits()

    found = await ChangeService(db.uow, commits, None).changes(ShowChanges("churn"), actor(OWNER))

    assert isinstance(found, CommitChanges)
    assert found.production.version == "1.0.0" and found.production.mixed
    assert commits.asked == [("acme/churn", SHA_1, "release")]


async def test_plain_string_versions_are_said_to_be_unknowable(db: InMemoryDatabase) -> None:
    await seed(db)
    await deployed(db, "2024-q3", WebhookSpec("https://ci.example/deploy"), None)

    found = await ChangeService(db.uow, Commits(), Registry()).changes(ShowChanges("churn"), actor(OWNER))

    assert isinstance(found, ChangesUnknown) and found.why is Unknowable.PRODUCTION
    assert "the bot does not know what production's `2024-q3` contains" in change_replies.reply(found).text


async def test_model_versions_between_production_and_the_newest(db: InMemoryDatabase) -> None:
    uc = await seed(db)
    async with db.uow() as uow:
        await uow.use_cases.save(replace(uc, model="churn-model"))
        await uow.commit()
    await deployed(db, "4", MlflowSpec(alias="champion"), model(4))
    service = ChangeService(db.uow, None, Registry(newest=20))

    newest = await service.changes(ShowChanges("churn"), actor(OWNER))
    upto = await service.changes(ShowChanges("churn", "6"), actor(OWNER))

    assert isinstance(newest, ModelChanges) and isinstance(upto, ModelChanges)
    assert newest.model == "churn-model" and newest.head == "20"
    assert [v.version for v in newest.versions] == [str(n) for n in range(20, 10, -1)]
    assert newest.more == 6  # 16 newer than v4: ten listed
    assert [v.version for v in upto.versions] == ["6", "5"] and upto.more == 0
    assert "16 changes not yet in production" in change_replies.reply(newest).text


async def test_refusals_say_what_is_wrong_and_what_to_do(db: InMemoryDatabase) -> None:
    await seed(db)
    nothing = ChangeService(db.uow, Commits(), None)
    with pytest.raises(Conflict) as empty:
        await nothing.changes(ShowChanges("churn"), actor(OWNER))
    await deployed(db, "1.0.0", ACTIONS, commit(SHA_1))
    with pytest.raises(Conflict) as down:
        await ChangeService(db.uow, Commits("cannot connect to api.github.com:443"), None).changes(
            ShowChanges("churn"), actor(OWNER))
    with pytest.raises(Conflict) as no_token:
        await ChangeService(db.uow, None, None).changes(ShowChanges("churn"), actor(OWNER))

    assert empty.value.key == "changes_nothing_in_production"
    assert "Nothing of `churn` runs in production yet" in said(empty.value)
    assert down.value.key == "changes_github_unreachable"
    assert "cannot connect to api.github.com:443" in said(down.value)
    assert "BIZDEVOPS_GITHUB_TOKEN" in said(down.value)
    assert no_token.value.key == "changes_github_not_configured"


async def test_mlflow_not_answering_is_refused_saying_what_to_check(db: InMemoryDatabase) -> None:
    uc = await seed(db)
    async with db.uow() as uow:
        await uow.use_cases.save(replace(uc, model="churn-model"))
        await uow.commit()
    await deployed(db, "4", MlflowSpec(alias="champion"), model(4))

    with pytest.raises(Conflict) as down:
        await ChangeService(db.uow, None, Registry(failure="MLflow answered HTTP 503")).changes(
            ShowChanges("churn"), actor(OWNER))

    assert down.value.key == "changes_mlflow_unreachable"
    assert "MLflow answered HTTP 503" in said(down.value) and "BIZDEVOPS_MLFLOW_URL" in said(down.value)
