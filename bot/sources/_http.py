"""What the HTTP sources share: one bounded JSON request, failures that name where, secrets masked."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.domain.kpis import SourceFailure
from bot.executors.webhook import read_bounded

MAX_ANSWER_BYTES = 1024 * 1024  # a KPI answer is small; a runaway query is not buffered whole


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any            # the parsed JSON; None when the body is not JSON
    text: str            # the body, flattened and clipped, for messages (not yet masked)


def where(url: str) -> str:
    """``host:port`` of ``url``: never its user, password, path or query."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.hostname or '?'}:{port or default}"


def clip(text: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters: reasons end up in Slack messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def finite(raw: object, what: str) -> float:
    """``raw`` (a number or its text, as JSON APIs give it) as a finite float, or why not."""
    try:
        value = float(str(raw))
    except ValueError:
        raise SourceFailure(f"{what} is {clip(str(raw), 40)!r}, not a number") from None
    if not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
        raise SourceFailure(f"{what} is {shown}; a KPI must be a finite number")
    return value


def obj(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: answers are read defensively."""
    return value if isinstance(value, dict) else {}


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def request_json(session: aiohttp.ClientSession, method: str, url: str, *, what: str,
                       params: Mapping[str, str] | None = None, body: object = None,
                       headers: Mapping[str, str] | None = None) -> Answer:
    """One request; connection failures raise :class:`SourceFailure` naming ``what`` and host:port.

    The caller bounds the time (``asyncio.timeout``) and masks its secrets in what it raises.
    """
    try:
        # No redirects: one could carry the Authorization header to another host.
        async with session.request(method, url, params=params, json=body, headers=headers,
                                   allow_redirects=False) as resp:
            status = resp.status
            raw = await read_bounded(resp.content, MAX_ANSWER_BYTES + 1)
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or "connection failed"
        raise SourceFailure(f"cannot reach {what} at {where(url)}: {reason}") from None
    except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a URL aiohttp cannot use
        raise SourceFailure(f"request to {what} at {where(url)} failed ({type(exc).__name__})") from None
    if len(raw) > MAX_ANSWER_BYTES:
        raise SourceFailure(f"{what} answered HTTP {status} with more than 1 MiB; a KPI answer is small")
    text = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    return Answer(status, data, clip(text) or "(empty body)")
