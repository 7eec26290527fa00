"""Delivers the outbox to Slack: claim due messages, call the Web API, record the outcome.

429 waits for ``Retry-After``; 5xx and connection errors back off exponentially (capped);
any other Slack error (``channel_not_found`` ...) can't succeed by retrying, so the message is
marked dead and logged. A message is marked sent right after Slack accepted it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.log_events import get_logger
from bot.render.mrkdwn import link
from bot.runtime.pacing import Pacer
from bot.services.ports import OutboxItem
from storage.outbox import OutboxStore

log = get_logger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=5)
OUTBOX_EVENT = "bizdevops_outbox"
# A burst of commits (each one wakes the worker) is delivered in one pass, not one pass each:
# with hundreds of messages waiting for their channel's turn, every pass costs a query.
PASS_GAP_SECONDS = 0.1
DRAIN_POLL_SECONDS = 0.2  # shutting down: how soon to look again for a paced channel's turn
IN_FLIGHT_SECONDS = 2.0  # shutting down, the grace spent: the message being sent may finish
GIVE_UP_AFTER = 200  # attempts; at the 5-minute cap that is most of a day of Slack outage


def _linked(blocks: object, link: str) -> object:
    """The first section of a message with blocks ends with the link too (the text is only
    what notifications show)."""
    if not isinstance(blocks, list) or not link:
        return blocks
    out = [dict(b) for b in blocks]
    for block in out:
        text = block.get("text")
        if block.get("type") == "section" and isinstance(text, dict) and text.get("type") == "mrkdwn":
            block["text"] = {**text, "text": f"{text.get('text', '')}{link}"[:3000]}
            break
    return out


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts - 1, 12)), MAX_BACKOFF)


class OutboxWorker:
    def __init__(self, store: OutboxStore, client: AsyncWebClient, clock: Clock,
                 *, poll_seconds: float = 1.0, pacer: Pacer | None = None,
                 monotonic: Callable[[], float] = time.monotonic, lease: timedelta = LEASE) -> None:
        self._lease = lease
        self._pacer = pacer or Pacer()
        self._monotonic = monotonic
        self._store = store
        self._client = client
        self._clock = clock
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False  # hand back what is claimed and end now
        self._draining = False  # deliver what is due, then end
        self.retries = 0

    @property
    def client(self) -> AsyncWebClient:
        """Its own Web API client: without retries of 429 and 5xx, which the worker does itself."""
        return self._client

    def notify(self) -> None:
        """Something was enqueued: deliver now instead of at the next poll."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Everything due now that Slack's pace allows; returns how many messages were sent.

        Channels whose bucket is empty are left out of the claim (their messages stay pending,
        in order, without spending an attempt) and picked up by a later pass.
        """
        sent = 0
        while (room := self._pacer.room(self._monotonic())) > 0:
            busy = self._pacer.busy_channels(self._monotonic())
            batch = await self._store.claim(self._clock.now(), lease=self._lease, limit=min(room, 50),
                                            exclude_channels=busy)
            if not batch:
                break
            for index, item in enumerate(batch):
                if self._stopping:  # shutting down: hand the rest back for another process
                    await self._store.release([i.id for i in batch[index:]])
                    return sent
                sent += await self._deliver(item)
                self._pacer.sent(item.channel, self._monotonic())
        return sent

    async def _resolve(self, item: OutboxItem) -> dict[str, object] | None:
        """Fill in the ``ts`` of the message an edit or a thread reply refers to."""
        args: dict[str, object] = dict(item.args)
        for ref, key in ((item.update_of, "ts"), (item.thread_of, "thread_ts")):
            if ref is None:
                continue
            ts, status, _channel = await self._store.posted_ts(ref)
            if ts is None:  # per-channel order means the post went first: it can never arrive
                await self._store.give_up(item.id, f"{ref} was never posted ({status})")
                return None
            args[key] = ts
        if item.method == "chat.update" and item.channel.startswith(("U", "W")):
            # A direct message is posted to the user's id, but edited in the DM's own (D…).
            args["channel"] = await self._conversation(item.channel)
        if item.link_of is not None:
            link = await self._link(item.link_of)
            args["text"] = f"{args.get('text', '')}{link}"
            if "blocks" in args:
                args["blocks"] = _linked(args["blocks"], link)
        return args

    async def _link(self, ref: str) -> str:
        """" — <permalink|open>" to the message posted under ``ref``; " in #channel" when there
        is no link to be had (not posted yet, Slack said no); "" when nothing is known of it."""
        ts, _status, channel = await self._store.posted_ts(ref)
        if channel is None:
            return ""
        if ts is not None:
            try:
                found = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
            except (SlackApiError, aiohttp.ClientError, TimeoutError, ConnectionError):
                found = None
            if found is not None and (shown := link(found.get("permalink"), "open")):
                return f" — {shown}"
        return f" in <#{channel}>"

    async def _deliver(self, item: OutboxItem) -> int:
        try:
            args = await self._resolve(item)  # may open a DM's conversation: a Web API call
            if args is None:
                return 0
            if item.method == "chat.postMessage":
                # A hidden tag, so a retry can tell whether an earlier try reached Slack after all.
                args["metadata"] = {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": item.id}}
                if (ts := await self._posted_before(item, args)) is not None:
                    await self._store.mark_sent(item.id, self._clock.now(), ts)
                    log.info("outbox.already_posted", outbox_id=item.id)
                    return 1
            response = await self._client.api_call(item.method, json=args)
        except SlackApiError as error:
            await self._failed(item, error)
            return 0
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as error:
            await self._retry(item, backoff(item.attempts), f"connection: {type(error).__name__}")
            return 0
        await self._store.mark_sent(item.id, self._clock.now(), response.get("ts"))
        log.info("outbox.sent", outbox_id=item.id, method=item.method, channel=item.channel,
                 attempts=item.attempts)
        return 1

    async def _posted_before(self, item: OutboxItem, args: dict[str, object]) -> str | None:
        """After a try whose outcome is unknown (a crash, a lost answer, a 5xx), look for the
        tagged message before posting again: Slack has no idempotency key for posts."""
        if item.attempts <= 1 or item.last_error == "ratelimited":
            return None  # a first try, or Slack said plainly that it did not post
        try:  # the newest 200 messages: a retry comes within minutes of the lost try
            channel = await self._conversation(item.channel)
            if args.get("thread_ts"):
                found = await self._client.conversations_replies(
                    channel=channel, ts=str(args["thread_ts"]), include_all_metadata=True,
                    limit=200)
            else:
                found = await self._client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200)
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            return None  # can't tell: posting again is better than losing the message
        messages: list[dict[str, Any]] = found.get("messages", [])
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_id") == item.id:
                return str(message.get("ts"))
        return None

    async def _conversation(self, channel: str) -> str:
        """The conversation to read: a direct message is posted to the user's id, but only the
        DM's own id (D…, from conversations.open: the same DM every time) has a history."""
        if not channel.startswith(("U", "W")):
            return channel
        opened = await self._client.conversations_open(users=channel)
        return str(opened["channel"]["id"])

    async def _failed(self, item: OutboxItem, error: SlackApiError) -> None:
        status = error.response.status_code
        code = error.response.get("error", "unknown") if error.response.data else "unknown"
        if status == 429:
            wait = int(error.response.headers.get("retry-after", error.response.headers.get(
                "Retry-After", 1)))
            await self._retry(item, timedelta(seconds=max(wait, 1)), "ratelimited")
        elif status >= 500:
            await self._retry(item, backoff(item.attempts), f"HTTP {status} {code}")
        else:
            await self._store.give_up(item.id, f"slack error: {code}")
            log.error("outbox.dead", outbox_id=item.id, method=item.method, channel=item.channel, error=code)

    async def _retry(self, item: OutboxItem, wait: timedelta, reason: str) -> None:
        self.retries += 1
        if item.attempts >= GIVE_UP_AFTER:
            await self._store.give_up(item.id, f"gave up after {item.attempts} tries: {reason}")
            log.error("outbox.dead", outbox_id=item.id, reason=reason)
            return
        await self._store.retry_later(item.id, self._clock.now() + wait, reason)
        log.warning("outbox.retry", outbox_id=item.id, reason=reason, wait_s=wait.total_seconds(),
                    attempts=item.attempts)

    # ── the background loop ────────────────────────────────────────────────────────────────

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self, grace: float = 0.0) -> None:
        """Deliver what is due now for up to ``grace`` seconds (the results of steps that finished
        during the shutdown included), then finish the message being sent, release the rest."""
        if self._task is None:
            return
        self._draining = True
        self._wake.set()
        if grace <= 0 or not (await asyncio.wait({self._task}, timeout=grace))[0]:
            self._stopping = True
            self._wake.set()
            done, _ = await asyncio.wait({self._task}, timeout=IN_FLIGHT_SECONDS if grace > 0 else 0.001)
            if not done:
                self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _due_now(self) -> bool:
        due = await self._store.next_due()
        return due is not None and due <= self._clock.now()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the pass: what is enqueued during it wakes the next one
            try:
                sent = await self.deliver_due()
                if self._draining and not sent and not await self._due_now():
                    return  # all that was due is delivered: the shutdown may go on
            except Exception:  # noqa: BLE001 - a database hiccup must not kill delivery for good
                log.exception("outbox.loop_error")
            await asyncio.sleep(PASS_GAP_SECONDS)
            try:  # while draining, a paced channel gets its next turn soon: look again shortly
                await asyncio.wait_for(self._wake.wait(),
                                       timeout=DRAIN_POLL_SECONDS if self._draining else self._poll)
            except TimeoutError:
                pass
