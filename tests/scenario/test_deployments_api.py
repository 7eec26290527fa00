"""`POST /api/v1/deployments` and `GET /api/v1/deployments/<id>` end to end: CI starts a
deployment for a Slack user through the same checks as `/deploy`, refused in the command's words."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.changes import Change, ChangeKind
from bot.render.plain_text import plain_text
from bot.services.tokens import TokenService
from bot.simulator.simulator import Simulator, Step
from tests.scenario.deploy_support import (
    Receiver,
    always,
    load,
    message_text,
    new_use_case,
    running_ship_pipeline,
    simulator,
    succeeded,
    with_pipeline,
    write_pipeline,
)
from tests.scenario.helpers import private_reply

SHA = "4f2a9c1d0b7e6a5f4e3d2c1b0a9f8e7d6c5b4a39"


@pytest.fixture
async def shipping(settings: Settings, clock: ManualClock, receiver: Receiver,
                   tmp_path: Path) -> AsyncIterator[Simulator]:
    """A bot whose one stage, `ship`, keeps running (its webhook answers later)."""
    path = running_ship_pipeline(tmp_path, receiver)
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await new_use_case(sim)
        yield sim


async def token(sim: Simulator, name: str = "ci", *scopes: str) -> str:
    return await TokenService(sim.app.db.uow, sim.clock).create(name, scopes or ("deployments:write",))


async def post(sim: Simulator, body: Any, *, secret: str | None, raw: bytes | None = None
               ) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    data = raw if raw is not None else json.dumps(body).encode()
    async with sim.http.post(f"{sim.base_url}/api/v1/deployments", data=data,
                             headers=headers) as response:
        status, answer = response.status, await response.json(content_type=None)
    await sim.app.settle()
    return status, answer


async def get(sim: Simulator, path: str, *, secret: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    async with sim.http.get(f"{sim.base_url}/api/v1/deployments/{path}", headers=headers) as response:
        return response.status, await response.json(content_type=None)


def said_to(step: Step) -> str:
    """The words of the command's private refusal (its plain-text fallback is the words)."""
    text: str = private_reply(step)["text"]
    return text


def user(sim: Simulator, name: str) -> str:
    found = sim.fake.user(name)
    assert found is not None
    return found.id


async def test_ci_starts_a_deployment_with_its_commit_and_follows_it(shipping: Simulator) -> None:
    sim, secret = shipping, await token(shipping)
    alice = user(sim, "alice")
    changed = sim.clock.now() - timedelta(hours=3)
    status, body = await post(sim, {
        "use_case": "churn", "version": "1.4.0", "requested_by": alice, "commit": SHA.upper(),
        "changed_at": changed.isoformat().replace("+00:00", "Z"),
        "url": f"https://github.com/acme/churn/commit/{SHA}"}, secret=secret)

    assert status == 201
    assert body == {"id": body["id"], "status_url": f"{sim.base_url}/api/v1/deployments/{body['id']}"}
    stored = await load(sim, body["id"])
    assert (stored.requested_by, stored.version, stored.api_token) == (alice, "1.4.0", "ci")
    assert stored.change == Change(ChangeKind.COMMIT, SHA, changed,
                                   f"https://github.com/acme/churn/commit/{SHA}")
    card = message_text(sim, body["id"])  # posted to the use case's channel through the outbox
    assert f"requested by <@{alice}> through the API (token `ci`)" in card

    status, shown = await get(sim, str(body["id"]), secret=secret)
    assert status == 200
    assert (shown["id"], shown["use_case"], shown["version"], shown["state"]) == (
        body["id"], "churn", "1.4.0", "running")
    assert shown["change"] == {"kind": "commit", "ref": SHA, "short": SHA[:7],
                               "at": changed.isoformat().replace("+00:00", "Z"),
                               "url": f"https://github.com/acme/churn/commit/{SHA}"}
    [stage] = shown["stages"]
    assert (stage["name"], stage["state"], stage["finished_at"]) == ("ship", "running", None)
    assert shown["links"] == {"self": body["status_url"]}


