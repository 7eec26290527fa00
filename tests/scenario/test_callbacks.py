"""Executor callbacks: a signed result counts for its own step, once; a malformed one is refused
with a 4xx and one log line; its URL never breaks out of the link it becomes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState, StageState
from bot.executors.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, callback_path, sign_callback
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_support import (
    ACCEPTED,
    SECRET,
    Receiver,
    always,
    deploy,
    load,
    message_text,
    new_use_case,
    simulator,
    with_pipeline,
    write_pipeline,
)
from tests.scenario.test_security import all_counts, post_raw

RESULT = json.dumps({"status": "succeeded", "detail": "shipped"}).encode()
ATTACK = "https://ok.example/>|<!channel> <https://evil.example|click here"


def signed(url: str, body: bytes = RESULT) -> dict[str, str]:
    """Headers an executor sends with ``body`` to ``url``: signed for that URL's path and query."""
    now = int(time.time())
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: str(now),
            SIGNATURE_HEADER: sign_callback(SECRET, now, callback_path(url), body)}


def _pipeline(receiver: Receiver) -> str:
    return f"""
[pipelines.waves]
[[pipelines.waves.stages]]
name = "build"
run = {{ executor = "webhook", url = "{receiver.url('build')}" }}

[[pipelines.waves.stages]]
name = "ship"
run = {{ executor = "webhook", url = "{receiver.url('ship')}" }}
targets = 2
waves = ["1", "100%"]
"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver().running() as running:
        running.on("build", always(ACCEPTED))
        running.on("ship", always(ACCEPTED))
        yield running


@pytest.fixture
async def sim(settings: Settings, clock: ManualClock, receiver: Receiver,
              tmp_path: Path) -> AsyncIterator[Simulator]:
    path = write_pipeline(tmp_path, _pipeline(receiver))
    async with simulator(with_pipeline(settings, path), clock) as running:
        await new_use_case(running)
        yield running


async def test_a_signed_result_counts_for_its_own_step_once_and_nowhere_else(
    sim: Simulator, receiver: Receiver
) -> None:
    """The issue's replay: one captured ``succeeded`` re-posted to another deployment's build
    and to both production waves; and to its own step, which has had its result."""
    await new_use_case(sim, "fraud")
    first = await deploy(sim, "/deploy churn 1.0.0")
    second = await deploy(sim, "/deploy fraud 1.0.0")
    build_url = receiver.jobs_for("build", first)[0]["callback_url"]
    captured = signed(build_url)
    assert await post_raw(sim, build_url, RESULT, captured) == 200
    await sim.app.settle()
    wave_1 = receiver.jobs_for("ship", first)[0]["callback_url"]
    assert wave_1.endswith("?kind=run&wave=1")
    before = {d: await load(sim, d) for d in (first, second)}
    counts = await all_counts(sim)

    other_build = receiver.jobs_for("build", second)[0]["callback_url"]
    replays = [other_build, wave_1, wave_1.replace("wave=1", "wave=2")]
    assert [await post_raw(sim, url, RESULT, captured) for url in replays] == [401, 401, 401]
    assert await post_raw(sim, build_url, RESULT, captured) == 409, "the step had its result"
    assert await post_raw(sim, build_url, RESULT, signed(build_url)) == 409, "even signed anew"
    await sim.app.settle()

    for d_id, was in before.items():
        now = await load(sim, d_id)
        assert (now.revision, now.state) == (was.revision, DeploymentState.RUNNING)
    assert (await load(sim, second)).stages[0].state is StageState.RUNNING
    assert await all_counts(sim) == counts
    # The executor's own results still go through, each to its step.
    assert await post_raw(sim, other_build, RESULT, signed(other_build)) == 200
    assert await post_raw(sim, wave_1, RESULT, signed(wave_1)) == 200
    await sim.app.settle()
    assert (await load(sim, second)).stages[0].state is StageState.PASSED
    assert (await load(sim, first)).stages[1].waves[0].state is StageState.PASSED


async def test_a_result_url_that_would_break_out_of_its_link_is_refused(
    sim: Simulator, receiver: Receiver
) -> None:
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    url = receiver.jobs_for("build")[0]["callback_url"]
    before, counts = await load(sim, d_id), await all_counts(sim)

    evil = json.dumps({"status": "succeeded", "url": ATTACK}).encode()
    assert await post_raw(sim, url, evil, signed(url, evil)) == 400
    assert (await load(sim, d_id)).revision == before.revision
    assert await all_counts(sim) == counts

    good = json.dumps({"status": "succeeded", "url": "https://ci.example/run?a=1&b=2"}).encode()
    assert await post_raw(sim, url, good, signed(url, good)) == 200
    await sim.app.settle()
    shown = message_text(sim, d_id)
    assert "<https://ci.example/run?a=1&amp;b=2|details>" in shown
    assert "<!channel>" not in json.dumps([c.args for c in sim.fake.calls])


async def test_a_synchronous_answer_with_an_unsafe_url_passes_without_a_link(
    sim: Simulator, receiver: Receiver
) -> None:
    receiver.on("build", always((200, {"status": "succeeded", "detail": "built", "url": ATTACK})))
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    d = await load(sim, d_id)
    assert d.stages[0].state is StageState.PASSED and d.stages[0].url is None
    said = json.dumps([c.args for c in sim.fake.calls])
    assert "<!channel>" not in said and "evil.example" not in said


DEEP = b'{"status": "succeeded", "detail": ' + b"[" * 3000 + b"]" * 3000 + b"}"
BODIES = {
    "not-json": b"status=succeeded",
    "empty": b"",
    "list": b"[]", "string": b'"x"', "number": b"5", "null": b"null",
    "not-utf8": b'{"status": "succeeded", "detail": "\xff"}',
    "deep": DEEP,
    "long-number": b'{"status": "succeeded", "detail": ' + b"9" * 5000 + b"}",
    "no-status": b'{"detail": "x"}',
    "other-status": b'{"status": "maybe"}',
    "detail-not-text": b'{"status": "failed", "detail": {"why": "x"}}',
    "url-not-text": b'{"status": "succeeded", "url": ["https://x.example"]}',
    "url-not-web": b'{"status": "succeeded", "url": "javascript:alert(1)"}',
}
PATHS = {
    "huge-id": ("/deployments/1/", "/deployments/99999999999999999999999/"),
    "id-beyond-int32": ("/deployments/1/", "/deployments/2147483648/"),
    "zero-id": ("/deployments/1/", "/deployments/0/"),
    "id-not-a-number": ("/deployments/1/", "/deployments/one/"),
    "kind-unknown": ("kind=run", "kind=deploy"),
    "wave-words": ("kind=run", "kind=run&wave=two"),
    "wave-huge": ("kind=run", "kind=run&wave=" + "9" * 5000),
    "wave-zero": ("kind=run", "kind=run&wave=0"),
}


async def _refused_once(sim: Simulator, caplog: pytest.LogCaptureFixture, url: str,
                        body: bytes) -> int:
    caplog.clear()
    with caplog.at_level(logging.INFO):
        status = await post_raw(sim, url, body, signed(url, body))
    assert [r for r in caplog.records if r.exc_info] == [], "no traceback"
    said = [r.getMessage() for r in caplog.records if r.name == "handlers.api"]
    assert len(said) == 1 and "action=callback_refused" in said[0], said
    return status


@pytest.mark.parametrize("how", sorted(BODIES))
async def test_a_signed_but_malformed_result_gets_400_one_log_line_and_changes_nothing(
    sim: Simulator, receiver: Receiver, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    url = receiver.jobs_for("build")[0]["callback_url"]
    before, counts = await load(sim, d_id), await all_counts(sim)

    assert await _refused_once(sim, caplog, url, BODIES[how]) == 400

    assert (await load(sim, d_id)).revision == before.revision
    assert await all_counts(sim) == counts


@pytest.mark.parametrize("how", sorted(PATHS))
async def test_a_callback_to_a_step_that_cannot_exist_gets_404_and_changes_nothing(
    sim: Simulator, receiver: Receiver, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    old, new = PATHS[how]
    url = receiver.jobs_for("build")[0]["callback_url"].replace(old, new)
    before, counts = await load(sim, d_id), await all_counts(sim)

    assert await _refused_once(sim, caplog, url, RESULT) == 404

    assert (await load(sim, d_id)).revision == before.revision
    assert await all_counts(sim) == counts


async def test_control_characters_in_an_executors_detail_are_dropped_not_a_500(
    sim: Simulator, receiver: Receiver
) -> None:
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    url = receiver.jobs_for("build")[0]["callback_url"]
    body = json.dumps({"status": "failed", "detail": "disk\u0000 full\u001b[0m\nsee log"}).encode()

    assert await post_raw(sim, url, body, signed(url, body)) == 200
    await sim.app.settle()

    d = await load(sim, d_id)
    assert d.state is DeploymentState.FAILED
    assert d.stop is not None and "disk full[0m\nsee log" in d.stop.reason
