"""No one where they don't belong: signatures, replays, forged callbacks, API tokens, mrkdwn
injection, and secrets that never reach a log line or a Slack message.

Everything goes through the real HTTP endpoints of the app the simulator runs; assertions read
the database, what the fake Slack API recorded, and what the log handlers received.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import secrets
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deployment_model import DeploymentState
from bot.executors.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, callback_path, sign, sign_callback
from bot.logs import configure
from bot.services.tokens import TokenService, token_hash
from bot.simulator.fake_slack import Fault
from bot.simulator.signer import SlackRequestSigner, block_actions_body, event_body, slash_command_body
from bot.simulator.simulator import Simulator, Step
from handlers import slack_http
from storage.kpi_models import MetricPointRow
from storage.models import Base
from tests.scenario.deploy_support import (
    ACCEPTED,
    SECRET,
    Receiver,
    always,
    deploy,
    load,
    new_use_case,
    press,
    private_replies,
    simulator,
    succeeded,
    with_pipeline,
    write_pipeline,
)
from tests.scenario.helpers import reply_text

# ── shared readers ─────────────────────────────────────────────────────────────────────────

SKIP_COUNTING = {"processed_requests"}  # the delivery log of the dedupe middleware


async def all_counts(sim: Simulator) -> dict[str, int]:
    """Rows in every table: "nothing stored" means none of these moved."""
    async with sim.app.db.sessions() as session:
        return {table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables if table.name not in SKIP_COUNTING}


async def post_raw(sim: Simulator, url: str, body: bytes | str, headers: dict[str, str]) -> int:
    data = body.encode() if isinstance(body, str) else body
    async with sim.http.post(url, data=data, headers=headers) as response:
        await response.read()
        return response.status


async def use_case_phase(sim: Simulator, slug: str) -> str | None:
    async with sim.app.db.uow() as uow:
        found = await uow.use_cases.get(slug)
    return None if found is None else found.phase.value


# ── 1. requests to /slack/events ───────────────────────────────────────────────────────────

def _command(sim: Simulator, text_: str = 'new churn "Churn"') -> str:
    return slash_command_body(
        command="/usecase", text=text_, user_id=sim.user, user_name="alice", channel_id=sim.channel,
        channel_name="general", team_id=sim.fake.team_id, trigger_id=f"{secrets.token_hex(4)}.trigger",
        response_url=sim.fake.new_response_url(channel=sim.channel, user_id=sim.user),
    )


def _button(sim: Simulator) -> str:
    action = {"type": "button", "action_id": "deploy_approve", "block_id": "deployment-1",
              "value": "tok", "text": {"type": "plain_text", "text": "Approve"}}
    return block_actions_body(user_id=sim.user, user_name="alice", channel_id=sim.channel,
                              team_id=sim.fake.team_id, action=action, message={"ts": "1.1"},
                              container=None, response_url=sim.fake.new_response_url(),
                              trigger_id="9.9.trigger")


def _event(sim: Simulator) -> str:
    event = {"type": "app_home_opened", "user": sim.user, "channel": "D1", "tab": "home",
             "event_ts": "1.1"}
    return event_body(event=event, team_id=sim.fake.team_id, api_app_id="A0SIM", event_id="Ev0FORGED",
                      event_time=int(time.time()))


BODIES = {"command": _command, "button": _button, "event": _event}
STALE = 301    # seconds: Slack's window is 5 minutes either way
FUTURE = 330   # a margin, so a slow request can't slide back into the window


def _headers(sim: Simulator, body: str, how: str) -> dict[str, str]:
    now = int(time.time())
    good = sim.signer.headers(body)
    if how == "wrong":
        return {**good, "X-Slack-Signature": "v0=" + "0" * 64}
    if how == "missing":
        return {k: v for k, v in good.items() if k != "X-Slack-Signature"}
    if how == "missing-timestamp":
        return {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"}
    if how == "no-headers":
        return {"Content-Type": good["Content-Type"]}
    if how == "stale":
        return sim.signer.headers(body, timestamp=now - STALE)
    if how == "future":
        return sim.signer.headers(body, timestamp=now + FUTURE)
    if how == "other-secret":
        return SlackRequestSigner("not-the-signing-secret").headers(body)
    if how == "timestamp-swapped":  # a fresh timestamp pasted onto an old signature
        old = sim.signer.headers(body, timestamp=now - 600)
        return {**old, "X-Slack-Request-Timestamp": str(now)}
    if how == "timestamp-not-a-number":
        return {**good, "X-Slack-Request-Timestamp": "soon"}
    if how == "signature-not-ascii":
        return {**good, "X-Slack-Signature": "v0=ü" + good["X-Slack-Signature"][4:]}
    raise AssertionError(how)


BAD_SIGNATURES = ["wrong", "missing", "missing-timestamp", "no-headers", "stale", "future",
                  "other-secret", "timestamp-swapped",
                  "timestamp-not-a-number", "signature-not-ascii"]


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("how", BAD_SIGNATURES)
async def test_unsigned_badly_signed_or_stale_slack_requests_get_401_and_change_nothing(
    sim: Simulator, how: str, kind: str
) -> None:
    body = BODIES[kind](sim)
    before, calls = await all_counts(sim), len(sim.fake.calls)

    assert await post_raw(sim, sim.url, body, _headers(sim, body, how)) == 401
    await sim.app.settle()

    assert await all_counts(sim) == before, "nothing is stored"
    assert len(sim.fake.calls) == calls and not sim.fake.response_posts, "nothing is said"


async def test_a_tampered_body_with_a_valid_signature_of_another_body_is_refused(sim: Simulator) -> None:
    body = _command(sim)
    headers = sim.signer.headers(body)
    before = await all_counts(sim)
    assert await post_raw(sim, sim.url, body.replace("churn", "fraud"), headers) == 401
    assert await all_counts(sim) == before
    assert await post_raw(sim, sim.url, body, headers) == 200  # the same request, untouched
    assert await use_case_phase(sim, "churn") == "biz"


async def test_a_replayed_request_changes_nothing_and_is_refused_once_old(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    body = _command(sim, 'advance churn "go"')
    headers = sim.signer.headers(body)
    assert await post_raw(sim, sim.url, body, headers) == 200
    await sim.app.settle()
    assert await use_case_phase(sim, "churn") == "dev"
    after_first, calls = await all_counts(sim), len(sim.fake.calls)

    # The same signed bytes again, inside the window: acknowledged, applied once.
    assert await post_raw(sim, sim.url, body, headers) == 200
    await sim.app.settle()
    assert await use_case_phase(sim, "churn") == "dev", "a replay must not advance it twice"
    assert await all_counts(sim) == after_first

    # Six minutes later the captured request is refused outright.
    real = time.time
    monkeypatch.setattr(slack_http, "wall_clock", lambda: real() + 360)
    assert await post_raw(sim, sim.url, body, headers) == 401
    await sim.app.settle()
    assert await use_case_phase(sim, "churn") == "dev"
    assert await all_counts(sim) == after_first and len(sim.fake.calls) == calls


# ── 2. executor callbacks ──────────────────────────────────────────────────────────────────

def _hooks(receiver: Receiver) -> str:
    return f"""
