"""Terminal rendering of mrkdwn and Block Kit for the simulator."""

from __future__ import annotations

from bot.simulator.render_text import RenderedButton, render_blocks, render_mrkdwn

NAMES = {"UALICE": "alice", "COPS": "ops", "SRM": "release-managers"}


def plain(text: str) -> str:
    return render_mrkdwn(text, names=NAMES.get, color=False)


def test_emphasis_plain_and_colored() -> None:
    assert plain("*bold* and _italic_ and ~gone~") == "bold and italic and ~gone~"
    colored = render_mrkdwn("*b* _i_ ~s~", names=NAMES.get, color=True)
    assert colored == "\x1b[1mb\x1b[22m \x1b[3mi\x1b[23m \x1b[9ms\x1b[29m"


def test_emphasis_needs_word_edges() -> None:
    assert plain("snake_case_name and 2*3*4") == "snake_case_name and 2*3*4"
    assert plain("`*not bold*` but *bold*") == "`*not bold*` but bold"
    assert plain("```a_b_c```") == "```a_b_c```"


def test_mentions_channels_groups_and_specials() -> None:
    assert plain("<@UALICE> <@UBOB|bob> <@UNKNOWN>") == "@alice @bob @UNKNOWN"
    assert plain("<#COPS|ops> <#COPS> <#CX|x>") == "#ops #ops #x"
    assert plain("<!subteam^SRM|@release-managers> <!subteam^SRM>") == (
        "@release-managers @release-managers")
    assert plain("<!here> <!channel>") == "@here @channel"


def test_links_and_entities() -> None:
    assert plain("<https://x.io/a_b|the docs>") == "the docs (https://x.io/a_b)"
    assert plain("<https://x.io/a_b_c>") == "https://x.io/a_b_c"
    assert plain("a &lt;b&gt; &amp;lt;") == "a <b> &lt;"


def test_fallback_text_without_blocks() -> None:
    assert render_blocks(None, "*hi* <@UALICE>", names=NAMES.get, color=False) == ("hi @alice", [])
    assert render_blocks([], "plain", names=NAMES.get, color=False) == ("plain", [])


def test_buttons_numbered_from_first_button() -> None:
    blocks = [
        {"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text": "Deploy?"},
         "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Logs"},
                       "action_id": "logs", "value": "7"}},
        {"type": "actions", "block_id": "a1", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Approve"},
             "action_id": "approve", "value": "7", "style": "primary"},
            {"type": "button", "text": {"type": "plain_text", "text": "Reject"},
             "action_id": "reject", "value": "7", "style": "danger"},
        ]},
    ]
    text, buttons = render_blocks(blocks, "", names=NAMES.get, color=False, first_button=4)
    assert text == "Deploy?  [4 Logs]\n[5 Approve] [6 Reject]"
    assert buttons == [
        RenderedButton(4, "Logs", "logs", "s1", "7", None),
        RenderedButton(5, "Approve", "approve", "a1", "7", "primary"),
        RenderedButton(6, "Reject", "reject", "a1", "7", "danger"),
    ]
    colored, _ = render_blocks(blocks[1:], "", names=NAMES.get, color=True)
    assert colored == "\x1b[32m[1 Approve]\x1b[39m \x1b[31m[2 Reject]\x1b[39m"


def test_full_message() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "churn moved to Dev"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Churn model* by <@UALICE>"},
         "fields": [
             {"type": "mrkdwn", "text": "*Phase*\nDev"},
             {"type": "mrkdwn", "text": "*Owner*\n<@UALICE>"},
             {"type": "mrkdwn", "text": "*Domain*\nmarketing"},
         ]},
        {"type": "divider"},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": "in <#COPS|ops>"},
            {"type": "plain_text", "text": "2 days in Biz"},
        ]},
        {"type": "actions", "block_id": "act", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Advance"},
             "action_id": "advance", "value": "churn"},
        ]},
    ]
    text, buttons = render_blocks(blocks, "fallback", names=NAMES.get, color=False)
    assert text.split("\n") == [
        "churn moved to Dev",
        "══════════════════",
        "Churn model by @alice",
        "Phase Dev" + " " * 11 + "Owner @alice",
        "Domain marketing",
        "─" * 40,
        "in #ops · 2 days in Biz",
        "[1 Advance]",
    ]
    assert [b.action_id for b in buttons] == ["advance"]
    colored, _ = render_blocks(blocks[:1] + blocks[3:4], "", names=NAMES.get, color=True)
    assert colored.split("\n") == [
        "\x1b[1mchurn moved to Dev\x1b[22m",
        "══════════════════",
        "\x1b[2min #ops · 2 days in Biz\x1b[22m",
    ]


def test_rich_text_and_input() -> None:
    blocks = [
        {"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": [
                {"type": "text", "text": "hi "}, {"type": "user", "user_id": "UALICE"},
                {"type": "text", "text": " see ", "style": {}},
                {"type": "link", "url": "https://x.io", "text": "docs"},
            ]},
            {"type": "rich_text_list", "style": "bullet", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]},
            ]},
        ]},
        {"type": "input", "label": {"type": "plain_text", "text": "Title"},
         "element": {"type": "plain_text_input", "action_id": "t"}},
    ]
    text, _ = render_blocks(blocks, "", names=NAMES.get, color=False)
    assert text == "hi @alice see docs (https://x.io)\n• one\nTitle: [ ]"