async def test_a_change_from_ci_is_shown_in_deploy_status_and_its_lead_time_runs_from_it(
        settings: Settings, clock: ManualClock, receiver: Receiver, tmp_path: Path) -> None:
    """The commit CI names is on the card and in `/deploy status`, linked; DORA's lead time
    runs from its time (2 days before the request), not from the request (the run takes none)."""
    receiver.on("ship", always(succeeded()))
    path = write_pipeline(tmp_path, f"""
[pipelines.default]
[[pipelines.default.stages]]
name = "ship"
run = {{ executor = "webhook", url = "{receiver.url('ship')}" }}
""")
    async with simulator(with_pipeline(settings, path), clock) as sim:
        await new_use_case(sim)
        secret = await token(sim)
        status, body = await post(sim, {
            "use_case": "churn", "version": "1.4.0", "requested_by": user(sim, "alice"),
            "commit": SHA, "changed_at": (clock.now() - timedelta(days=2)).isoformat(),
            "url": f"https://github.com/acme/churn/commit/{SHA}"}, secret=secret)
        assert status == 201
        shown = json.dumps(private_reply(await sim.command("/deploy status churn")))
        dora = json.dumps(private_reply(await sim.command("/metric dora churn")))
    assert (await load(sim, body["id"])).state.value == "succeeded"
    assert f"<https://github.com/acme/churn/commit/{SHA}|commit {SHA[:7]}>" in shown
    assert "lead time 2 d," in dora and "from the request" not in dora, dora


async def test_a_retried_post_starts_nothing_twice_it_names_the_active_one(shipping: Simulator) -> None:
    sim, secret = shipping, await token(shipping)
    request = {"use_case": "churn", "version": "1.4.0", "requested_by": user(shipping, "alice")}
    first, started = await post(sim, request, secret=secret)
    again, refused = await post(sim, request, secret=secret)

    assert (first, again) == (201, 409)
    assert f"Deployment {started['id']} of `churn` (`1.4.0`" in refused["error"]
    assert "<@" not in refused["error"] and "*" not in refused["error"], "plain text, not mrkdwn"
    assert len(await history_of(sim)) == 1


async def history_of(sim: Simulator) -> list[Any]:
    async with sim.app.db.uow() as uow:
        return await uow.deployments.history("churn", limit=50)


async def test_refusals_are_the_commands_own_words_as_plain_text(shipping: Simulator) -> None:
    """Who (403), the state (409), no such use case (404): each as `/deploy` says it."""
    sim, secret = shipping, await token(shipping)
    bob, alice = user(sim, "bob"), user(sim, "alice")

    sim.switch_user("bob")
    said = said_to(await sim.command("/deploy churn 1.4.0"))
    status, body = await post(sim, {"use_case": "churn", "version": "1.4.0", "requested_by": bob},
                              secret=secret)
    assert (status, body["error"]) == (403, plain_text(said))
    assert body["error"].startswith(f"Only the owner @{alice}")

    sim.switch_user("alice")
    assert (await sim.command('/deploy lock churn "db migration"')).status == 200
    said = said_to(await sim.command("/deploy churn 1.4.0"))
    status, body = await post(sim, {"use_case": "churn", "version": "1.4.0", "requested_by": alice},
                              secret=secret)
    assert (status, body["error"]) == (409, plain_text(said))
    assert "db migration" in body["error"]

    status, body = await post(sim, {"use_case": "chrun", "version": "1", "requested_by": alice},
                              secret=secret)
    assert (status, body["error"]) == (404, "There is no use case `chrun`. Did you mean `churn`?")
    assert await history_of(sim) == []


async def test_a_freeze_holds_an_api_start_as_it_holds_the_command(shipping: Simulator) -> None:
    sim, secret = shipping, await token(shipping)
    assert (await sim.command('/deploy freeze churn 2h "quarter close"')).status == 200
    said = said_to(await sim.command("/deploy churn 1.4.0"))
    status, body = await post(sim, {"use_case": "churn", "version": "1.4.0",
                                    "requested_by": user(sim, "alice")}, secret=secret)
    assert (status, body["error"]) == (409, plain_text(said))
    assert "quarter close" in body["error"]