[pipelines.hooks]
[[pipelines.hooks.stages]]
name = "build"
run = {{ executor = "webhook", url = "{receiver.url('build')}" }}

[[pipelines.hooks.stages]]
name = "ship"
run = {{ executor = "webhook", url = "{receiver.url('ship')}" }}
timeout = "1h"
"""



@pytest.fixture
async def hooks_sim(settings: Settings, clock: ManualClock, receiver: Receiver,
                    tmp_path: Path) -> AsyncIterator[Simulator]:
    receiver.on("build", always(succeeded("built")))
    receiver.on("ship", always(ACCEPTED))
    async with simulator(with_pipeline(settings, write_pipeline(tmp_path, _hooks(receiver))),
                         clock) as sim:
        await new_use_case(sim)
        yield sim


RESULT = json.dumps({"status": "succeeded", "detail": "shipped"}).encode()


def _callback_headers(how: str, url: str) -> tuple[bytes, dict[str, str]]:
    now = int(time.time())
    json_type = {"Content-Type": "application/json"}
    path = callback_path(url)

    def signed(stamp: int, secret: str = SECRET, body: bytes = RESULT, on: str = path) -> dict[str, str]:
        return {**json_type, TIMESTAMP_HEADER: str(stamp),
                SIGNATURE_HEADER: sign_callback(secret, stamp, on, body)}

    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "no-headers": (RESULT, json_type),
        "no-signature": (RESULT, {**json_type, TIMESTAMP_HEADER: str(now)}),
        "no-timestamp": (RESULT, {k: v for k, v in signed(now).items() if k != TIMESTAMP_HEADER}),
        "wrong-signature": (RESULT, {**signed(now), SIGNATURE_HEADER: "sha256=" + "0" * 64}),
        "other-secret": (RESULT, signed(now, "not-the-secret")),
        "stale": (RESULT, signed(now - STALE)),
        "future": (RESULT, signed(now + FUTURE)),
        "other-body": (RESULT, {**signed(now, body=b'{"status": "failed"}')}),
        "other-path": (RESULT, signed(now, on=path.replace("stages/ship", "stages/build"))),
        "without-query": (RESULT, signed(now, on=path.partition("?")[0])),
        "body-only": (RESULT, {**json_type, TIMESTAMP_HEADER: str(now),  # the old scheme
                               SIGNATURE_HEADER: sign(SECRET, now, RESULT)}),
        "bare-hex": (RESULT, {**signed(now), SIGNATURE_HEADER: signed(now)[SIGNATURE_HEADER][7:]}),
        "not-ascii": (RESULT, {**signed(now), SIGNATURE_HEADER: "sha256=ü"}),
        "timestamp-words": (RESULT, {**signed(now), TIMESTAMP_HEADER: "now"}),
        "negative-timestamp": (RESULT, signed(-now)),
        "empty-secret-mac": (RESULT, signed(now, "")),
    }
    return cases[how]


FORGERIES = ["no-headers", "no-signature", "no-timestamp", "wrong-signature", "other-secret", "stale",
             "future", "other-body", "other-path", "without-query", "body-only", "bare-hex",
             "not-ascii", "timestamp-words", "negative-timestamp", "empty-secret-mac"]


def _genuine(url: str, body: bytes = RESULT) -> dict[str, str]:
    now = int(time.time())
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: str(now),
            SIGNATURE_HEADER: sign_callback(SECRET, now, callback_path(url), body)}


@pytest.mark.parametrize("how", FORGERIES)
async def test_a_forged_or_stale_executor_callback_gets_401_and_changes_nothing(
    hooks_sim: Simulator, receiver: Receiver, how: str
) -> None:
    sim = hooks_sim
    d_id = await deploy(sim, "/deploy churn 1.0.0")
    url = receiver.jobs_for("ship")[0]["callback_url"]
    before, counts, calls = await load(sim, d_id), await all_counts(sim), len(sim.fake.calls)

    body, headers = _callback_headers(how, url)
    assert await post_raw(sim, url, body, headers) == 401
    await sim.app.settle()

    after = await load(sim, d_id)
    assert (after.revision, after.state) == (before.revision, DeploymentState.RUNNING)
    assert await all_counts(sim) == counts and len(sim.fake.calls) == calls

    # The genuine callback still works afterwards: the forgery did not use it up.
    assert await post_raw(sim, url, RESULT, _genuine(url)) == 200
    await sim.app.settle()
    assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED


def test_the_signatures_executors_implement() -> None:
    """SPEC: a job is signed over "timestamp.body", a callback over "timestamp.path.body"."""
    path = "/api/v1/deployments/1/stages/ship/result?kind=run&wave=2"
    job = hmac.new(b"k", b"1700000000." + RESULT, hashlib.sha256).hexdigest()
    result = hmac.new(b"k", f"1700000000.{path}.".encode() + RESULT, hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, RESULT) == f"sha256={job}"
    assert sign_callback("k", 1700000000, path, RESULT) == f"sha256={result}"
    assert callback_path(f"https://bot.example{path}") == path


# ── 3. API tokens for POST /api/v1/metrics ─────────────────────────────────────────────────

POINT = json.dumps({"use_case": "churn", "name": "precision", "value": 0.87}).encode()


async def _points(sim: Simulator) -> int:
    async with sim.app.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MetricPointRow)) or 0)


async def _push(sim: Simulator, authorization: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return await post_raw(sim, f"{sim.base_url}/api/v1/metrics", POINT, headers)


async def test_api_tokens_missing_wrong_or_revoked_get_401_and_store_nothing(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    tokens = TokenService(sim.app.db.uow, sim.clock)
    token = await tokens.create("ci-pipeline")
    other = await tokens.create("other")
    before, calls = await all_counts(sim), len(sim.fake.calls)

    refused = {
        "missing": None, "empty": "", "bearer-nothing": "Bearer ", "wrong": "Bearer wrong",
        "wrong-with-prefix": "Bearer bdo_" + "x" * 43, "no-scheme": token, "basic": f"Basic {token}",
        "truncated": f"Bearer {token[:-1]}", "extended": f"Bearer {token}x",
        "the-hash": f"Bearer {token_hash(token)}", "two-tokens": f"Bearer {token} {other}",
    }
    answers = {name: await _push(sim, header) for name, header in refused.items()}
    assert answers == dict.fromkeys(refused, 401)
    assert await all_counts(sim) == before, "a refused push stores nothing"

    assert await _push(sim, f"Bearer {token}") == 201
    assert await _push(sim, f"bearer {other}") == 201  # the scheme is case-insensitive
    assert await _points(sim) == 2

    await tokens.revoke("ci-pipeline")
    assert await _push(sim, f"Bearer {token}") == 401, "a revoked token is refused"
    assert await _points(sim) == 2
    assert await _push(sim, f"Bearer {other}") == 201, "revoking one token leaves the others"
    assert len(sim.fake.calls) == calls


async def test_api_tokens_are_stored_hashed(sim: Simulator) -> None:
    tokens = TokenService(sim.app.db.uow, sim.clock)
    token = await tokens.create("ci-pipeline")
    assert token.startswith("bdo_") and len(token) >= 40

    async with sim.app.db.sessions() as session:
        rows = [dict(r._mapping) for r in await session.execute(text("SELECT * FROM api_tokens"))]
    stored = json.dumps(rows, default=str)
    assert len(rows) == 1
    assert token not in stored and token[4:] not in stored, "the plain token is never stored"
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert [t.name for t in await tokens.list()] == ["ci-pipeline"]


# ── 4. mrkdwn injection ────────────────────────────────────────────────────────────────────

RAW = ("<!channel>", "<!here>", "<@U0ADMIN>", "<https://evil")
PAYLOAD = "Ping <!channel> <!here> <@U0ADMIN> <https://evil.example|click> *bold* & more"
SHORT = ("<!channel>", "<!here>", "<@U0ADMIN>", "<https://evil.example|click>")  # units: ≤ 32


def typed(text_: str, variant: str) -> str:
    """The command text as it reaches the bot: ``raw`` as written (Slack's control sequences
    themselves), or ``typed``: what Slack sends when a user types these characters literally
    (with should_escape it encodes ``& < >``, and the bot decodes them again)."""
    if variant == "raw":
        return text_
    return text_.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_objects(item)


def live_text(args: dict[str, Any]) -> str:
    """What Slack would parse for pings, mentions and links: the top-level ``text`` (the
    notification) and every mrkdwn text object of ``blocks``, ``attachments`` and ``view``.
    plain_text objects (headers, buttons, dialog titles) never parse ``<...>`` and are left out."""
    said = [args["text"]] if isinstance(args.get("text"), str) else []
    for key in ("blocks", "attachments", "view"):
        said += [t["text"] for t in _text_objects(args.get(key)) if t["type"] == "mrkdwn"]
    return "\n".join(said)


def leaks(label: str, args: dict[str, Any]) -> list[str]:
    said = live_text(args)
    return [f"{label}: {raw!r} in {said[max(0, said.find(raw) - 80):said.find(raw) + 80]!r}"
            for raw in RAW if raw in said]


async def _as(sim: Simulator, user: str, line: str, *, escape: bool = True) -> Step:
    sim.switch_user(user)
    step = await sim.command(line, escape=escape)
    assert step.status == 200
    return step


async def _injection_session(sim: Simulator, clock: ManualClock, variant: str) -> list[Step]:
    """Every free-text field a user controls, filled with pings, mentions and links; the steps
    whose private replies are checked (the /metric replies have a test of their own below)."""
    p = typed(PAYLOAD, variant)
    steps = [
        await _as(sim, "alice", f'/usecase new churn "{p}" domain="{p}"', escape=False),
        await _as(sim, "alice", "/usecase team churn add @erin devops"),
        await _as(sim, "alice", "/usecase team churn add @carol data-scientist"),
        await _as(sim, "alice", f'/usecase advance churn "{p}"', escape=False),
        await _as(sim, "alice", f'/usecase back churn "{p}"', escape=False),
        await _as(sim, "alice", f'/usecase advance churn "{p}"', escape=False),
        await _as(sim, "alice", f"/usecase show churn {p}", escape=False),  # refused, echoed
        await _as(sim, "alice", "/usecase show churn"),
        await _as(sim, "alice", "/usecase list"),
        await _as(sim, "alice", f"/usecase team churn add {p} devops", escape=False),
        await _as(sim, "alice", f"/metric record churn {typed('<!channel>', variant)} 1", escape=False),
        await _as(sim, "alice", f"/deploy churn {p}", escape=False),  # not a version: refused
    ]
    # KPI units; latency <= 2 then 6 → 1 crosses the target: announced in the channel
    await _as(sim, "alice", "/metric target churn latency <= 2")
    for number, unit in enumerate((*SHORT, SHORT[0])):
        value = 3 + number if number < len(SHORT) else 1
        await _as(sim, "alice", f'/metric record churn latency {value} unit="{typed(unit, variant)}"',
                  escape=False)
    # a deployment cancelled with a reason
    steps.append(await _as(sim, "erin", "/deploy churn 1.0.0"))
    steps.append(await _as(sim, "erin", f'/deploy cancel 1 "{p}"', escape=False))
    # a lock with a reason, shown to whoever tries to deploy, then lifted
    steps.append(await _as(sim, "alice", f'/deploy lock churn "{p}"', escape=False))
    steps.append(await _as(sim, "erin", "/deploy churn 2.0.0"))
    steps.append(await _as(sim, "erin", "/deploy status churn"))
    steps.append(await _as(sim, "alice", "/deploy unlock churn"))
    # a deployment rejected with a reason (typed into a dialog: Slack does not escape those)
    steps.append(await _as(sim, "erin", "/deploy churn 3.0.0"))
    sim.switch_user("alice")
    steps.append(await press(sim, 2, "deploy_reject"))
    steps.append(await sim.submit(PAYLOAD))
    steps.append(await _as(sim, "alice", "/deploy status 2"))
    steps.append(await _as(sim, "alice", "/deploy history churn"))
    steps.append(await _as(sim, "alice", "/digest now"))
    steps.append((await sim.open_home())[0])
    steps.append(await _as(sim, "alice", f'/usecase archive churn "{p}"', escape=False))
    clock.advance(timedelta(minutes=5))
    steps.append(await _as(sim, "alice", "/digest now"))
    return steps


@pytest.mark.parametrize("variant", ["raw", "typed"])
async def test_user_text_never_reaches_slack_as_a_ping_mention_or_link(
    sim: Simulator, clock: ManualClock, variant: str
) -> None:
    steps = await _injection_session(sim, clock, variant)

    # The session really happened: the payload's fields are stored and shown.
    async with sim.app.db.uow() as uow:
        uc = await uow.use_cases.get("churn")
    assert uc is not None and uc.phase.value == "archived" and "Ping" in uc.title
    # raw control sequences are turned into inert words on the way in; characters a user typed
    # come back as they were typed -- and must then be escaped on the way out
    assert ("<!channel>" in uc.title) is (variant == "typed")
    d1, d2 = await load(sim, 1), await load(sim, 2)
    assert (d1.state, d2.state) == (DeploymentState.CANCELLED, DeploymentState.REJECTED)
    methods = {c.method for c in sim.fake.calls}
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish"} <= methods
    texts_posted = [c.args.get("text", "") for c in sim.fake.calls_to("chat.postMessage")]
    assert any("reached its target" in t for t in texts_posted), "the KPI crossing was announced"
    assert sum("digest" in t.lower() for t in texts_posted) == 2, "both digests were posted"
    assert any("locked deployments" in t for t in texts_posted), "the lock was announced"

    found: list[str] = []
    for call in sim.fake.calls:
        found += leaks(f"{call.method} to {call.args.get('channel', call.args.get('user_id'))}", call.args)
    for token, body in sim.fake.response_posts:
        found += leaks(f"response_url {token}", body)
    for number, step in enumerate(steps):
        if step.reply is not None:
            found += leaks(f"reply to step {number}", step.reply)
    assert not found, "\n".join(found)


async def test_kpi_units_are_escaped_in_metric_replies(sim: Simulator, clock: ManualClock) -> None:
    await _as(sim, "alice", '/usecase new churn "Predict churn"')
    unit = typed("<!channel>", "typed")  # a user typed the characters <!channel>
    await _as(sim, "alice", f'/metric record churn latency 5 unit="{unit}"', escape=False)
    clock.advance(timedelta(days=8))
    await _as(sim, "alice", f'/metric record churn latency 4 unit="{unit}"', escape=False)
    steps = [await _as(sim, "alice", "/metric target churn latency <= 2"),
             await _as(sim, "alice", f'/metric record churn latency 3 unit="{unit}"', escape=False),
             await _as(sim, "alice", "/metric show churn")]
    found = [leak for n, s in enumerate(steps) for leak in leaks(f"reply {n}", s.reply or {})]
    assert not found, "\n".join(found)


async def test_a_cancel_reason_is_escaped_exactly_once(sim: Simulator) -> None:
    await _as(sim, "alice", '/usecase new churn "Predict churn" owner=@bob')  # bob may approve
    await _as(sim, "alice", "/deploy churn 1.0.0")
    await _as(sim, "alice", '/deploy cancel 1 "R&D asked"')
    final = [c.args for c in sim.fake.calls if c.method in ("chat.update", "chat.postMessage")
             and "cancelled by" in live_text(c.args)]
    assert final
    for args in final:
        said = live_text(args)
        assert "cancelled by <@UALICE>" in said, "the canceller is a mention"
        assert "R&amp;D asked" in said and "&amp;amp;" not in said


# ── 5. secrets never in logs or messages ───────────────────────────────────────────────────

@pytest.fixture
def app_logging(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[list[str], io.StringIO]]:
    """The app's own logging set-up (``bot.logs.configure``) for one test, then put back."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {name: logging.getLogger(name).level
                                              for name in ("aiohttp.access", "alembic")})
    out = io.StringIO()
    secrets_: list[str] = []
    yield secrets_, out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def _install(secrets_: list[str], fmt: str, out: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
    configure("DEBUG", fmt, secrets_)
    root = logging.getLogger()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)  # type: ignore[arg-type]
    root.addHandler(caplog.handler)  # after the app's handler: sees each record as it was written
    caplog.handler.setLevel(logging.DEBUG)


