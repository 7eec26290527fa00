"""The storage contract, changes: what a deployment's version is (a commit, a model version)
comes back as it was stored — given when requested (the deployments API) or learnt as it ran —
and a deployment that knows none stays without one; on the in-memory twin, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain import deployment_machine as machine
from bot.domain import usecases
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import Deployment
from bot.domain.executor_specs import DryRunSpec
from bot.domain.pipeline import ApprovalSpec, Pipeline, StageSpec
from tests.integration.conftest import START, Store

ALICE, BOB = "U_ALICE", "U_BOB"
GATED = Pipeline("gated", (StageSpec("prod", DryRunSpec(), approval=ApprovalSpec()),))
SHA = "3f9c2a1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b"
COMMIT = Change(ChangeKind.COMMIT, SHA, START - timedelta(days=2, microseconds=-123456),
                f"https://github.com/acme/churn/commit/{SHA}")
MODEL = Change(ChangeKind.MODEL_VERSION, "7", START - timedelta(hours=5),
               "https://mlflow.example/#/models/churn/versions/7", run_id="a1b2c3d4e5f6")


async def _with_use_cases(store: Store) -> None:
    async with store.uow() as uow:
        for slug in ("churn", "fraud", "ranker"):
            await uow.use_cases.add(usecases.create(slug, slug, creator_id=ALICE,
                                                    channel_id=f"C_{slug.upper()}", now=START))
        await uow.commit()


def _requested(slug: str, change: Change | None = None) -> Deployment:
    d = machine.request(use_case=slug, version="v1", pipeline=GATED, requested_by=ALICE,
                        channel_id=f"C_{slug.upper()}", now=START).deployment
    return replace(d, change=change)


async def _stored(store: Store, deployment_id: int | None) -> Deployment:
    async with store.uow() as uow:
        found = await uow.deployments.get(deployment_id or 0)
    assert found is not None
    return found


async def test_a_change_comes_back_as_stored_and_none_stays_none(store: Store) -> None:
    await _with_use_cases(store)
    async with store.uow() as uow:
        given = await uow.deployments.add(_requested("churn", COMMIT))   # as the API requests it
        learnt = await uow.deployments.add(_requested("fraud"))          # an executor tells later
        unknown = await uow.deployments.add(_requested("ranker"))        # a plain version string
        await uow.commit()
    assert (await _stored(store, learnt.id)).change is None
    async with store.uow() as uow:
        await uow.deployments.save(replace(learnt, change=MODEL))
        saved = await uow.deployments.save(
            machine.cancel(unknown, BOB, "", START + timedelta(hours=1)).deployment)
        await uow.commit()
    assert (await _stored(store, given.id)).change == COMMIT
    assert (await _stored(store, learnt.id)).change == MODEL
    assert (await _stored(store, saved.id)).change is None
    async with store.uow() as uow:
        history = await uow.deployments.history("fraud")
    assert [d.change for d in history] == [MODEL]


async def test_a_change_without_time_link_or_run_keeps_them_empty(store: Store) -> None:
    await _with_use_cases(store)
    bare = Change(ChangeKind.COMMIT, "abc1234")
    async with store.uow() as uow:
        d = await uow.deployments.add(_requested("churn", bare))
        await uow.commit()
    stored = (await _stored(store, d.id)).change
    assert stored == bare and (stored.at, stored.url, stored.run_id) == (None, None, "")
