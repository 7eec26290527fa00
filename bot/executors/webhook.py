"""The webhook executor: a signed JSON POST, retried on 5xx and connection errors.

A job is signed ``X-Bizdevops-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``
with ``X-Bizdevops-Timestamp: <unix seconds>`` (``sign``/``verify``, the receiver's side). A
callback's signature also covers the path and query it is posted to,
``"<timestamp>.<path>.<body>"`` (``sign_callback``/``verify_callback``): a result signed for one
step is worthless on any other step's URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp

from bot.clock import within_window
from bot.domain.executor_specs import ExecutorSpec, WebhookSpec
from bot.domain.safe_text import web_url
from bot.executors._common import clip, format_timeout
from bot.executors.base import ExecutorResult, Outcome, StageJob
from bot.log_events import get_logger

log = get_logger(__name__)

TIMESTAMP_HEADER = "X-Bizdevops-Timestamp"
SIGNATURE_HEADER = "X-Bizdevops-Signature"
_PREFIX = "sha256="
MAX_ANSWER_BYTES = 64 * 1024   # an answer is a small JSON object; never buffer more
DETAIL_LIMIT = 1000
_RETRY_STATUSES = frozenset({408, 429})  # besides every 5xx: "try again later" answers


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """A job's signature: ``"sha256=<hex>"`` over ``"<timestamp>.<body>"``."""
    return _mac(secret, str(timestamp).encode(), body)


def sign_callback(secret: str, timestamp: int, path: str, body: bytes) -> str:
    """A callback's signature: ``"sha256=<hex>"`` over ``"<timestamp>.<path>.<body>"``, where
    ``path`` is the callback URL's path with its query string (``/api/…/result?kind=run``)."""
    return _mac(secret, str(timestamp).encode(), path.encode(), body)


