"""An in-process fake of the Slack Web API served over real HTTP by aiohttp.

Point `AsyncWebClient(base_url=fake.api_url)` at it: the bot's real client code path runs,
every call is recorded, and faults (5xx, 429, dropped connections) can be injected per method.
Socket Mode (`apps.connections.open` with the app token, then a WebSocket) is in
`fake_socket_mode.py`: `await fake.wait_connected()`, then `await fake.send_envelope(...)`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.simulator.fake_slack_http import bearer, read_args, read_upload
from bot.simulator.fake_slack_methods import handle as handle_method
from bot.simulator.fake_slack_methods import normalise_blocks
from bot.simulator.fake_slack_openid import FakeOpenId
from bot.simulator.fake_slack_state import (
    FakeChannel,
    FakeMessage,
    FakeUser,
    Json,
    SlackError,
    SlackState,
)
from bot.simulator.fake_socket_mode import SocketModeServer
from bot.slack.manifest import BOT_SCOPES

__all__ = ["FakeChannel", "FakeMessage", "FakeSlack", "FakeUser", "Fault", "RecordedCall"]

@dataclass
class RecordedCall:
    method: str
    args: dict[str, Any]
    at: float
    status: int
    response: dict[str, Any]


@dataclass
class Fault:
    status: int = 500
    retry_after: int | None = None
    drop_connection: bool = False
    error: str = "internal_error"
    applied: bool = False  # Slack did what was asked, and its answer was lost on the way back


class FakeSlack:
    def __init__(
        self, *, bot_token: str = "xoxb-fake", team_id: str = "T0SIM", bot_user_id: str = "U0BOT",
        app_token: str = "xapp-fake", app_id: str = "A0SIM", scopes: tuple[str, ...] = BOT_SCOPES,
    ) -> None:
        self.bot_token = bot_token
        self.scopes = scopes  # granted to the bot token; Slack names them in ``x-oauth-scopes``
        self.socket_mode = SocketModeServer(app_token=app_token, app_id=app_id,
                                            bot_token=lambda: self.bot_token,
                                            base_url=lambda: self.base_url)
        self.send_envelope = self.socket_mode.send_envelope
        self.wait_connected = self.socket_mode.wait_connected
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.calls: list[RecordedCall] = []
        self.response_posts: list[tuple[str, dict]] = []
        self._state = SlackState(team_id=team_id, bot_user_id=bot_user_id,
                                 base_url=lambda: self.base_url)
        # Sign in with Slack: ``openid.signed_in`` is whom its authorize page signs a browser in as.
        self.openid = FakeOpenId(team_id, lambda: self.base_url, self._state.user)
        self._faults: dict[str, deque[Fault]] = {}
        self._subscribers: list[Callable[[RecordedCall], None]] = []
        self._response_targets: dict[str, dict[str, str | None]] = {}
        self._tokens = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._on_api)
        app.router.add_post("/upload/{file_id}", self._on_upload)
        app.router.add_post("/response/{token}", self._on_response_url)
        app.router.add_get("/openid/connect/authorize", self.openid.authorize)
        self.socket_mode.add_routes(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._host, self._port = self._runner.addresses[0][:2]

    async def stop(self) -> None:
        if self._runner is not None:
            await self.socket_mode.close_all()
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # -- state shortcuts -----------------------------------------------------------------
    @property
    def views(self) -> dict[str, dict]:
        return self._state.views

    @property
    def opened_views(self) -> list[dict]:
        return self._state.opened_views

    @property
    def uploads(self) -> list[dict]:
        return self._state.uploads

    def add_user(self, name: str, user_id: str | None = None,
                 real_name: str | None = None) -> FakeUser:
        return self._state.add_user(name, user_id, real_name)

    def add_channel(self, name: str, channel_id: str | None = None, *, private: bool = False,
                    mpim: bool = False, members: list[str] | None = None,
                    bot_invited: bool = True) -> FakeChannel:
        """A public channel; or a private one (``private``) or group DM (``mpim``) that only
        ``members`` (user ids) and, unless not ``bot_invited``, the bot are in."""
        return self._state.add_channel(name, channel_id, private=private, mpim=mpim,
                                       members=members, bot_invited=bot_invited)

    def add_usergroup(self, handle: str, member_ids: list[str],
                      group_id: str | None = None) -> str:
        return self._state.add_usergroup(handle, member_ids, group_id)

    def user(self, id_or_name: str) -> FakeUser | None:
        return self._state.user(id_or_name)

    def channel(self, id_or_name: str) -> FakeChannel | None:
        return self._state.channel(id_or_name)

    def usergroup(self, id_or_handle: str) -> tuple[str, str] | None:
        """(id, handle) of a user group by id or handle."""
        for gid, (handle, _) in self._state.usergroups.items():
            if id_or_handle in (gid, handle, "@" + handle):
                return gid, handle
        return None

    def name_of(self, any_id: str) -> str | None:
        """Display name for a user, channel or group id (what render_text's `names` wants)."""
        if any_id in self._state.users:
            return self._state.users[any_id].name
        if any_id in self._state.channels:
            return self._state.channels[any_id].name
        group = self._state.usergroups.get(any_id)
        return group[0] if group else None

    def messages(self, channel: str | None = None) -> list[FakeMessage]:
        if channel is None:
            return list(self._state.messages)
        chan = self._state.channel(channel)
        chan_id = chan.id if chan else channel
        return [m for m in self._state.messages if m.channel == chan_id]

    def person_says(self, user_id: str, channel: str, text: str, *,
                    composing: bool = False) -> FakeMessage:
        """A message from a person (links in it are what ``link_shared`` tells the bot of),
        posted in ``channel``, or still being written (``composing``)."""
        return self._state.person_says(user_id, channel, text, composing=composing)

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[RecordedCall]:
        return [c for c in self.calls
                if c.method == method and (not ok_only or c.response.get("ok") is True)]

    def inject(self, method: str, *faults: Fault) -> None:
        self._faults.setdefault(method, deque()).extend(faults)

    def subscribe(self, callback: Callable[[RecordedCall], None]) -> None:
        self._subscribers.append(callback)

    def new_response_url(self, *, channel: str | None = None, user_id: str | None = None,
                         message_ts: str | None = None) -> str:
        """A response_url; with the context given, posts also change `messages()` like Slack."""
        token = f"R{next(self._tokens):06d}"
        self._response_targets[token] = {"channel": channel, "user_id": user_id,
                                         "message_ts": message_ts}
        return f"{self.base_url}/response/{token}"

    # -- HTTP handlers -------------------------------------------------------------------
    async def _on_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await read_args(request)
        token = bearer(request) or args.pop("token", None)
        args.pop("token", None)
        queue = self._faults.get(method)
        if queue:
            return await self._answer_fault(request, method, args, queue.popleft())
        if method.startswith("openid.connect."):  # the app's credentials or a person's token
            body: Json = self.openid.call(method, args, request.headers.get("Authorization"))
        elif method == "apps.connections.open":
            body = self.socket_mode.open_connection(token)
        elif token != self.bot_token:
            app_token = token is not None and token == self.socket_mode.app_token
            body = {"ok": False, "error": "not_allowed_token_type" if app_token else "invalid_auth"}
        else:
            try:
                body = handle_method(self._state, method, args)
            except SlackError as err:
                body = {"ok": False, "error": err.error}
        self._record(method, args, 200, body)
        # Slack names the token's scopes on every answer to a token it knows.
        granted = {"x-oauth-scopes": ",".join(self.scopes)} if token == self.bot_token else None
        return web.json_response(body, headers=granted)

    async def _answer_fault(self, request: web.Request, method: str, args: Json,
                            fault: Fault) -> web.StreamResponse:
        if fault.applied:
            handle_method(self._state, method, args)
        if fault.drop_connection:
            self._record(method, args, 0, {"ok": False, "error": "connection_dropped"})
            # Aborting the transport without a reply is what the client sees on a network cut.
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        error = "ratelimited" if fault.status == 429 else fault.error
        body = {"ok": False, "error": error}
        headers = {}
        if fault.status == 429 or fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
        self._record(method, args, fault.status, body)
        return web.json_response(body, status=fault.status, headers=headers)

    async def _on_upload(self, request: web.Request) -> web.StreamResponse:
        pending = self._state.pending_files.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="file not found")
        pending["content"] = await read_upload(request)
        return web.Response(text=f"OK - {len(pending['content'])}")

    async def _on_response_url(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        self.response_posts.append((token, body))
        self._apply_response(self._response_targets.get(token, {}), body)
        self._notify(RecordedCall("response_url", {"token": token, **body}, time.time(), 200,
                                  {"ok": True}))
        return web.json_response({"ok": True})

    # -- helpers -------------------------------------------------------------------------
    def _apply_response(self, target: dict[str, str | None], body: Json) -> None:
        channel, ts = target.get("channel"), target.get("message_ts")
        if not channel:
            return
        if ts and body.get("delete_original"):
            self._state.messages = [m for m in self._state.messages
                                    if not (m.channel == channel and m.ts == ts)]
            return
        if ts and body.get("replace_original"):
            args = {"channel": channel, "ts": ts, "text": body.get("text", "")}
            if "blocks" in body:
                args["blocks"] = body["blocks"]
            try:
                handle_method(self._state, "chat.update", args)
            except SlackError:
                pass  # the original is gone; Slack silently ignores this too
            return
        ephemeral = body.get("response_type") != "in_channel"
        new_ts = self._state.next_ts()
        self._state.messages.append(FakeMessage(
            channel, new_ts, body.get("text", ""), normalise_blocks(body.get("blocks"), new_ts),
            body.get("thread_ts"), self.bot_user_id,
            ephemeral_for=target.get("user_id") if ephemeral else None))

    def _record(self, method: str, args: Json, status: int, response: Json) -> None:
        call = RecordedCall(method, args, time.time(), status, response)
        self.calls.append(call)
        self._notify(call)

    def _notify(self, call: RecordedCall) -> None:
        for callback in list(self._subscribers):
            callback(call)