async def test_a_token_needs_the_deployments_write_scope(shipping: Simulator) -> None:
    sim = shipping
    metrics_only = await token(sim, "pusher", "metrics:write")
    request = {"use_case": "churn", "version": "1.4.0", "requested_by": user(sim, "alice")}

    assert (await post(sim, request, secret=None))[0] == 401
    assert (await post(sim, request, secret="bdo_not-a-token"))[0] == 401
    status, body = await post(sim, request, secret=metrics_only)
    assert status == 403 and "lacks the scope deployments:write" in body["error"]
    assert (await get(sim, "1", secret=metrics_only))[0] == 403
    assert await history_of(sim) == []


@pytest.mark.parametrize(("body", "error"), [
    ({"version": "1", "requested_by": "U1ALICE"}, "use_case: required, expected a use case's slug"),
    ({"use_case": "churn", "requested_by": "U1ALICE"}, "version: required, expected up to 64"),
    ({"use_case": "churn", "version": "1"}, "requested_by: required, expected a Slack user ID"),
    ({"use_case": "churn", "version": "1 2", "requested_by": "U1"}, "version: expected"),
    ({"use_case": "churn", "version": "1", "requested_by": "alice"}, "requested_by: expected a Slack"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "commit": "xyz1234"},
     "commit: expected a commit's sha"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "commit": "abc12"},
     "commit: expected a commit's sha"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "commit": "abc1234",
      "changed_at": "2026-03-01T10:00:00"}, "changed_at: expected an RFC 3339 time with an offset"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "commit": "abc1234",
      "changed_at": "2026-02-30T10:00:00Z"}, "changed_at: '2026-02-30T10:00:00Z' is no time"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "commit": "abc1234",
      "changed_at": "2027-01-01T00:00:00Z"}, "changed_at: is more than 60 s ahead"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "commit": "abc1234",
      "url": "javascript:alert(1)"}, "url: expected an http(s) URL"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "commit": "abc1234",
      "url": "https://x.test/a>b"}, "url: expected an http(s) URL"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "url": "https://x.test/"},
     "commit: required with changed_at or url"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "changed_at": None},
     "commit: required with changed_at or url"),
    ({"use_case": "churn", "version": "1", "requested_by": "U1ALICE", "override": "go"},
     "override: unknown field"),
    ([], "the body must be a JSON object"),
])
async def test_a_body_of_the_wrong_shape_is_400_naming_the_field(
    shipping: Simulator, body: Any, error: str
) -> None:
    status, answer = await post(shipping, body, secret=await token(shipping))
    assert status == 400 and answer["error"].startswith(error), answer
    assert await history_of(shipping) == []


async def test_an_unknown_pipeline_is_404_naming_the_known_ones(shipping: Simulator) -> None:
    status, answer = await post(shipping, {"use_case": "churn", "version": "1", "pipeline": "nope",
                                           "requested_by": user(shipping, "alice")},
                                secret=await token(shipping))
    assert (status, answer) == (404, {"error": "There is no pipeline `nope`; known: `default`."})


@pytest.mark.parametrize("raw", [b"{use_case", b'{"use_case": NaN}', b"\xff", b"[" * 100_000])
async def test_a_body_that_is_not_json_is_400(shipping: Simulator, raw: bytes) -> None:
    status, answer = await post(shipping, None, secret=await token(shipping), raw=raw)
    assert status == 400 and answer["error"].startswith("the body is not JSON")


@pytest.mark.parametrize("path", ["999", "0", "abc", "1" * 30])
async def test_an_unknown_deployment_is_404(shipping: Simulator, path: str) -> None:
    status, answer = await get(shipping, path, secret=await token(shipping))
    assert status == 404 and answer["error"].startswith("There is no deployment")