def callback_path(url: str) -> str:
    """What a callback to ``url`` signs besides its body: the path and the query, as sent."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def verify(secret: str, timestamp_header: str | None, signature_header: str | None, body: bytes,
           *, now: float) -> bool:
    """True only for a well-formed, fresh job signature made with ``secret`` over ``body``."""
    return _verify(secret, timestamp_header, signature_header, (body,), now)


def verify_callback(secret: str, timestamp_header: str | None, signature_header: str | None,
                    path: str, body: bytes, *, now: float) -> bool:
    """True only for a fresh callback signature over ``path`` (path and query) and ``body``."""
    return _verify(secret, timestamp_header, signature_header, (path.encode(), body), now)


def _verify(secret: str, timestamp_header: str | None, signature_header: str | None,
            signed: tuple[bytes, ...], now: float) -> bool:
    if not secret or not timestamp_header or not signature_header:
        return False
    ts = timestamp_header
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 15):
        return False
    if not within_window(int(ts), now):
        return False  # stale or from the future: a replay
    if not signature_header.isascii():
        return False  # compare_digest needs ASCII; a real signature always is
    # The MAC covers the header text exactly as received.
    return hmac.compare_digest(_mac(secret, ts.encode(), *signed), signature_header)


def _mac(secret: str, *parts: bytes) -> str:
    digest = hmac.new(secret.encode(), b".".join(parts), hashlib.sha256)
    return _PREFIX + digest.hexdigest()


def encode_job(job: StageJob) -> bytes:
    payload = {
        "deployment_id": job.deployment_id,
        "use_case": job.use_case,
        "version": job.version,
        "stage": job.stage,
        "wave": job.wave,
        "targets": list(job.targets),
        "callback_url": job.callback_url,
        "requested_by": job.requested_by,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def exponential_backoff(retry: int) -> float:
    """Seconds before retry ``retry`` (0-based): 0.5, 1, 2, …"""
    return 0.5 * 2**retry


class _Retryable(Exception):
    """An attempt failed in a way worth trying again; the message is safe to show."""


class WebhookExecutor:
    """``retries``: extra attempts after the first. A session given belongs to the caller;
    without one, the executor opens its own on first use and :meth:`close` closes it."""

    def __init__(
        self,
        secret: str,
        session: aiohttp.ClientSession | None = None,
        *,
        retries: int = 3,
        backoff: Callable[[int], float] = exponential_backoff,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._given = session
        self._own: aiohttp.ClientSession | None = None
        self._retries = max(0, retries)
        self._backoff = backoff
        self._clock = clock

    @property
    def _session(self) -> aiohttp.ClientSession:
        if self._given is not None:
            return self._given
        if self._own is None or self._own.closed:
            self._own = aiohttp.ClientSession()
        return self._own

    async def close(self) -> None:
        if self._own is not None:
            await self._own.close()
            self._own = None

    async def run(
        self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta  # noqa: ASYNC109 (protocol)
    ) -> ExecutorResult:
        assert isinstance(spec, WebhookSpec)  # Executors runs each spec with its kind's executor
        if not self._secret:
            return ExecutorResult(Outcome.FAILED, "webhook secret is not configured")  # fail closed
        if not spec.url.startswith(("http://", "https://")):
            return ExecutorResult(Outcome.FAILED, "webhook URL is missing or not http(s)")
        body = encode_job(job)
        errors: list[str] = []
        try:
            async with asyncio.timeout(timeout.total_seconds()):
                return await self._deliver(spec.url, body, job, errors)
        except TimeoutError:
            last = f"; last error: {errors[-1]}" if errors else ""
            log.warning("webhook_timeout", deployment_id=job.deployment_id, stage=job.stage, wave=job.wave,
                        attempts=len(errors) + 1)
            return ExecutorResult(Outcome.FAILED, f"webhook timed out after {format_timeout(timeout)}{last}")

    async def _deliver(self, url: str, body: bytes, job: StageJob, errors: list[str]) -> ExecutorResult:
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff(attempt - 1))
            try:
                result = await self._post(url, body)
            except _Retryable as exc:
                errors.append(str(exc))
                log.warning("webhook_attempt_failed", deployment_id=job.deployment_id, stage=job.stage,
                            wave=job.wave, attempt=attempt + 1, error=clip(str(exc), 120))
                continue
            log.info("webhook_done", deployment_id=job.deployment_id, stage=job.stage, wave=job.wave,
                     attempt=attempt + 1, outcome=result.outcome)
            return result
        return ExecutorResult(Outcome.FAILED, f"webhook failed after {len(errors)} attempts: {errors[-1]}")

    async def _post(self, url: str, body: bytes) -> ExecutorResult:
        timestamp = int(self._clock())  # signed per attempt: a late retry is not stale
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        try:
            # No redirects: following one would turn the POST into a GET or re-send it elsewhere.
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                status = resp.status
                raw = await read_bounded(resp.content, MAX_ANSWER_BYTES)
        except aiohttp.ClientError as exc:
            raise _Retryable(_describe_error(exc)) from exc
        return _interpret(status, raw)


def _interpret(status: int, raw: bytes) -> ExecutorResult:
    if status == 202:
        return ExecutorResult(Outcome.ACCEPTED, "webhook accepted the job; waiting for its callback")
    if 200 <= status < 300:
        return _parse_answer(status, raw)
    if status >= 500 or status in _RETRY_STATUSES:
        raise _Retryable(f"HTTP {status}: {_short(raw)}")
    return ExecutorResult(Outcome.FAILED, f"HTTP {status}: {_short(raw)}")


def _parse_answer(status: int, raw: bytes) -> ExecutorResult:
    try:
        data = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        data = None
    if not isinstance(data, dict) or data.get("status") not in ("succeeded", "failed"):
        return ExecutorResult(Outcome.FAILED, f"unexpected answer: HTTP {status}: {_short(raw)}")
    outcome = Outcome.SUCCEEDED if data["status"] == "succeeded" else Outcome.FAILED
    detail = data.get("detail")
    detail = detail[:DETAIL_LIMIT] if isinstance(detail, str) else ""
    # Only web links that can't break out of a Slack link; anything else is left out.
    return ExecutorResult(outcome, detail or f"webhook reported {outcome}", url=web_url(data.get("url")))


async def read_bounded(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """At most ``limit`` bytes of the answer; the rest is not read."""
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := await stream.read(limit - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _short(raw: bytes) -> str:
    return clip(raw.decode("utf-8", errors="replace"), 200) or "(empty body)"


def _describe_error(exc: aiohttp.ClientError) -> str:
    """A message without the URL (it may carry a token in its path or query)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or 'connection failed'}"
    if isinstance(exc, TimeoutError):
        return "request timed out"
    return f"connection error ({type(exc).__name__})"
