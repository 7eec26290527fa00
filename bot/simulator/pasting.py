"""A person's message in the simulator (`say …` in the shell). When it links to the dashboard — the
simulator's own address, the app's unfurl domain — Slack tells the bot with a signed
``link_shared`` event, as it does for a domain of the manifest's ``unfurl_domains``; the bot's
``chat.unfurl`` is then among the step's calls."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.simulator.signer import app_event
from bot.simulator.simulator import Simulator, Step

if TYPE_CHECKING:
    from bot.simulator.fake_slack_state import FakeMessage

_LINK = re.compile(r"https?://[^\s<>|]+")


async def say(sim: Simulator, text: str, *, composing: bool = False) -> tuple[FakeMessage, Step]:
    """The current user posts ``text`` in the current channel (``composing``: is still writing
    it, as Slack unfurls in the composer too)."""
    ours = urlsplit(sim.base_url).netloc
    urls = [url for url in _LINK.findall(text) if urlsplit(url).netloc == ours]
    message = sim.fake.person_says(sim.user, sim.channel, text, composing=composing)
    if not urls:
        return message, Step(200)
    return message, await sim.send_signed(link_shared_body(sim, message, urls, composing=composing))


def link_shared_body(sim: Simulator, message: FakeMessage, urls: Sequence[str], *,
                     composing: bool) -> str:
    """The ``event_callback`` Slack sends for ``urls`` in ``message`` (a new event ID each time)."""
    event: dict[str, Any] = {
        "type": "link_shared", "user": message.user, "is_bot_user_member": True,
        "channel": message.channel, "message_ts": message.unfurl_id if composing else message.ts,
        "unfurl_id": message.unfurl_id,
        "source": "composer" if composing else "conversations_history",
        "links": [{"domain": urlsplit(url).hostname, "url": url} for url in urls],
        "event_ts": message.ts}
    return app_event(event, sim.fake.team_id, sim.clock.now())
