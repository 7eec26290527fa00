"""GitHub's REST API as the github-actions executor calls it: one call with its retries and
rate-limit waits.

The token goes only into the ``Authorization`` header; GitHub's own words are masked before
anything else is done with them, since an error answer can quote the token back. Time is read
from an injected clock and passed with an injected sleep, so tests can run a stage of minutes
in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.executors._common import clip
from bot.executors.github_limits import RATE_LIMIT_BUDGET, floor, rate_limit, until_words
from bot.executors.webhook import read_bounded
from bot.log_events import get_logger
from bot.masking import mask, url_secrets

log = get_logger(__name__)

API_VERSION = "2022-11-28"   # the version whose dispatch still takes return_run_details
MAX_ANSWER_BYTES = 1024 * 1024  # a workflow run (with its repository) is tens of kB

Sleep = Callable[[float], Awaitable[None]]


class GithubFailed(Exception):
    """The call failed; the message says how (safe to show once masked: no token, no URL).
    ``status``: GitHub's answer, if it gave one; ``transient``: a 5xx or a lost connection, what
    another try a little later may get past."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


class _Retryable(Exception):
    """This attempt failed in a way worth another try."""


@dataclass
class Pace:
    """One step's time on the executor's clock (Unix seconds), when the stage's time is up, and
    its patience: how many rate-limited answers it has had."""

    ends: float
    limited: int = 0


@dataclass(frozen=True)
class ApiSettings:
    """``retries``: extra attempts after a connection error or a 5xx; ``clock`` is Unix time
    (it reads ``x-ratelimit-reset``), ``sleep`` waits on it."""

    retries: int
    backoff: Callable[[int], float]
    clock: Callable[[], float]
    sleep: Sleep


class GithubApi:
    def __init__(self, api_url: str, token: str, settings: ApiSettings) -> None:
        self._api = api_url.rstrip("/")
        self._token = token
        self._secrets = (token, *url_secrets(api_url))
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def mask(self, text: str) -> str:
        return mask(text, self._secrets)

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                   pace: Pace, idempotent: bool = True, retries: int | None = None) -> tuple[int, Any]:
        """One API call with its retries and rate-limit waits: (status, JSON) of a 2xx.
        ``retries`` (default: the executor's) after a connection error or a 5xx."""
        attempt, most = 0, self._settings.retries if retries is None else retries
        while True:
            try:
                status, headers, data = await self._request(method, path, body, idempotent=idempotent)
            except _Retryable as exc:
                if attempt >= most:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise GithubFailed(f"GitHub API {method} failed{tries}: {exc}", transient=True) from None
                await self._settings.sleep(self._settings.backoff(attempt))
                attempt += 1
                continue
            if 200 <= status < 300:
                return status, data
            wait = self._rate_limit_wait(status, headers, pace)
            if wait is None:
                raise GithubFailed(f"GitHub API answered HTTP {status}: {self._message(data)}",
                                   status=status)
            log.warning("github_rate_limited", status=status, wait_seconds=round(wait, 1))
            await self._settings.sleep(wait)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None, *,
                       idempotent: bool) -> tuple[int, Any, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": API_VERSION}
        try:
            async with self._session.request(method, self._api + path, json=body, headers=headers,
                                             allow_redirects=False) as resp:
                raw = await read_bounded(resp.content, MAX_ANSWER_BYTES)
                status, answer_headers = resp.status, resp.headers
        except aiohttp.ClientConnectorError as exc:  # nothing was sent: always safe to retry
            raise _Retryable(f"cannot connect to {exc.host}:{exc.port}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            if not idempotent:  # the dispatch may have happened: a retry could start a second run
                raise GithubFailed(f"GitHub API {method} failed: connection lost "
                                   f"({type(exc).__name__})") from None
            raise _Retryable(f"connection error ({type(exc).__name__})") from None
        if status >= 500 and idempotent:
            raise _Retryable(f"HTTP {status}")
        return status, answer_headers, _json(raw)

    def _rate_limit_wait(self, status: int, headers: Any, pace: Pace) -> float | None:
        """Seconds to wait before trying again (at least the step's floor), or None when the
        answer is not a rate limit.

        Raises when the limit lifts only after the stage's deadline, or when the step has had
        its budget of rate-limited answers."""
        now = self._settings.clock()
        limit = rate_limit(status, headers, now)
        if limit is None:
            return None
        pace.limited += 1
        until = max(limit.until, now + floor(pace.limited))
        said = until_words(until, clamped=limit.clamped and until == limit.until)
        if pace.limited >= RATE_LIMIT_BUDGET:
            raise GithubFailed(f"rate-limited by GitHub until {said}; "
                               f"gave up after {pace.limited} rate-limited answers")
        if until > pace.ends:
            raise GithubFailed(f"rate-limited by GitHub until {said}, after the stage's timeout")
        return until - now

    def _message(self, data: Any) -> str:
        """GitHub's ``message`` of an error answer, masked before it is clipped (a token cut in
        half would no longer be found)."""
        message = data.get("message") if isinstance(data, dict) else None
        return clip(self.mask(message), 200) if isinstance(message, str) and message else "(no message)"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:  # also UnicodeDecodeError; a cut-off answer too
        return None
