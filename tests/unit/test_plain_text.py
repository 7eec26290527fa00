"""Slack mrkdwn as plain text (the deployments API's refusals): what each entity names, no
emphasis markers, escapes undone; code spans and URLs kept whole."""

from __future__ import annotations

import pytest

from bot.domain.errors import Conflict
from bot.render.plain_text import plain_text
from bot.render.refusals import plain


@pytest.mark.parametrize(("mrkdwn", "text"), [
    ("requested by <@U1>", "requested by @U1"),
    ("<@U1|alice> and <#C1|general> and <#C2>", "@alice and #general and #C2"),
    ("<!subteam^S1|@release> or <!subteam^S2>", "@release or @S2"),
    ("<!here> <!date^1700000000^{date}|Nov 14>", "@here Nov 14"),
    ("see <https://ci.test/run_1_|the *run*>", "see the *run* (https://ci.test/run_1_)"),
    ("<https://ci.test/x>", "https://ci.test/x"),
    ("stage *prod* is _late_ ~gone~", "stage prod is late gone"),
    ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
    ("use `/deploy cancel 3`", "use `/deploy cancel 3`"),
    ("a &lt;b&gt; &amp; c", "a <b> & c"),
])
def test_mrkdwn_reads_as_plain_text(mrkdwn: str, text: str) -> None:
    assert plain_text(mrkdwn) == text


def test_a_refusal_in_plain_text_is_its_words_without_markup() -> None:
    refused = Conflict("not_locked", slug="churn")
    assert plain(refused) == "`churn` is not locked."
