"""Socket Mode for the fake Slack: `apps.connections.open` and the WebSocket it hands out.

Like Slack: the app-level token (`xapp-...`) buys a single-use WebSocket URL; on connect the
server says `hello`; envelopes (`slash_commands`, `interactive`, `events_api`) go down the
socket and the app answers each with `{"envelope_id": ..., "payload": ...}` — the ack. Tests
deliver envelopes with :meth:`SocketModeServer.send_envelope` and get that ack back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

Json = dict[str, Any]

ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    ticket: str
    pending: dict[str, asyncio.Future[Json]] = field(default_factory=dict)


class SocketModeServer:
    """The Socket Mode half of the fake; `FakeSlack` mounts it and routes the API call here."""

    def __init__(self, *, app_token: str, bot_token: Callable[[], str], app_id: str,
                 base_url: Callable[[], str]) -> None:
        self.app_token = app_token
        self.app_id = app_id
        self.acks: list[Json] = []          # every ack received, in order
        self.unexpected: list[str] = []     # anything else the app sent down a socket
        self.connections_opened = 0         # how many sockets have ever been greeted
        self._bot_token = bot_token
        self._base_url = base_url
        self._tickets: set[str] = set()
        self._open: list[_Connection] = []
        self._changed = asyncio.Condition()
        self._envelopes = itertools.count(1)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/socket/{ticket}", self._on_socket)

    @property
    def num_connections(self) -> int:
        return len(self._open)

    # -- apps.connections.open -----------------------------------------------------------
    def open_connection(self, token: str | None) -> Json:
        """The whole answer of `apps.connections.open` for the token the caller sent."""
        if token != self.app_token:
            # Slack refuses a bot token here by type; anything else is simply not a token.
            bot = token is not None and token == self._bot_token()
            return {"ok": False, "error": "not_allowed_token_type" if bot else "invalid_auth"}
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        ws_base = self._base_url().replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{ws_base}/socket/{ticket}"}

    # -- the WebSocket -------------------------------------------------------------------
    async def _on_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.match_info["ticket"]
        if ticket not in self._tickets:  # single use, as Slack's tickets are
            return web.Response(status=401, text="invalid_ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._tickets.discard(ticket)
        conn = _Connection(ws, ticket)
        self._open.append(conn)
        try:
            await ws.send_json({
                "type": "hello",
                "num_connections": len(self._open),
                "debug_info": {"host": "applink-fake", "build_number": 1,
                               "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            })
            async with self._changed:
                self.connections_opened += 1
                self._changed.notify_all()
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
        finally:
            self._open.remove(conn)
            for future in conn.pending.values():
                if not future.done():
                    future.set_exception(ConnectionResetError("socket closed before the ack"))
            async with self._changed:
                self._changed.notify_all()
        return ws

    def _on_text(self, conn: _Connection, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            message = None
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        future = conn.pending.pop(envelope_id, None) if isinstance(envelope_id, str) else None
        if future is None or message is None:
            self.unexpected.append(data)
            return
        self.acks.append(message)
        if not future.done():
            future.set_result(message)

    # -- driving it from tests -----------------------------------------------------------
    # `timeout=` like asyncio.wait_for: the callers are tests, and a bound belongs in the call.
    async def wait_connected(self, timeout: float = 5.0, *,  # noqa: ASYNC109
                             opened: int = 1) -> None:
        """Until a socket is open and at least `opened` have been greeted since start."""
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(
                    lambda: bool(self._open) and self.connections_opened >= opened), timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.connections_opened} Socket Mode connection(s) opened, "
                               f"{len(self._open)} open; wanted {opened} within {timeout} s"
                               ) from None

    async def send_envelope(self, type: str, payload: Json, *,
                            timeout: float = 5.0,  # noqa: ASYNC109
                            accepts_response_payload: bool | None = None,
                            retry_attempt: int = 0, retry_reason: str = "") -> Json:
        """Deliver one envelope on the newest socket and return the app's ack message."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"envelope type must be one of {', '.join(ENVELOPE_TYPES)}")
        if not self._open:
            raise RuntimeError("no Socket Mode connection is open")
        conn = self._open[-1]
        envelope_id = f"{next(self._envelopes):04d}-{uuid.uuid4()}"
        envelope: Json = {"envelope_id": envelope_id, "type": type, "payload": payload,
                          "accepts_response_payload": (type != "events_api"
                                                       if accepts_response_payload is None
                                                       else accepts_response_payload)}
        if type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        conn.pending[envelope_id] = future
        try:
            await conn.ws.send_json(envelope)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"no ack for {type} envelope {envelope_id} "
                               f"within {timeout} s") from None
        finally:
            conn.pending.pop(envelope_id, None)

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Tell every open socket to reconnect, as Slack does every few hours."""
        for conn in list(self._open):
            await conn.ws.send_json({"type": "disconnect", "reason": reason,
                                     "debug_info": {"host": "applink-fake"}})

    async def close_all(self) -> None:
        """Close every socket (server going away); called before the fake stops."""
        for conn in list(self._open):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
