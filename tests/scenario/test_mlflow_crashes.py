"""A `bizdevops serve` process SIGKILLed while MLflow has its request, against a real MLflow
server: the process started after it (on the same SQLite file) finishes the job.

A holding proxy between the bots and MLflow forwards (or not) one chosen request and never
answers it; process A is killed right then, process B is started (lease 5 s) and must:

- an alias move in flight: fail the deployment and put *every* alias it moved back (the one
  whose move was cut short too), saying so in the thread;
- a put-back in flight: finish putting back every alias (the cut one and the ones after it),
  saying so in the thread and in the audit trail (``undone`` events);
- a new version's announcement in flight: announce it, once, when MLflow delivers it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.scenario.crash_support import (
    LEASE_SECONDS,
    Hold,
    Rig,
    deliver,
    events_of,
    eventually,
    rig,
    state_of,
    thread_of,
    version_created,
)
from tests.scenario.scale_support import deployment_id_of
from tests.servers.mlflow import MlflowServer

pytestmark = pytest.mark.mlflow

PY = sys.executable
BUDGET = 38.0  # seconds for a whole scenario
SMOKE = "import sys; sys.exit(0 if sys.argv[1] != '2' else 1)"  # version 2 fails its smoke test
PUT_BACK = "back at v1"


def pipeline(*, smoke: bool) -> str:
    text = """
[pipelines.model]
[[pipelines.model.stages]]
name = "challenger"
run = { executor = "mlflow", alias = "challenger" }
[[pipelines.model.stages]]
name = "champion"
run = { executor = "mlflow", alias = "champion" }
"""
    if smoke:
        argv = json.dumps([PY, "-c", SMOKE, "{version}"])
        text += f"""[[pipelines.model.stages]]
name = "smoke"
run = {{ executor = "command", argv = {argv} }}
"""
    return text


async def _deploy_v1(r: Rig, deadline: float) -> None:
    """Versions 1 and 2 in MLflow; v1 deployed by process A: both aliases at v1."""
    for _ in range(2):
        await asyncio.to_thread(r.model.version)
    first = deployment_id_of(await r.command("/deploy churn 1", r.processes[0]))

    async def done() -> bool:
        return await state_of(r, first) == "succeeded" and await r.model.aliases() == ("1", "1")

    async def now() -> str:
        return f"deployment {first} {await state_of(r, first)}, aliases {await r.model.aliases()}"

    await eventually(done, now, deadline=deadline, what="v1 deployed")


async def _until_put_back(r: Rig, d_id: int, deadline: float) -> None:
    """Deployment ``d_id`` failed, and MLflow has both aliases back at v1."""
    async def back() -> bool:
        return await state_of(r, d_id) == "failed" and await r.model.aliases() == ("1", "1")

    async def now() -> str:
        challenger, champion = await r.model.aliases()
        return (f"deployment {d_id} {await state_of(r, d_id)}; MLflow has challenger at "
                f"v{challenger}, champion at v{champion}; thread: {thread_of(r.fake, d_id)}")

    await eventually(back, now, deadline=deadline, what="both aliases back at v1")


def _said_back(r: Rig, d_id: int, alias: str) -> bool:
    return any(alias in text and PUT_BACK in text for text in thread_of(r.fake, d_id))


async def _until_said(r: Rig, d_id: int, aliases: tuple[str, ...], deadline: float) -> None:
    async def said() -> bool:
        return all(_said_back(r, d_id, alias) for alias in aliases)

    async def now() -> str:
        return f"thread of deployment {d_id}: {thread_of(r.fake, d_id)}"

    await eventually(said, now, deadline=deadline,
                     what=f"the thread to say {' and '.join(aliases)} {PUT_BACK}")


def channel_posts(r: Rig) -> list[str]:
    """The texts of chat.postMessage calls Slack took in the use case's channel."""
    return [str(c.args.get("text", "")) for c in r.fake.calls_to("chat.postMessage")
            if c.args.get("channel") == r.channel_id]


# ── G1: killed while MLflow moves champion to the new version ────────────────────────────────

async def test_a_process_killed_mid_alias_move_has_every_alias_put_back_by_the_next_one(
        tmp_path: Path, mlflow_server: MlflowServer) -> None:
    deadline = time.monotonic() + BUDGET
    async with rig(tmp_path, mlflow_server, pipeline(smoke=False)) as r:
        await _deploy_v1(r, deadline)
        a = r.processes[0]
        r.proxy.arm(Hold("POST", "registered-models/alias", {"alias": "champion", "version": "2"}))
        second = deployment_id_of(await r.command("/deploy churn 2", a))
        await r.kill_when_held(a)  # MLflow moved champion to v2; A never heard so
        await r.serve("b")

        await _until_put_back(r, second, deadline)
        await _until_said(r, second, ("champion",), deadline)


# ── G2: killed while putting the first alias back ────────────────────────────────────────────

async def test_a_process_killed_mid_put_back_has_the_rest_put_back_and_recorded(
        tmp_path: Path, mlflow_server: MlflowServer) -> None:
    deadline = time.monotonic() + BUDGET
    async with rig(tmp_path, mlflow_server, pipeline(smoke=True)) as r:
        await _deploy_v1(r, deadline)
        a = r.processes[0]
        # The undo runs newest stage first: champion's put-back is the first.
        r.proxy.arm(Hold("POST", "registered-models/alias", {"alias": "champion", "version": "1"}))
        second = deployment_id_of(await r.command("/deploy churn 2", a))  # smoke fails for v2
        await r.kill_when_held(a)  # champion is back at v1 in MLflow; challenger still at v2
        await r.serve("b")

        await _until_put_back(r, second, deadline)
        await _until_said(r, second, ("champion", "challenger"), deadline)
        undone = await events_of(r, second, "undone")
        assert any("champion" in d for d in undone) and any("challenger" in d for d in undone), \
            f"deployment_events of kind 'undone' for deployment {second}: {undone}"


# ── G3: killed while reading the new version's run for its announcement ─────────────────────

async def test_a_new_version_whose_announcement_was_cut_short_is_announced_on_redelivery(
        tmp_path: Path, mlflow_server: MlflowServer) -> None:
    deadline = time.monotonic() + BUDGET
    async with rig(tmp_path, mlflow_server, pipeline(smoke=False)) as r:
        await asyncio.to_thread(r.model.version)
        version, run = await asyncio.to_thread(r.model.version, auc=0.87)
        assert version == "2"
        body, delivery, a = version_created(r.model.name, version, run), "d-crash-1", r.processes[0]
        r.proxy.arm(Hold("GET", "runs/get", {"run_id": run}, forward=False))
        first = asyncio.create_task(deliver(r.http, a, body, delivery))
        await r.kill_when_held(a)
        with contextlib.suppress(aiohttp.ClientError):
            await first  # A died before it answered
        r.proxy.disarm()
        killed = time.monotonic()
        b = await r.serve("b")
        await asyncio.sleep(max(0.0, killed + LEASE_SECONDS + 0.5 - time.monotonic()))

        assert await deliver(r.http, b, body, delivery) == 200  # MLflow's retry: same id

        def news() -> list[str]:
            return [text for text in channel_posts(r)
                    if r.model.name in text and f"v{version}" in text]

        async def announced() -> bool:
            return bool(news())

        async def now() -> str:
            return f"posts in the channel: {channel_posts(r)}"

        await eventually(announced, now, deadline=min(deadline, time.monotonic() + 8),
                         what=f"v{version} of {r.model.name} announced")
        await asyncio.sleep(2.0)  # a second announcement would show by now
        assert len(news()) == 1, news()
