"""bot/slack/conversations.py: whether a channel is private and who is in it, as Slack says,
remembered for a while — privacy for minutes, membership for half a minute, failures never."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.conversations import MEMBERS_CACHE_SECONDS, PRIVACY_CACHE_SECONDS, SlackConversations

CHANNELS: dict[str, dict[str, Any]] = {
    "C_OPS": {"id": "C_OPS", "is_channel": True, "is_private": False},
    "C_DEALS": {"id": "C_DEALS", "is_channel": True, "is_private": True},
    "G_TEAM": {"id": "G_TEAM", "is_mpim": True, "is_private": True},
    "G_OLD": {"id": "G_OLD", "is_group": True},  # a private channel as Slack answered of old
    "D_ALICE": {"id": "D_ALICE", "is_im": True, "user": "U_ALICE"},
}


class StubSlack:
    """conversations.info and conversations.members as slack_sdk's client answers them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.members = {"C_DEALS": [f"U{i:03d}" for i in range(450)]}
        self.failing: str | None = None  # the next call fails with this error

    def _answer(self, method: str, args: dict[str, Any]) -> None:
        self.calls.append((method, args))
        error, self.failing = self.failing, None
        if error is None and args["channel"] not in CHANNELS:
            error = "channel_not_found"
        if error is not None:
            raise SlackApiError(error, {"ok": False, "error": error})

    async def conversations_info(self, **args: Any) -> dict[str, Any]:
        self._answer("info", args)
        return {"ok": True, "channel": CHANNELS[args["channel"]]}

    async def conversations_members(self, **args: Any) -> dict[str, Any]:
        self._answer("members", args)
        everyone = self.members.get(args["channel"], [])
        start = int(args.get("cursor") or 0)
        end = start + args["limit"]
        return {"ok": True, "members": everyone[start:end],
                "response_metadata": {"next_cursor": str(end) if end < len(everyone) else ""}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slack() -> StubSlack:
    return StubSlack()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def channels(slack: StubSlack, clock: Clock) -> SlackConversations:
    return SlackConversations(slack, monotonic=clock)  # type: ignore[arg-type]


def asked(slack: StubSlack, method: str) -> list[str]:
    return [args["channel"] for called, args in slack.calls if called == method]


async def test_private_channels_group_dms_and_dms_are_private(
    channels: SlackConversations, slack: StubSlack,
) -> None:
    found = {c: await channels.is_private(c) for c in [*CHANNELS, "C_GONE"]}
    assert found == {"C_OPS": False, "C_DEALS": True, "G_TEAM": True, "G_OLD": True,
                     "D_ALICE": True, "C_GONE": None}  # one the bot cannot see: None


async def test_privacy_is_remembered_for_minutes(
    channels: SlackConversations, slack: StubSlack, clock: Clock,
) -> None:
    for _ in range(3):
        assert await channels.is_private("C_DEALS") is True
    assert asked(slack, "info") == ["C_DEALS"]
    clock.now += PRIVACY_CACHE_SECONDS - 1
    assert await channels.is_private("C_DEALS") is True
    assert asked(slack, "info") == ["C_DEALS"]
    clock.now += 1
    assert await channels.is_private("C_DEALS") is True
    assert asked(slack, "info") == ["C_DEALS", "C_DEALS"]


async def test_a_channel_the_bot_cannot_see_is_asked_again_soon(
    channels: SlackConversations, slack: StubSlack, clock: Clock,
) -> None:
    assert await channels.is_private("C_GONE") is None
    assert await channels.is_private("C_GONE") is None
    assert asked(slack, "info") == ["C_GONE"]
    clock.now += MEMBERS_CACHE_SECONDS  # the bot may have been invited meanwhile
    assert await channels.is_private("C_GONE") is None
    assert asked(slack, "info") == ["C_GONE", "C_GONE"]


async def test_members_come_from_every_page_and_are_remembered_briefly(
    channels: SlackConversations, slack: StubSlack, clock: Clock,
) -> None:
    members = await channels.members("C_DEALS")
    assert members == frozenset(f"U{i:03d}" for i in range(450))
    pages = [args for called, args in slack.calls if called == "members"]
    assert [(p["limit"], p.get("cursor")) for p in pages] == [(200, None), (200, "200"),
                                                              (200, "400")]
    assert await channels.members("C_DEALS") == members
    assert len(asked(slack, "members")) == 3
    slack.members["C_DEALS"] = ["U000"]  # everyone else left
    clock.now += MEMBERS_CACHE_SECONDS - 1
    assert len(await channels.members("C_DEALS")) == 450
    clock.now += 1
    assert await channels.members("C_DEALS") == frozenset({"U000"})


async def test_nobody_is_in_a_channel_the_bot_cannot_see(
    channels: SlackConversations, slack: StubSlack,
) -> None:
    assert await channels.members("C_GONE") == frozenset()


async def test_a_failed_call_is_raised_and_not_remembered(
    channels: SlackConversations, slack: StubSlack,
) -> None:
    for ask in (channels.is_private, channels.members):
        slack.failing = "ratelimited"
        with pytest.raises(SlackApiError):
            await ask("C_DEALS")
    assert await channels.is_private("C_DEALS") is True
    assert len(await channels.members("C_DEALS")) == 450