@pytest.mark.parametrize("fmt", ["console", "json"])
async def test_secrets_never_appear_in_logs_or_slack_messages(
    settings: Settings, clock: ManualClock, receiver: Receiver, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, app_logging: tuple[list[str], io.StringIO], fmt: str,
) -> None:
    secrets_, out = app_logging
    webhook_secret = "whsec-" + secrets.token_hex(16)
    db_password = "dbpw-" + secrets.token_hex(12)
    url = make_url(settings.database_url)
    if url.drivername.startswith("postgresql"):  # SQLite URLs cannot carry a password
        url = url.set(password=db_password)
    path = write_pipeline(tmp_path, _hooks(receiver))
    receiver.secret = webhook_secret
    receiver.on("build", always(succeeded("built")))
    receiver.on("ship", always(ACCEPTED))
    run_settings = replace(with_pipeline(settings, path), webhook_secret=webhook_secret,
                           database_url=url.render_as_string(hide_password=False))
    sim = Simulator(run_settings, clock=clock)
    secrets_ += [sim._signing_secret, "xoxb-simulator", webhook_secret, db_password]
    _install(secrets_, fmt, out, caplog)

    async with sim:
        api_token = await TokenService(sim.app.db.uow, sim.clock).create("ci")
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command("/usecase team churn add @erin devops")
        await sim.command("/usecase nonsense churn")                    # bad input
        sim.switch_user("dave")
        await sim.command('/usecase advance churn "not mine"')          # refused
        sim.switch_user("alice")
        await sim.command("/metric record churn precision 0.8")
        assert await _push(sim, f"Bearer {api_token}") == 201
        assert await _push(sim, f"Bearer {api_token}x") == 401
        body = _command(sim)
        assert await post_raw(sim, sim.url, body, _headers(sim, body, "wrong")) == 401
        # Slack has an outage while the deployment posts: retried, logged, delivered later
        sim.fake.inject("chat.postMessage", Fault(500), Fault(429, retry_after=0))
        d_id = await deploy(sim, "/deploy churn 1.0.0")
        assert receiver.refused == 0, "the bot signed its webhook calls with the webhook secret"
        callback_url = receiver.jobs_for("ship")[0]["callback_url"]
        now = int(time.time())
        forged = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(now),
                  SIGNATURE_HEADER: sign_callback("guess", now, callback_path(callback_url), RESULT)}
        assert await post_raw(sim, callback_url, RESULT, forged) == 401
        genuine = {**forged, SIGNATURE_HEADER: sign_callback(webhook_secret, now,
                                                             callback_path(callback_url), RESULT)}
        assert await post_raw(sim, callback_url, RESULT, genuine) == 200
        for _ in range(20):  # let the outbox's retries come due
            clock.advance(timedelta(seconds=30))
            await sim.wait(0.05)
        assert (await load(sim, d_id)).state is DeploymentState.SUCCEEDED
        # a handler that fails: Slack refuses to publish the Home tab
        sim.fake.inject("views.publish", Fault(status=200, error="invalid_auth"))
        await sim.open_home()

    logged = out.getvalue()
    records = [r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records]
    slack = json.dumps([c.args for c in sim.fake.calls] + [b for _t, b in sim.fake.response_posts],
                       default=str)
    if fmt == "json":  # one object a line, the facts as fields
        entries = [json.loads(line) for line in logged.splitlines()]
        failed = [e for e in entries if e.get("action") == "background_error"]
        assert [e["work"] for e in failed] == ["home_opened"], "the failing work was logged"
        assert [e for e in entries if e.get("action") == "outbox.retry"], "the outage was logged"
    else:
        assert "action=background_error work=home_opened" in logged, "the failing work was logged"
        assert "action=outbox.retry" in logged, "the outage was logged"
    assert logged and records and slack
    for secret in (*secrets_, api_token):
        assert secret not in logged, f"a secret reached the log output ({fmt})"
        assert not [r for r in records if secret in r], "a secret reached a log record"
        assert secret not in slack, "a secret reached Slack"


