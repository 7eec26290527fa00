"""Links in messages: only plain http(s) URLs become links, built in one place that escapes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.deployment_model import StageRun, StageState
from bot.domain.executor_specs import WebhookSpec
from bot.domain.pipeline import StageSpec
from bot.domain.safe_text import MAX_URL, web_url
from bot.render.deploy_blocks import stage_line
from bot.render.mrkdwn import link

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The reproduction: a URL that closes its link, pings the channel and adds another link.
ATTACK = "https://ok.example/>|<!channel> <https://evil.example|click here"

GOOD = [
    "https://ci.example/runs/42",
    "http://127.0.0.1:8080/job?id=1&view=log#end",
    "HTTPS://CI.EXAMPLE/x",
    "https://ci.example/ünïcode/path",
    "https://[::1]:8443/run",
]
BAD = [
    ATTACK,
    "https://ok.example/>", "https://ok.example/<!here>", "https://ok.example/a|b",
    "https://ok.example/a b", "https://ok.example/a\tb", "https://ok.example/\x00",
    "https://ok.example/\u202e", "https://ok.example/\u200b", "https://ok.example/\n",
    "javascript:alert(1)", "mailto:a@b.example", "ftp://files.example/x", "//ci.example/x",
    "https://", "https:///path", "https://ci.example:99999/", "https://ci.example:port/",
    "https://[::1/", "ci.example/runs/42", "", "https://ci.example/" + "a" * MAX_URL,
]


@pytest.mark.parametrize("url", GOOD)
def test_plain_web_urls_are_kept(url: str) -> None:
    assert web_url(url) == url


@pytest.mark.parametrize("url", BAD)
def test_anything_else_is_not_a_link(url: str) -> None:
    assert web_url(url) is None
    assert link(url, "details") == ""


@pytest.mark.parametrize("value", [None, 42, ["https://ci.example/"], {"href": "https://x.example/"}])
def test_only_strings_are_urls(value: object) -> None:
    assert web_url(value) is None


def test_a_link_escapes_its_url_and_its_label() -> None:
    assert link("https://ci.example/log?a=1&b=2", "build <log> & more") == (
        "<https://ci.example/log?a=1&amp;b=2|build &lt;log&gt; &amp; more>")


def _stage(url: str | None) -> StageRun:
    spec = StageSpec("ship", WebhookSpec(url="https://deployer.example/hook"))
    return StageRun(spec, state=StageState.PASSED, started_at=T0, finished_at=T0, url=url)


def test_a_stage_links_its_details_through_the_one_helper() -> None:
    assert "<https://ci.example/runs/42|details>" in stage_line(_stage("https://ci.example/runs/42"), T0)


def test_a_url_stored_before_it_was_checked_is_not_shown_as_a_link() -> None:
    line = stage_line(_stage(ATTACK), T0)
    assert "details" not in line and "<!channel>" not in line and "evil" not in line
