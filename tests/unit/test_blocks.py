"""The renderer: Slack's limits hold for every message, user text is inert, the facts are there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.domain import usecases as d
from bot.domain.usecases import Role, TeamMember, UseCase
from bot.render import blocks as b
from bot.render import home_blocks as hb
from bot.render import usecase_blocks as ub
from bot.render.mrkdwn import escape
from handlers.grammar.usecase_grammar import HELP

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
SIX_WEEKS = timedelta(weeks=6)
OWNER, ADMIN = "UOWNER", "UADMIN"
EVIL = "Ping <!channel> <@U123> <https://evil|x>"
RAW = ("<!channel>", "<@U123>", "<https://evil")


# ── helpers ──────────────────────────────────────────────────────────────────────────────────

def make(slug: str = "churn-model", title: str = "Predict customer churn", *,
         team: tuple[TeamMember, ...] = (), domain: str = "retail") -> UseCase:
    uc = d.create(slug, title, creator_id=OWNER, channel_id="CHOME", now=T0, domain=domain)
    return replace(uc, team=team)


def walk(uc: UseCase, *steps: tuple[str, timedelta, str]) -> d.PhaseMove:
    """Apply ``(verb, at offset from T0, note)`` steps as the owner; return the last transition."""
    t: d.PhaseMove | None = None
    for verb, offset, note in steps:
        at = T0 + offset
        if verb == "advance":
            t = d.advance(uc, OWNER, at, is_admin=False, note=note)
        elif verb == "back":
            t = d.back(uc, OWNER, at, is_admin=False, reason=note)
        else:
            t = d.archive(uc, OWNER, at, is_admin=False, reason=note)
        uc = t.use_case
    assert t is not None
    return t


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every text object (``{"type": "mrkdwn"|"plain_text", "text": ...}``) inside a block."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


def all_text(blocks: list[dict[str, Any]], kind: str | None = None) -> str:
    return "\n".join(t["text"] for t in text_objects(blocks) if kind in (None, t["type"]))


def assert_within_slack_limits(blocks: list[dict[str, Any]], max_blocks: int = 50) -> None:
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block  # to_dict() runs slack_sdk's validators
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])


def more_count(blocks: list[dict[str, Any]]) -> int:
    """N from a trailing "… and N more" context, else 0."""
    last = blocks[-1]
    if last["type"] != "context":
        return 0
    match = re.search(r"and (\d+) more", last["elements"][0]["text"])
    return int(match.group(1)) if match else 0


def many(n: int, title: str = "Predict churn") -> list[UseCase]:
    return [make(f"uc-{i}", title) for i in range(n)]


# ── every message: fallback text and Slack limits ────────────────────────────────────────────

def long_history() -> UseCase:
    team = tuple(TeamMember(f"U{i:03}", Role.DEVOPS) for i in range(60))
    uc = replace(make("a" * 40, "T" * 200, team=team), domain="D" * 500)  # beyond any input
    for i in range(100):
        verb = "advance" if i % 2 == 0 else "back"
        uc = walk(uc, (verb, timedelta(hours=i + 1), "N" * 300)).use_case
    return walk(uc, ("archive", timedelta(weeks=20), "R" * 5000)).use_case


def every_message() -> dict[str, b.Message]:
    uc = make()
    to_dev = walk(uc, ("advance", timedelta(days=2), "kick-off"))
    dev = to_dev.use_case
    timebox, later = SIX_WEEKS, T0 + timedelta(weeks=20)
    return {
        "error": b.error("That went wrong.", "/usecase show <slug>"),
        "error-no-usage": b.error("That went wrong."),
        "error-huge": b.error("x" * 10_000, "u" * 5000),
        "notice": b.notice("Done."),
        "notice-huge": b.notice("y" * 10_000),
        "help": b.help_text("/usecase", HELP),
        "help-long-title": b.help_text("h" * 300, HELP * 40),
        "list": ub.usecase_list([uc, dev], now=later, timebox=timebox, heading="Use cases"),
        "list-empty": ub.usecase_list([], now=later, timebox=timebox, heading="Use cases"),
        "list-500": ub.usecase_list(many(500), now=later, timebox=timebox, heading="Use cases"),
        "card": ub.usecase_card(dev, now=later, timebox=timebox, tz="UTC"),
        "card-extreme": ub.usecase_card(long_history(), now=later, timebox=timebox,
                                        tz="Europe/Berlin"),
        "created": ub.usecase_created(uc),
        "created-extreme": ub.usecase_created(replace(make("a" * 40, "T" * 200), domain="D" * 5000)),
        "advanced": ub.phase_changed(to_dev),
        "back": ub.phase_changed(walk(dev, ("back", timedelta(days=9), "KPI unclear"))),
        "archived": ub.phase_changed(walk(dev, ("archive", timedelta(days=9), "dropped"))),
        "huge-note": ub.phase_changed(walk(uc, ("advance", timedelta(days=1), "n" * 10_000))),
        "owner": ub.owner_changed(d.hand_over(uc, OWNER, "UNEW", is_admin=False),
                                  previous_owner=OWNER, actor_id=OWNER),
    }


MESSAGES = every_message()


@pytest.mark.parametrize("name", MESSAGES)
def test_every_message_has_fallback_text_and_keeps_slack_limits(name: str) -> None:
    message = MESSAGES[name]
    assert message.text.strip()
    assert len(message.text) <= 4000
    assert_within_slack_limits(message.blocks)
    assert message.as_args() == {"text": message.text, "blocks": message.blocks}


def test_long_texts_are_clipped_with_an_ellipsis() -> None:
    section = MESSAGES["notice-huge"].blocks[0]["text"]["text"]
    assert len(section) == 3000 and section.endswith("…")
    header = MESSAGES["help-long-title"].blocks[0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")


# ── message(): the 50-block cap ──────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("count", "hidden"), [(1, 0), (50, 0), (51, 2), (500, 451)])
def test_message_caps_at_50_blocks_with_the_right_count(count: int, hidden: int) -> None:
    msg = b.message("t", [b.section(f"row {i}") for i in range(count)], more="rows")
    assert len(msg.blocks) == min(count, 50)
    assert_within_slack_limits(msg.blocks)
    if hidden:
        assert msg.blocks[-1] == b.context(f"… and {hidden} more rows").to_dict()
        shown = [blk["text"]["text"] for blk in msg.blocks[:-1]]
        assert shown == [f"row {i}" for i in range(49)]
    else:
        assert more_count(msg.blocks) == 0


@pytest.mark.parametrize(
    ("count", "title_length"),
    [
        (5, 20),
        (500, 20),
        pytest.param(500, 200),
        pytest.param(2000, 20),
    ],
)
def test_usecase_list_shows_or_counts_every_use_case(count: int, title_length: int) -> None:
    use_cases = many(count, "t" * title_length)
    msg = ub.usecase_list(use_cases, now=T0, timebox=SIX_WEEKS, heading="All use cases")
    assert_within_slack_limits(msg.blocks)
    assert msg.blocks[0]["text"]["text"] == f"All use cases ({count})"
    text = all_text(msg.blocks)
    shown = sum(f"*{uc.slug}*" in text for uc in use_cases)
    assert shown + more_count(msg.blocks) == count


def test_usecase_list_lines_and_fallback() -> None:
    biz, dev = make("biz-one"), walk(make("dev-one"), ("advance", timedelta(0), "")).use_case
    msg = ub.usecase_list([biz, dev], now=T0 + SIX_WEEKS + timedelta(seconds=1),
                          timebox=SIX_WEEKS, heading="Mine")
    text = all_text(msg.blocks)
    assert "• *biz-one* — Predict customer churn · 💼 Biz · <@UOWNER>" in text
    assert "*dev-one*" in text and "🛠️ Dev" in text
    assert text.count("overdue") == 1  # only the one in Dev
    assert msg.text == "Mine: biz-one, dev-one"


def test_empty_usecase_list_says_how_to_start() -> None:
    msg = ub.usecase_list([], now=T0, timebox=SIX_WEEKS, heading="Use cases in Ops")
    assert "Use cases in Ops: none" in msg.text
    assert "/usecase new" in all_text(msg.blocks)


# ── user text can't ping or link ─────────────────────────────────────────────────────────────

def evil_messages() -> dict[str, Any]:
    uc = make(title=EVIL, domain=EVIL)
    advanced = walk(uc, ("advance", timedelta(days=1), EVIL))
    back = walk(advanced.use_case, ("back", timedelta(days=2), EVIL))
    archived = walk(back.use_case, ("archive", timedelta(days=3), EVIL))
    later = T0 + timedelta(weeks=1)
    return {
        "list": ub.usecase_list([uc], now=later, timebox=SIX_WEEKS, heading="Use cases").blocks,
        "card": ub.usecase_card(archived.use_case, now=later, timebox=SIX_WEEKS, tz="UTC").blocks,
        "created": ub.usecase_created(uc).blocks,
        "advanced": ub.phase_changed(advanced).blocks,
        "back": ub.phase_changed(back).blocks,
        "archived": ub.phase_changed(archived).blocks,
        "home": hb.home_view(OWNER, [uc], now=later, timebox=SIX_WEEKS)["blocks"],
    }


EVIL_BLOCKS = evil_messages()


@pytest.mark.parametrize("name", EVIL_BLOCKS)
def test_user_text_is_escaped_in_every_mrkdwn_text(name: str) -> None:
    text = all_text(EVIL_BLOCKS[name], "mrkdwn")
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|x&gt;" in text
    for raw in RAW:
        assert raw not in text


def test_card_shows_every_piece_of_user_text_escaped() -> None:
    text = all_text(EVIL_BLOCKS["card"], "mrkdwn")
    assert text.count("&lt;!channel&gt;") == 5  # domain, archived reason, three notes


def test_headers_with_user_text_are_plain_text_so_they_cannot_ping() -> None:
    """Slack shows plain_text literally (no mentions, no links), so titles go there unescaped."""
    for name, blocks in EVIL_BLOCKS.items():
        for block in blocks:
            if block["type"] == "header":
                assert block["text"]["type"] == "plain_text", name


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(lambda uc: ub.usecase_list([uc], now=T0, timebox=SIX_WEEKS, heading="x"),
                     id="list"),
        pytest.param(lambda uc: ub.usecase_created(uc), id="created"),
        pytest.param(lambda uc: ub.usecase_card(uc, now=T0, timebox=SIX_WEEKS, tz="UTC"),
                     id="card"),
    ],
)
def test_fallback_text_never_carries_raw_user_markup(render: Any) -> None:
    """``text`` is what mobile notifications show and it is parsed for mentions too."""
    message = render(make(title=EVIL, domain=EVIL))
    for raw in RAW:
        assert raw not in message.text


@pytest.mark.parametrize(
    ("text", "escaped"),
    [("plain", "plain"), ("a & b", "a &amp; b"), ("<!channel>", "&lt;!channel&gt;"),
     ("&lt;", "&amp;lt;"), ("<@U1|x> > <", "&lt;@U1|x&gt; &gt; &lt;")],
)
def test_escape(text: str, escaped: str) -> None:
    assert escape(text) == escaped


# ── the phase-change announcement ────────────────────────────────────────────────────────────

def announcement(t: d.PhaseMove) -> str:
    return all_text(ub.phase_changed(t).blocks)


def test_advance_announcement_says_who_what_note_and_how_long() -> None:
    t = walk(make(), ("advance", timedelta(weeks=2, days=3), "kick-off <done>"))
    text = announcement(t)
    assert "*churn-model* moved: 💼 Biz → 🛠️ Dev" in text
    assert f"by <@{OWNER}>" in text
    assert "after 2 weeks 3 days in Biz" in text
    assert "*Note:* kick-off &lt;done&gt;" in text
    warning = "churn-model entered Dev without a data-scientist or a data-engineer on the team."
    assert f"⚠️ *Warning:* {warning}" in text
    message = ub.phase_changed(t)
    assert message.text.startswith("churn-model moved: Biz → Dev ⚠️ churn-model entered Dev")


def test_no_warning_and_no_note_when_there_is_none() -> None:
    team = (TeamMember("UDS", Role.DATA_SCIENTIST),)
    t = walk(make(team=team), ("advance", timedelta(minutes=5), ""))
    text = announcement(t)
    assert "after 5 minutes in Biz" in text
    assert "Warning" not in text and "⚠️" not in ub.phase_changed(t).text
    assert "Note" not in text
    assert len(ub.phase_changed(t).blocks) == 1


def test_ops_warning_names_the_ops_roles() -> None:
    team = (TeamMember("UDS", Role.DATA_SCIENTIST),)
    t = walk(make(team=team), ("advance", timedelta(days=1), ""),
             ("advance", timedelta(days=2), ""))
    text = announcement(t)
    assert "🛠️ Dev → ⚙️ Ops" in text and "after 1 day in Dev" in text
    assert "entered Ops without a data-engineer or a devops" in text


def test_back_announcement_is_a_feedback_loop_with_a_reason() -> None:
    team = (TeamMember("UDE", Role.DATA_ENGINEER),)
    t = walk(make(team=team), ("advance", timedelta(days=1), ""),
             ("back", timedelta(days=1, hours=3), "KPI unclear"))
    text = announcement(t)
    assert "*churn-model* went back (feedback loop): 🛠️ Dev → 💼 Biz" in text
    assert "after 3 hours in Dev" in text
    assert "*Reason:* KPI unclear" in text
    assert "Warning" not in text


def test_archive_announcement() -> None:
    t = walk(make(), ("archive", timedelta(days=30), "superseded"))
    text = announcement(t)
    assert "*churn-model* was archived: 💼 Biz → 🗄️ Archived" in text
    assert "after 4 weeks 2 days in Biz" in text
    assert "*Reason:* superseded" in text
    assert ub.phase_changed(t).text == "churn-model was archived: Biz → Archived"


def test_created_and_owner_changed_announcements() -> None:
    uc = d.create("churn-model", "Predict churn", creator_id="UCREATOR", channel_id="C1",
                  now=T0, owner_id=OWNER, domain="retail")
    text = all_text(ub.usecase_created(uc).blocks)
    assert "*churn-model* — Predict churn" in text
    assert f"Owner <@{OWNER}>" in text and "💼 Biz" in text
    assert "Created by <@UCREATOR> · domain: retail" in text
    handed = d.hand_over(uc, ADMIN, "UNEW", is_admin=True)
    msg = ub.owner_changed(handed, previous_owner=OWNER, actor_id=ADMIN)
    text = all_text(msg.blocks)
    assert f"new owner: <@UNEW> (was <@{OWNER}>)" in text
    assert f"Handed over by <@{ADMIN}>" in text


# ── the card (`/usecase show`) ───────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("phase_age", "timebox", "overdue"),
    [
        (SIX_WEEKS, SIX_WEEKS, False),
        (SIX_WEEKS + timedelta(seconds=1), SIX_WEEKS, True),
        (timedelta(weeks=2), timedelta(weeks=2), False),
        (timedelta(weeks=2, seconds=1), timedelta(weeks=2), True),
    ],
)
def test_card_flags_overdue_only_when_overdue(
    phase_age: timedelta, timebox: timedelta, overdue: bool
) -> None:
    entered_dev = timedelta(days=1)
    dev = walk(make(), ("advance", entered_dev, "")).use_case
    msg = ub.usecase_card(dev, now=T0 + entered_dev + phase_age, timebox=timebox, tz="UTC")
    text = all_text(msg.blocks)
    assert ("⏰ overdue" in text) is overdue
    if overdue:
        weeks_in = round(phase_age / timedelta(weeks=1))
        assert f"{weeks_in} weeks in Dev (time box {round(timebox / timedelta(weeks=1))})" in text


def test_card_never_flags_other_phases() -> None:
    ops = walk(make(), ("advance", timedelta(0), ""), ("advance", timedelta(0), "")).use_case
    for uc in (make(), ops):
        msg = ub.usecase_card(uc, now=T0 + timedelta(weeks=50), timebox=SIX_WEEKS, tz="UTC")
        assert "overdue" not in all_text(msg.blocks)


@pytest.mark.parametrize(
    ("tz", "stamps"),
    [
        ("UTC", ["2024-03-07 09:00 UTC", "2024-03-06 09:00 UTC", "2024-03-05 09:00 UTC",
                 "2024-03-04 09:00 UTC"]),
        ("Europe/Berlin", ["2024-03-07 10:00 CET", "2024-03-06 10:00 CET",
                           "2024-03-05 10:00 CET", "2024-03-04 10:00 CET"]),
    ],
)
def test_card_history_is_newest_first(tz: str, stamps: list[str]) -> None:
    uc = walk(make(), ("advance", timedelta(days=1), "first"),
              ("back", timedelta(days=2), "second"),
              ("advance", timedelta(days=3), "third")).use_case
    msg = ub.usecase_card(uc, now=T0 + timedelta(days=4), timebox=SIX_WEEKS, tz=tz)
    history = all_text(msg.blocks).split("*Phase history* (newest first)", 1)[1]
    lines = [line for line in history.splitlines() if line.startswith("•")]
    assert len(lines) == 4
    assert [line.split(" · ")[0] for line in lines] == [f"• {s}" for s in stamps]
    assert "💼 Biz → 🛠️ Dev by <@UOWNER> — _third_" in lines[0]
    assert "🛠️ Dev → 💼 Biz by <@UOWNER> — _second_" in lines[1]
    assert "_first_" in lines[2]
    assert "created in 💼 Biz by <@UOWNER>" in lines[3] and "_created_" not in lines[3]


def test_card_facts() -> None:
    team = (TeamMember("UDS", Role.DATA_SCIENTIST), TeamMember("UOPS", Role.DEVOPS))
    uc = walk(make(team=team), ("advance", timedelta(days=1), "")).use_case
    msg = ub.usecase_card(uc, now=T0 + timedelta(days=3, hours=2), timebox=SIX_WEEKS, tz="UTC")
    text = all_text(msg.blocks)
    assert msg.blocks[0]["text"]["text"] == "churn-model — Predict customer churn"
    assert "*Phase:* 🛠️ Dev for 2 days 2 hours" in text
    assert "*Owner:* <@UOWNER>" in text
    assert "*Team:* <@UDS> (data-scientist), <@UOPS> (devops)" in text
    assert "*Channel:* <#CHOME>" in text and "*Domain:* retail" in text
    assert msg.text == "churn-model — Predict customer churn: Dev, owner <@UOWNER>"
    nobody = ub.usecase_card(make(domain=""), now=T0, timebox=SIX_WEEKS, tz="UTC")
    assert "*Team:* nobody yet" in all_text(nobody.blocks)
    assert "*Domain:*" not in all_text(nobody.blocks)


# ── App Home ─────────────────────────────────────────────────────────────────────────────────

def test_home_view_with_500_use_cases_stays_within_100_blocks() -> None:
    view = hb.home_view(OWNER, many(500), now=T0, timebox=SIX_WEEKS)
    assert view["type"] == "home"
    assert_within_slack_limits(view["blocks"], max_blocks=100)
    text = all_text(view["blocks"])
    shown = sum(f"*uc-{i}*" in text for i in range(500))
    hidden = int(text.split("… and ")[1].split(" more")[0]) if "… and " in text else 0
    assert shown + hidden == 500, "every use case is shown or counted"
    assert shown >= 100, "lines are packed into sections, not one block each"


def test_home_view_puts_approvals_first_with_buttons() -> None:
    waiting = [hb.HomeApproval(f"churn 1.{i}.0 · deploy (deployment {i})", "waiting 2 hours",
                               f"tok-a{i}", f"tok-r{i}") for i in range(12)]
    view = hb.home_view(OWNER, many(300), now=T0, timebox=SIX_WEEKS, approvals=waiting,
                        running=["churn 1.0.0 rolling out"], announcements=["churn moved to Dev"])
    assert_within_slack_limits(view["blocks"], max_blocks=100)
    [new] = view["blocks"][0]["elements"]  # the New use case button, then what waits
    assert new["action_id"] == "home_usecase_new"
    assert view["blocks"][1]["type"] == "header" and "approval (12)" in view["blocks"][1]["text"]["text"]
    buttons = [e for blk in view["blocks"][1:] if blk["type"] == "actions" for e in blk["elements"]]
    assert [e["value"] for e in buttons[:2]] == ["tok-a0", "tok-r0"]
    assert len(buttons) == 2 * hb.MAX_HOME_APPROVALS
    text = all_text(view["blocks"])
    assert "… and 2 more waiting" in text
    assert "churn 1.0.0 rolling out" in text and "churn moved to Dev" in text


def test_home_view_shows_open_freezes_before_the_use_cases_within_the_limits() -> None:
    frozen = [f"❄️ Deployments of *uc-{i}* are frozen until 2024-03-04 11:00 UTC: “x” (ad hoc)"
              for i in range(6)]
    view = hb.home_view(OWNER, many(500), now=T0, timebox=SIX_WEEKS, freezes=frozen,
                        running=["churn 1.0.0 rolling out"], announcements=["churn moved to Dev"])
    assert_within_slack_limits(view["blocks"], max_blocks=100)
    headers = [blk["text"]["text"] for blk in view["blocks"] if blk["type"] == "header"]
    assert headers[:2] == ["❄️ Freezes", "Your use cases"]
    assert all(line in all_text(view["blocks"]) for line in frozen)
    assert "❄️ Freezes" not in all_text(hb.home_view(OWNER, many(3), now=T0, timebox=SIX_WEEKS)["blocks"])


def test_home_view_roles_and_overdue_flags() -> None:
    member = (TeamMember("UVIEWER", Role.DATA_ENGINEER),)
    dev = walk(make("dev-one", team=member), ("advance", timedelta(0), "")).use_case
    owned = replace(make("mine"), owner_id="UVIEWER")
    view = hb.home_view("UVIEWER", [dev, owned], now=T0 + SIX_WEEKS + timedelta(seconds=1),
                        timebox=SIX_WEEKS)
    assert_within_slack_limits(view["blocks"], max_blocks=100)
    lines = "\n".join(blk["text"]["text"] for blk in view["blocks"] if blk["type"] == "section")
    dev_line, mine_line = lines.split("*mine*")
    assert "you: data-engineer" in dev_line and "⏰ overdue" in dev_line
    assert "you: owner" in mine_line and "overdue" not in mine_line


def test_empty_home_view_says_how_to_start() -> None:
    view = hb.home_view(OWNER, [], now=T0, timebox=SIX_WEEKS)
    assert view["type"] == "home"
    assert_within_slack_limits(view["blocks"], max_blocks=100)
    assert "/usecase new" in all_text(view["blocks"])
    assert "Updated 2024-03-04 09:00 UTC" in all_text(view["blocks"])