async def test_refusals_and_errors_never_echo_the_signing_secret_or_token(sim: Simulator) -> None:
    """What the person sees after a failure says nothing about the bot's credentials."""
    sim.fake.inject("views.open", Fault(status=200, error="invalid_auth"))
    await sim.command('/usecase new churn "Predict churn" owner=@bob')  # bob may approve
    await sim.command("/deploy churn 1.0.0")
    step = await press(sim, 1, "deploy_reject")
    said = private_replies(step) + json.dumps([c.args for c in sim.fake.calls]) + reply_text(
        await sim.command("/usecase frobnicate"))
    assert "Something went wrong" in said
    for secret in (sim._signing_secret, "xoxb-simulator"):
        assert secret not in said


async def test_a_secret_an_executor_says_back_is_masked_before_slack_or_the_audit_trail(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    """Whatever an executor says (here a command that prints what it was handed) is masked of
    every secret the bot knows, for every kind of executor, not only the ones that mask."""
    secret = "wh-secret-" + secrets.token_hex(8)
    leak = json.dumps([sys.executable, "-c", "import sys; print('signing with', sys.argv[1]); "
                       "sys.exit(1)", secret])
    path = write_pipeline(tmp_path, f"""
[pipelines.p]
[[pipelines.p.stages]]
name = "ship"
run = {{ executor = "command", argv = {leak} }}
""")
    async with Simulator(replace(settings, pipelines_path=str(path), webhook_secret=secret),
                         clock=clock) as sim:
        await sim.command('/usecase new churn "Churn"')
        d_id = await deploy(sim, "/deploy churn 1.0.0")
        said = json.dumps([c.args for c in sim.fake.calls], ensure_ascii=False)
        assert "signing with ***" in said and secret not in said
        async with sim.app.db.uow() as uow:
            trail = json.dumps([e.detail for e in await uow.deployments.events(d_id)])
        assert secret not in trail
