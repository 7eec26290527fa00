"""The bot's two Web API clients: the same Slack and token, retried in two different ways.

Listeners (``views.open``, the Home tab's DMs and ``views.publish``, chart uploads,
``users.list`` ...) answer a person now: their calls ride out a dropped connection, one 500/503
and a short 429 with slack_sdk's retry handlers. The outbox worker retries on its own, persisted
and backed off per message (``bot.runtime.outbox_worker``): its client retries nothing itself.
A 429 or a 5xx is then not waited out twice, the second time inside the delivery loop; and a
connection dropped after Slack took a post (the answer lost) is not blindly posted again --
slack_sdk's default handler would -- but goes back to the worker, which looks first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

# The longest Retry-After a listener waits out (slack_sdk adds up to a second of jitter). Some
# listeners answer in Slack's 3-second acknowledgement (a command naming @someone reads
# users.list) and views.open needs a trigger_id that lives 3 seconds: a longer pause would cost
# the answer anyway, so such a 429 fails at once and the person is told.
MAX_RETRY_AFTER_SECONDS = 1


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (it sleeps for Retry-After), for short pauses only."""

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        return wait[0].isdigit() and int(wait[0]) <= MAX_RETRY_AFTER_SECONDS


def listener_retries() -> list[AsyncRetryHandler]:
    return [AsyncConnectionErrorRetryHandler(), ShortRateLimitRetryHandler(),
            AsyncServerErrorRetryHandler()]


OnError = Callable[[str, str], None]  # (method, error): Slack's error code, an HTTP status, a failure


def slack_error(error: Exception) -> str:
    """What went wrong, as a label: Slack's ``error`` (``channel_not_found``, ``ratelimited``),
    ``http_<status>`` when the answer had none, or the kind of connection failure."""
    if isinstance(error, SlackApiError):
        data = error.response.data
        code = data.get("error") if isinstance(data, dict) else None
        return str(code) if code else f"http_{error.response.status_code}"
    return type(error).__name__


class CountedWebClient(AsyncWebClient):
    """slack_sdk's client, telling ``on_error`` of every call that failed (after its retries)."""

    on_error: OnError | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            return await super().api_call(api_method, **kwargs)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, ConnectionError) as error:
            if self.on_error is not None:
                self.on_error(api_method, slack_error(error))
            raise


def web_clients(token: str | None, base_url: str,
                on_error: OnError | None = None) -> tuple[AsyncWebClient, AsyncWebClient]:
    """(the listeners' client, bolt's; the outbox worker's client)."""
    clients = (CountedWebClient(token=token, base_url=base_url, retry_handlers=listener_retries()),
               CountedWebClient(token=token, base_url=base_url, retry_handlers=[]))
    for client in clients:
        client.on_error = on_error
    return clients


PostedTs = Callable[[str], Awaitable[tuple[str | None, str, str | None]]]  # ts, status, channel


def permalinks(posted_ts: PostedTs, client: AsyncWebClient) -> Callable[[int], Awaitable[str | None]]:
    """A link to a deployment's message, for the digest's "approvals waiting"."""
    async def permalink(deployment_id: int) -> str | None:
        ts, _status, channel = await posted_ts(f"deployment:{deployment_id}")
        if ts is None or channel is None:
            return None
        try:
            found = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        return found.get("permalink")

    return permalink


def view_publisher(client: AsyncWebClient) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    async def publish(user_id: str, view: dict[str, Any]) -> None:
        await client.views_publish(user_id=user_id, view=view)

    return publish
