"""The local Slack: the real bot app behind real HTTP, driven by signed requests like Slack's.

``Simulator`` is what ``bizdevops shell`` and the scenario tests share. Each step posts a
correctly signed request to the same aiohttp application ``serve`` runs, then delivers the
outbox and returns what a person in the channel would have seen.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import BotApp, create_app
from bot.clock import Clock
from bot.config import Settings
from bot.runtime.pacing import unpaced
from bot.runtime.timeline import Passed, Timeline
from bot.simulator import dialog_form
from bot.simulator.clocks import OffsetClock, move_to
from bot.simulator.fake_slack import FakeSlack, RecordedCall
from bot.simulator.signer import (
    SlackRequestSigner,
    app_event,
    block_actions_body,
    escape_mentions,
    slash_command_body,
    view_submission_body,
)
from bot.simulator.warehouse import run_statement
from storage.migrate import upgrade

DEFAULT_USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
DEFAULT_CHANNELS = ("general", "ops", "data-science")
# After the listeners and what they set off are done, how many 10 ms looks for an answer that is
# still on its way: most steps have it by then; one that never comes (a dialog closed without a
# word) costs half a second, not two.
ANSWER_POLLS = 50


@dataclass
class Step:
    """What one line produced: the HTTP status, the private reply and the Web API calls."""

    status: int
    reply: dict[str, Any] | None = None
    calls: list[RecordedCall] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # via response_url


@dataclass
class Clickable:
    action: dict[str, Any]
    channel: str | None
    message: dict[str, Any] | None
    view: dict[str, Any] | None = None


async def _listeners_done(limit: float = 60.0) -> None:
    """Bolt acks first and finishes its listeners after (buttons, events, chart uploads):
    wait for those, so each step shows everything it caused."""
    await asyncio.sleep(0)
    running = [t for t in asyncio.all_tasks() if not t.done()
               and "run_ack_function_asynchronously" in getattr(t.get_coro(), "__qualname__", "")]
    if running:
        await asyncio.wait(running, timeout=limit)


class Simulator:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.fake = FakeSlack(bot_token="xoxb-simulator")
        self.clock = clock or OffsetClock()
        self._settings = settings
        self._signing_secret = secrets.token_hex(16)
        self.signer = SlackRequestSigner(self._signing_secret)
        self.user = self.channel = ""
        self.buttons: dict[int, Clickable] = {}
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1)
        self._submitted: set[Any] = set()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.fake.start()
        for name in DEFAULT_USERS:
            self.fake.add_user(name)
        for name in DEFAULT_CHANNELS:
            self.fake.add_channel(name)
        self.user, self.channel = self.fake.user("alice").id, self.fake.channel("general").id  # type: ignore[union-attr]
        self.fake.openid.signed_in = self.user
        admins = self._settings.admins or frozenset({self.user})
        # Bind first: executors must be told the callback URL before the app is built.
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        # Sign in with Slack through the fake: its authorize page signs a browser in as `user`.
        client_id, client_secret = "1000.2000", secrets.token_hex(16)
        self.fake.openid.register_app(client_id, client_secret, [f"{self.base_url}/login/callback"])
        settings = replace(
            self._settings, slack_bot_token="xoxb-simulator",
            slack_signing_secret=self._signing_secret, slack_api_url=self.fake.api_url,
            admins=admins, public_url=self.base_url, slack_client_id=client_id,
            slack_client_secret=client_secret, slack_url=self.fake.base_url)
        # No pacing: a transcript shows each step's messages at once (serve paces to Slack's limits).
        self.app: BotApp = create_app(settings, clock=self.clock, pacer=unpaced())
        self.app.home.refresh_delay = None  # Home shows each step's outcome, not a race with it
        await upgrade(self.app.db.engine)  # the simulator keeps its own database current
        self._runner = web.AppRunner(self.app.web, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()
        self.url = f"{self.base_url}/slack/events"
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.http.close()
        await self._runner.cleanup()
        await self.app.stop()
        await self.fake.stop()

    # ── who and where ──────────────────────────────────────────────────────────────────────

    def switch_user(self, name: str) -> str:
        name = name.lstrip("@").lower()
        user = self.fake.user(name) or self.fake.add_user(name)
        self.user = self.fake.openid.signed_in = user.id
        return user.name

    def switch_channel(self, name: str, *, private_with: Sequence[str] | None = None,
                       group_dm: bool = False) -> str:
        """Go to a channel, created if new: public, or (``private_with`` names its other members)
        a private channel or group DM that the current user, those members and the bot are in."""
        name = name.lstrip("#").lower()
        channel = self.fake.channel(name)
        if channel is None:
            people = [(self.fake.user(m) or self.fake.add_user(m)).id for m in private_with or ()]
            channel = self.fake.add_channel(name, private=private_with is not None, mpim=group_dm,
                                            members=[self.user, *people])
        self.channel = channel.id
        return channel.name

    def name_of(self, any_id: str) -> str:
        return self.fake.name_of(any_id) or any_id

    async def warehouse(self, connection: str, statement: str) -> str:
        """Run ``statement`` on a connection of the KPI source file (``sql`` in the shell)."""
        return await run_statement(self._settings, connection, statement)

    # ── steps ──────────────────────────────────────────────────────────────────────────────

    async def command(self, line: str, *, escape: bool = True, wait: bool = True) -> Step:
        """Type a slash command, e.g. ``/usecase new churn "Predict churn"``; with ``wait=False``
        the step ends with the acknowledgement, before anything it set off has run."""
        name, _, text = line.strip().partition(" ")
        if escape:  # Slack escapes mentions for commands declared with should_escape: true
            text = escape_mentions(text, self.fake.user, self.fake.channel, self.fake.usergroup)
        body = slash_command_body(
            command=name, text=text, user_id=self.user, user_name=self.name_of(self.user),
            channel_id=self.channel, channel_name=self.name_of(self.channel),
            team_id=self.fake.team_id, trigger_id=self._trigger(),
            response_url=self.fake.new_response_url(channel=self.channel, user_id=self.user),
        )
        return await self.send_signed(body, wait=wait)

    def button_number(self, label: str) -> int:
        """The newest button whose text is ``label`` (case-insensitive), e.g. "approve"."""
        wanted = label.strip().strip('"').lower()
        for number in sorted(self.buttons, reverse=True):
            if self.buttons[number].action["text"]["text"].lower() == wanted:
                return number
        raise LookupError(f"there is no {label!r} button")

    async def click(self, number: int) -> Step:
        target = self.buttons.get(number)
        if target is None:
            raise LookupError(f"there is no button {number}")
        body = block_actions_body(
            user_id=self.user, user_name=self.name_of(self.user), channel_id=target.channel,
            team_id=self.fake.team_id, action=target.action, message=target.message,
            container=None, view=target.view, trigger_id=self._trigger(),
            response_url=self.fake.new_response_url(
                channel=target.channel, user_id=self.user,
                message_ts=(target.message or {}).get("ts")),
        )
        return await self.send_signed(body, settle=self.answered())

    def answered(self) -> Any:
        """Buttons are acked first and handled after: wait until the clicker got an answer."""
        posts, opened = len(self.fake.response_posts), len(self.fake.opened_views)
        dms = len([c for c in self.fake.calls if c.args.get("channel") == self.user])
        return lambda: (len(self.fake.response_posts) > posts or len(self.fake.opened_views) > opened
                        or len([c for c in self.fake.calls if c.args.get("channel") == self.user]) > dms)

    async def submit(self, text: str) -> Step:
        """Submit the last opened dialog: ``field=value ...`` fills the inputs by name (checked
        as Slack would, see dialog_form); any other text fills its first input. A dialog
        answered with inline errors stays open, to be submitted again."""
        open_views = [v for v in self.fake.opened_views if v.get("id") not in self._submitted]
        if not open_views:
            raise LookupError("no dialog is open")
        view = open_views[-1]
        fields = dialog_form.as_fields(text, view)
        values = (dialog_form.first_input(view, text.strip().strip('"')) if fields is None else
                  dialog_form.state_values(view, fields, user=self.fake.user,
                                           channel=self.fake.channel))
        self._submitted.add(view.get("id"))
        submitted = {**view, "id": f"V{next(self._ids):08d}", "state": {"values": values}}
        body = view_submission_body(user_id=self.user, user_name=self.name_of(self.user),
                                    team_id=self.fake.team_id, view=submitted)
        step = await self.send_signed(body, settle=self.answered())
        answer = step.reply or {}
        if answer.get("response_action") == "errors":
            self._submitted.discard(view.get("id"))
        elif answer.get("response_action") == "update":  # the answer in place of the form
            self.fake.opened_views.append({**answer["view"], "id": view.get("id")})
            self._submitted.add(view.get("id"))
        return step

    async def open_home(self) -> tuple[Step, dict[str, Any] | None]:
        before = len(self.fake.calls_to("views.publish"))
        event = {"type": "app_home_opened", "user": self.user, "channel": "D" + self.user,
                 "tab": "home", "event_ts": f"{self.clock.now().timestamp():.6f}"}
        body = app_event(event, self.fake.team_id, self.clock.now())
        step = await self.send_signed(body, settle=lambda: len(self.fake.calls_to("views.publish")) > before)
        return step, self.fake.views.get(self.user)

    async def send_signed(self, body: str, *, settle: Any = None, wait: bool = True) -> Step:
        """POST ``body`` to the bot signed as Slack signs it; wait for what it set off."""
        first, first_response = len(self.fake.calls), len(self.fake.response_posts)
        async with self.http.post(self.url, data=body.encode(),
                                  headers=self.signer.headers(body)) as response:
            raw = await response.text()
            status = response.status
        if not wait:
            reply = json.loads(raw) if raw.strip().startswith("{") else None
            return Step(status, reply)
        await _listeners_done()
        await self.app.background.settle()  # what the listeners set off after their acks
        if settle is not None:  # an answer still on its way (a slow call to the fake Slack)
            for _ in range(ANSWER_POLLS):
                if settle():
                    break
                await asyncio.sleep(0.01)
        await self.app.settle()
        reply = json.loads(raw) if raw.strip().startswith("{") else None
        return Step(status, reply, self.fake.calls[first:], self.fake.response_posts[first_response:])

    async def pass_time(self, delta: timedelta) -> tuple[Step, Passed]:
        """Move the clock ``delta`` ahead the way production would have lived it: everything
        that falls due meanwhile happens at its own moment, in order (bot/runtime/timeline.py)."""
        first, first_response = len(self.fake.calls), len(self.fake.response_posts)
        passed = await Timeline(self.app.scheduler, self.app.engine, self.app.settle,
                                self.clock).pass_until(self.clock.now() + delta,
                                                       lambda at: move_to(self.clock, at))
        step = Step(200, None, self.fake.calls[first:], self.fake.response_posts[first_response:])
        return step, passed

    async def wait(self, seconds: float) -> Step:
        """Let real time pass (webhook callbacks, slow commands), doing what falls due."""
        first, first_response = len(self.fake.calls), len(self.fake.response_posts)
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while loop.time() < until:
            await self.app.settle()
            await asyncio.sleep(min(0.1, max(0.0, until - loop.time())))
        await self.app.settle()
        return Step(200, None, self.fake.calls[first:], self.fake.response_posts[first_response:])

    def _trigger(self) -> str:
        # Unique across runs too: the bot remembers deliveries (Slack retries) in the database.
        return f"{next(self._ids)}.{uuid.uuid4().hex[:16]}.trigger"

    def register_buttons(self, buttons: list[Any], *, channel: str | None,
                         message: dict[str, Any] | None, view: dict[str, Any] | None = None) -> None:
        for button in buttons:
            action = {"type": "button", "action_id": button.action_id,
                      "block_id": button.block_id, "value": button.value,
                      "text": {"type": "plain_text", "text": button.text}}
            self.buttons[button.number] = Clickable(action, channel, message, view)

    def next_button_number(self) -> int:
        return max(self.buttons, default=0) + 1
