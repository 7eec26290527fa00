"""Property tests: no input crashes a parser, and no data breaks a renderer or Slack's limits.

Parsers: any command text (up to 4,000 characters of any Unicode: control characters, quotes,
escaped mentions, ``=``, emoji, bidi marks, entities) gives a command dataclass or one of the
usage errors (UsageError / HelpRequested / DomainError) -- never another exception -- and an error
never quotes a ping, a mention or a link back unescaped.

Renderers: for arbitrary titles, notes, reasons, user ids, KPI names, units and values,
executor details and deployment versions, every message passes slack_sdk's Block Kit validation
block by block (and the Home tab and the reject dialog as views), stays within Slack's limits
(50 blocks a message, 100 in a Home view, section text 3,000, fields 10 x 2,000, header 150,
context 10 elements, button text 75 and value 2,000, ids 255) and has a non-empty plain-text
fallback. User text mixed with ``<!channel>``, ``<!here>``, ``<@U0ADMIN>`` and
``<https://evil...>`` never comes out raw.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain import deployment_machine as machine
from bot.domain import digest_data as dd
from bot.domain import dora, gates
from bot.domain import metrics as kpi
from bot.domain import usecases as uc_domain
from bot.domain.changes import Change, ChangeKind
from bot.domain.deploy_cards import event_notes
from bot.domain.deployment_model import DecisionTokens, Deployment, Event, StepKind
from bot.domain.endings import ending
from bot.domain.usecases import DomainError, Role, TeamMember, UseCase
from bot.pipelines.loading import BUILT_IN
from bot.render import blocks as b
from bot.render import cards
from bot.render import deploy_blocks as dbl
from bot.render import digest_blocks as dg
from bot.render import home_blocks as hb
from bot.render import metric_blocks as mb
from bot.render import usecase_blocks as ub
from bot.render.deploy_endings import finished_announcement
from bot.render.dora_changes import compare
from bot.render.mrkdwn import escape
from handlers.grammar.deploy_grammar import VERSION_RE, parse_deploy
from handlers.grammar.digest_grammar import parse_digest
from handlers.grammar.metric_grammar import parse_metric
from handlers.grammar.parsing import UsageError, split, tokenize
from handlers.grammar.usecase_grammar import HelpRequested, parse_usecase

FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PIPELINE = BUILT_IN.pipelines["default"]

# What user text must never turn into in a Slack message: a ping, a mention, a link.
RAW = ("<!channel", "<!here", "<!everyone", "<@U0ADMIN", "<https://evil", "<#C0EVIL")
FRAGMENTS = (
    '"', "'", "“", "”", "„", "‘", "’", "=", "==", "\\", "`", "```", "*bold*", "_it_", "~s~",
    "<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN>", "<@U0ADMIN|x>", "<@W0ADMIN|>", "<#C0EVIL|ops>",
    "<#C0EVIL>", "<!subteam^S0EVIL|@admins>", "<https://evil.example|click>", "<https://evil.example>",
    "<mailto:a@evil.example|mail>", "&lt;!channel&gt;", "&lt;@U0ADMIN&gt;", "&amp;", "&#60;", "&gt;",
    "<", ">", "|", "@channel", "@here", "@alice", "#general", "owner=", "channel=", "domain=",
    "pipeline=", "unit=", "days=", "tz=", "phase=", "mine", "help", "--help", "-h", "add", "remove",
    "churn", "churn-model", "1.4.0", "#42", "42", ">=", "≥", "<=", "1e308", "-0", "nan", "inf", "%",
    " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2028", "\u200b", "\u200e", "\u200f", "\u202e", "\u2066",
    "\ufeff", "\x00", "\x07", "\x1b[31m", "\x7f", "🚀", "👩‍👩‍👧", "🇩🇪", "İ", "ß", "ﬁ", "١٢", "Ⅻ", "𝟘",
    "e\u0301", "\U0010ffff", "\"quoted text\"", "x" * 300,
)


@functools.cache
def texts(max_size: int = 4000, *, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any Unicode text, text built from awkward fragments, and long repeated runs (one strategy
    object per size: building strategies while drawing is what makes property tests slow)."""
    pieces = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=10)
    repeated = st.builds(lambda s, n: s * n, st.one_of(st.text(min_size=1, max_size=24), pieces.map("".join)),
                         st.integers(1, max(1, max_size // 2)))
    any_text = st.one_of(st.text(max_size=min(max_size, 40)), pieces.map("".join), repeated)
    return any_text.map(lambda s: s[:max_size]).filter(lambda s: len(s) >= min_size)


def replicated(item: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[list[Any]]:
    """Up to ``most`` items, cheaply: a few drawn ones repeated (volume is what the limits feel)."""
    return st.builds(lambda few, times: (few * times)[:most], st.lists(item, max_size=2),
                     st.integers(1, most))


def commands(verbs: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Command text that often starts with a real sub-command, so the grammar gets deep."""
    known = st.builds(lambda v, sep, rest: (v + sep + rest)[:4000], st.sampled_from(verbs),
                      st.sampled_from([" ", "  ", "\t", "\u00a0", "\n", ""]), texts())
    return st.one_of(texts(), known)


# ── parsers ──────────────────────────────────────────────────────────────────────────────────

def _error_is_inert(error: Exception) -> None:
    said = str(error) + getattr(error, "usage", "")
    for raw in RAW:
        assert raw not in said, f"an error message quotes {raw!r} back raw: {said[:300]!r}"


def _parses_or_refuses(parse: Callable[[str], Any], text: str) -> None:
    try:
        command = parse(text)
    except (UsageError, HelpRequested, DomainError) as refused:
        _error_is_inert(refused)
        return
    assert dataclasses.is_dataclass(command) and not isinstance(command, type), command


@FUZZ
@given(commands(("new", "list", "show", "advance", "back", "owner", "team", "archive",
                 "team churn add", "team churn remove", "new churn", "HELP")))
def test_usecase_grammar_never_crashes(text: str) -> None:
    _parses_or_refuses(parse_usecase, text)


@FUZZ
@given(commands(("status", "history", "cancel", "rollback", "lock", "unlock", "churn", "churn 1.0",
                 "cancel 42", "lock churn", "help")))
def test_deploy_grammar_never_crashes(text: str) -> None:
    _parses_or_refuses(parse_deploy, text)


@FUZZ
@given(commands(("record", "show", "target", "dora", "record churn acc", "target churn acc",
                 "show churn", "dora churn", "help")))
def test_metric_grammar_never_crashes(text: str) -> None:
    _parses_or_refuses(parse_metric, text)


@FUZZ
@given(commands(("", "now", "preview", "schedule", "off", "schedule \"0 9 * * mon\"", "help")))
def test_digest_grammar_never_crashes(text: str) -> None:
    _parses_or_refuses(parse_digest, text)


@FUZZ
@given(texts())
def test_tokenizer_never_crashes(text: str) -> None:
    try:
        words = tokenize(text)
        tokens = split(text, allowed=frozenset({"owner", "unit", "tz"}), flags=frozenset({"mine"}))
    except UsageError as refused:
        _error_is_inert(refused)
        return
    assert all(w.text or w.quote_at is not None for w in words)
    assert len(tokens.positional) + len(tokens.options) + len(tokens.flags) <= len(words)


# ── what every message must satisfy ──────────────────────────────────────────────────────────

def _text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_objects(item)


def _check_block(block: dict[str, Any]) -> None:
    parsed = Block.parse(block)
    assert parsed is not None, f"slack_sdk does not know this block: {block}"
    assert parsed.to_dict() == block  # to_dict() runs slack_sdk's validators
    if len(block.get("block_id", "")) > 255:
        raise AssertionError("block_id over 255 characters")
    for obj in _text_objects(block):
        assert obj["text"], f"an empty text object: {block}"
    kind = block["type"]
    if kind == "section":
        if "text" in block:
            assert 0 < len(block["text"]["text"]) <= 3000
        fields = block.get("fields", [])
        assert len(fields) <= 10 and all(len(f["text"]) <= 2000 for f in fields)
    elif kind == "header":
        assert block["text"]["type"] == "plain_text" and 0 < len(block["text"]["text"]) <= 150
    elif kind == "context":
        assert 0 < len(block["elements"]) <= 10
        assert all(len(e.get("text", "")) <= 3000 for e in block["elements"])
    elif kind == "actions":
        assert 0 < len(block["elements"]) <= 25
        for element in block["elements"]:
            assert len(element.get("action_id", "")) <= 255
            if element["type"] == "button":
                assert 0 < len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000


def check_message(msg: b.Message, *, max_blocks: int = 50) -> None:
    assert isinstance(msg.text, str) and msg.text.strip(), "a message needs a plain-text fallback"
    assert len(msg.text) <= 40000
    assert 0 < len(msg.blocks) <= max_blocks, f"{len(msg.blocks)} blocks"
    for block in msg.blocks:
        _check_block(block)


def check_home(view: dict[str, Any]) -> None:
    assert view["type"] == "home"
    assert 0 < len(view["blocks"]) <= 100, f"{len(view['blocks'])} blocks in Home"
    assert View(**view).to_dict()["blocks"] == view["blocks"]
    for block in view["blocks"]:
        _check_block(block)


def live_text(rendered: dict[str, Any]) -> str:
    """What Slack parses for mentions and links: the fallback ``text`` and every mrkdwn object.
    (plain_text objects -- headers, buttons, dialog titles -- show ``<!channel>`` as typed.)"""
    live = [rendered.get("text", "")] if isinstance(rendered.get("text"), str) else []
    live += [t["text"] for t in _text_objects(rendered.get("blocks", [])) if t["type"] == "mrkdwn"]
    return "\n".join(live)


def check_inert(*rendered: dict[str, Any]) -> None:
    """Nothing user-typed pings, mentions or links: only the renderer's own markup is live."""
    for one in rendered:
        said = live_text(one)
        for raw in RAW:
            assert raw not in said, f"{raw!r} reached the message unescaped: {said[:500]!r}"


# ── domain objects ───────────────────────────────────────────────────────────────────────────

USER_IDS = st.from_regex(re.compile(r"U[A-Z0-9]{2,10}"), fullmatch=True)
SLUGS = st.from_regex(uc_domain.SLUG_RE, fullmatch=True)
VERSIONS = st.from_regex(VERSION_RE, fullmatch=True)
TITLES = texts(200, min_size=1).filter(lambda s: s.strip() != "")
NAMES = st.from_regex(kpi.NAME_RE, fullmatch=True)
UNITS = st.one_of(  # what validate_unit lets through: one printable line of up to 32 characters
    st.text(st.characters(categories=["L", "M", "N", "P", "S"], include_characters=" "), max_size=32),
    st.sampled_from(["", "%", "ms", "<!channel>", "<!here>", "<@U0ADMIN>", "<https://evil.example|x>",
                     "&amp;", "*bold*", "`", "🚀 per day"]),
).map(str.strip)
VALUES = st.floats(allow_nan=False, allow_infinity=False)
OFFSETS = st.integers(0, 400 * 24 * 3600).map(lambda s: timedelta(seconds=s))
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham"])


TEAMS = st.lists(st.builds(TeamMember, USER_IDS, st.sampled_from(list(Role))), max_size=8)
MOVES_OF_A_USE_CASE = st.lists(st.tuples(st.sampled_from(["advance", "back", "archive"]), texts(), OFFSETS),
                               max_size=8)


@st.composite
def use_cases(draw: st.DrawFn) -> tuple[UseCase, list[uc_domain.PhaseMove]]:
    """A use case created by the domain, walked through arbitrary moves with arbitrary notes."""
    owner = draw(USER_IDS)
    uc = uc_domain.create(draw(SLUGS), draw(TITLES), creator_id=draw(USER_IDS), channel_id="CHOME",
                          now=T0, owner_id=owner, domain=draw(texts(uc_domain.DOMAIN_MAX)))
    team = draw(TEAMS)
    uc = replace(uc, team=tuple({m.user_id: m for m in team}.values()))
    transitions = []
    at = T0
    for verb, note, gap in draw(MOVES_OF_A_USE_CASE):
        at += gap
        try:
            if verb == "advance":
                t = uc_domain.advance(uc, owner, at, is_admin=False, note=note)
            elif verb == "back":
                t = uc_domain.back(uc, owner, at, is_admin=False, reason=note)
            else:
                t = uc_domain.archive(uc, owner, at, is_admin=False, reason=note)
        except DomainError:
            continue
        transitions.append(t)
        uc = t.use_case
    return uc, transitions


@FUZZ
@given(use_cases(), st.integers(0, 130), OFFSETS, ZONES, texts(), USER_IDS)
def test_use_case_renderers_keep_slack_limits(
    made: tuple[UseCase, list[uc_domain.PhaseMove]], copies: int, later: timedelta, tz: str,
    free_text: str, viewer: str,
) -> None:
    uc, transitions = made
    now = T0 + later + timedelta(days=800)
    box = timedelta(weeks=6)
    many = [replace(uc, slug=f"{uc.slug[:30]}-{i}") for i in range(copies)] or [uc]
    messages = [
        ub.usecase_card(uc, now=now, timebox=box, tz=tz),
        ub.usecase_list(many, now=now, timebox=box, heading="Use cases"),
        ub.usecase_list([], now=now, timebox=box, heading="Use cases"),
        ub.usecase_created(uc),
        ub.owner_changed(uc, previous_owner=viewer, actor_id=viewer),
        *(ub.phase_changed(t) for t in transitions),
    ]
    for msg in messages:
        check_message(msg)
    check_inert(*(m.as_args() for m in messages))
    said = free_text if free_text.strip() else "x"  # callers always say something
    for msg in (b.error(said, free_text), b.notice(said)):
        check_message(msg)  # callers escape what they put in; the limits hold whatever it is
    approvals = [hb.HomeApproval(f"{uc.slug} {i} · {free_text}"[:300], "waiting 3 hours",
                                 f"tok-a-{i}", f"tok-r-{i}") for i in range(copies % 14)]
    home = hb.home_view(viewer, many, now=now, timebox=box, approvals=approvals,
                        running=[f"• {escape(free_text)}"] * (copies % 7),
                        announcements=[f"<#CHOME> {escape(free_text)}"] * (copies % 9))
    check_home(home)
    check_inert(home)
    dialog = dbl.reject_dialog("deploy_reject_reason", "tok-" + "r" * 40, free_text)
    View(**dialog).to_dict()
    check_inert(dialog)


# ── deployments ──────────────────────────────────────────────────────────────────────────────

# What a version is: any ref (the API takes what a caller says), a link or a URL that is none.
CHANGES = st.none() | st.builds(
    Change, st.sampled_from(ChangeKind), texts(64, min_size=1), st.none(),
    st.none() | st.sampled_from(["https://github.com/acme/churn/commit/3f9c2a1", "javascript:x",
                                 "https://evil.example|<!channel>", "https://x.example/>"]),
    texts(64))

@st.composite
def deployments(draw: st.DrawFn, version: st.SearchStrategy[str] = VERSIONS) -> tuple[Deployment,
                                                                                       list[Event]]:
    """A built-in-pipeline deployment walked by the state machine to an arbitrary point."""
    requester = draw(USER_IDS)
    approver = draw(USER_IDS)
    approver = approver + "X" if approver == requester else approver
    t = machine.request(use_case=draw(SLUGS), version=draw(version), pipeline=PIPELINE,
                        requested_by=requester, channel_id="CHOME", now=T0,
                        kind=draw(st.sampled_from(["deploy", "rollback"])),
                        rollback_of=draw(st.none() | st.integers(1, 10**12)))
    d = replace(t.deployment, id=draw(st.integers(1, 10**12)))
    trail = list(t.events)
    now = T0
    ending = draw(st.sampled_from(["run", "fail", "cancel", "approve", "reject", "expire", "gate"]))
    passes = draw(st.integers(0, 4)) if ending in ("run", "fail", "cancel") else 4
    detail, url = draw(texts(1000)), draw(st.none() | st.just("https://ci.example/1"))
    change = draw(CHANGES)
    for _ in range(passes):
        now += draw(OFFSETS)
        index = d.current
        assert index is not None
        d = machine.launch(d, index, now)
        result = machine.StepResult(True, detail, url, change=change)
        step = machine.record_result(d, index, StepKind.RUN, None, result, now)
        d, trail = step.deployment, trail + list(step.events)
    now += draw(OFFSETS)
    index = d.current
    if ending == "fail" and index is not None and d.stages[index].state.value == "running":
        d = machine.launch(d, index, now)
        step = machine.record_result(d, index, StepKind.RUN, None,
                                     machine.StepResult(False, draw(texts(1000))), now)
    elif ending == "cancel":
        step = machine.cancel(d, draw(USER_IDS), draw(texts()), now)
    elif ending in ("approve", "reject") and index is not None:
        opened = d.stages[index].gate_opened_at
        assert opened is not None
        now = opened + timedelta(seconds=draw(st.integers(0, 23 * 3600)))  # before the gate expires
        if ending == "approve":
            step = gates.approve(d, index, approver, now, eligible=True, approvers=None,
                                   comment=draw(texts(500)))
        else:
            step = gates.reject(d, index, approver, draw(texts(min_size=1).filter(str.strip)), now,
                                  eligible=True, approvers=None)
    elif ending == "expire":
        step = gates.expire(d, now + timedelta(days=2))
    else:
        return d, trail
    return step.deployment, trail + list(step.events)


@FUZZ
@given(deployments(version=st.one_of(VERSIONS, texts(64, min_size=1))), replicated(texts(300), 40), texts(),
       ZONES, st.integers(0, 60))
def test_deployment_renderers_keep_slack_limits(
    walked: tuple[Deployment, list[Event]], output: list[str], detail: str, tz: str, extra_events: int,
) -> None:
    d, trail = walked
    now = (d.finished_at or d.requested_at) + timedelta(minutes=5)
    trail = trail + [Event("note", now, "UADMIN", "deploy", 1, detail)] * extra_events
    buttons = DecisionTokens("a" * 43, "r" * 43, "c" * 43) if d.state.is_active else DecisionTokens()
    messages = [
        dbl.deployment_message(d, now=now, tz=tz, buttons=buttons),
        dbl.status_message(d, trail, now=now, tz=tz),
        dbl.status_message(d, trail, now=now, tz=tz,  # a lock and a freeze: the trail makes room
                           notes=(f"🔒 Locked by <@UADMIN>: {escape(detail)}", "❄️ Frozen: x")),
        dbl.history_message(d.use_case, [d] * 12, tz=tz),
        dbl.history_message(d.use_case, [], tz=tz),
        finished_announcement(d, ending(d, owner="UOWNER", admins=frozenset({"UADMIN"}))),
        *(cards.words(n) for n in event_notes(trail, "UTC")),
    ]
    output_note = dbl.thread_note(dbl.output_note("deploy", 0, output, detail))
    for msg in (*messages, output_note):
        check_message(msg)
    if not VERSION_RE.fullmatch(d.version):
        return  # any version keeps the shape; only the grammar's versions are known to be inert
    check_inert(*(m.as_args() for m in messages))
    check_inert(dbl.thread_note(dbl.output_note("deploy", 0, [], detail)).as_args())
    # The command's output lines themselves: see test_command_output_in_the_thread_is_escaped.


def test_command_output_in_the_thread_is_escaped() -> None:
    note = dbl.output_note("deploy", None, ["done <!channel>", "see <https://evil.example|the log>"],
                           "exit code 0")
    check_inert(dbl.thread_note(note).as_args())


# ── metrics ──────────────────────────────────────────────────────────────────────────────────

POINTS = st.lists(st.builds(kpi.Point, OFFSETS.map(lambda o: T0 + o), VALUES), min_size=1, max_size=30)
TARGETS = st.none() | st.builds(kpi.Target, st.sampled_from([">=", "<=", ">", "<"]), VALUES)


@st.composite
def summaries(draw: st.DrawFn, name: st.SearchStrategy[str] = NAMES) -> kpi.KpiSummary:
    points = draw(POINTS)
    summary = kpi.summarize(draw(name), draw(UNITS), points, now=T0 + timedelta(days=400),
                            days=draw(st.integers(1, 366)), target=draw(TARGETS))
    assert summary is not None
    return summary


@FUZZ
@given(SLUGS, replicated(summaries(name=st.one_of(NAMES, texts(200, min_size=1))), 60), st.integers(1, 366),
       VALUES, UNITS, NAMES,
       st.builds(kpi.Target, st.sampled_from([">=", "<=", ">", "<"]), VALUES))
def test_metric_renderers_keep_slack_limits(slug: str, rows: list[kpi.KpiSummary], days: int,
                                            value: float, unit: str, name: str,
                                            target: kpi.Target) -> None:
    messages = [
        mb.crossing_announcement(slug, name, unit, value, target, True),
        mb.crossing_announcement(slug, name, unit, value, target, False),
        mb.recorded(slug, name, value, unit, ""),
    ]
    for msg in (mb.kpi_table(slug, rows, days=days), *messages):
        check_message(msg)  # KPI names are validated before they are stored; any name keeps the shape
    check_inert(*(m.as_args() for m in messages))
    # The table's units: see test_kpi_table_escapes_the_unit.


def test_kpi_table_escapes_the_unit() -> None:
    points = [kpi.Point(T0 - timedelta(days=40), 1.0), kpi.Point(T0 - timedelta(days=8), 2.0),
              kpi.Point(T0, 3.0)]
    for unit in ("<!channel>", "<https://evil.example|x>"):
        summary = kpi.summarize("latency", unit, points, now=T0, target=kpi.Target("<=", 2.5))
        assert summary is not None
        check_inert(mb.kpi_table("churn", [summary], days=30).as_args())


@FUZZ
@given(replicated(deployments(), 12), st.integers(1, 366))
def test_dora_card_keeps_slack_limits(walked: list[tuple[Deployment, list[Event]]], days: int) -> None:
    history = [d for d, _ in walked]
    now = T0 + timedelta(days=30)
    current, previous = dora.dora_periods(history, now=now, days=days)
    per = sorted(dora.dora_by_use_case(history, now=now, days=days).items())
    msg = mb.dora_card(current, compare(current, previous), per_use_case=per * 10)
    check_message(msg)
    assert mb.dora_line(current)


# ── the digest ───────────────────────────────────────────────────────────────────────────────

PHASE_NAMES = st.sampled_from(["biz", "dev", "ops", "continuous", "archived"]) | texts(20)
STATES = st.sampled_from(["running", "awaiting_approval", "succeeded", "failed", "cancelled", "expired",
                          "rejected"]) | texts(20)
WHEN = OFFSETS.map(lambda o: T0 - o)
PERMALINKS = st.none() | st.just("https://example.slack.com/archives/C1/p1") | texts(100)


ID_NUMBERS = st.integers(1, 10**12)
MOVES = st.builds(dd.PhaseMove, texts(60), texts(300), PHASE_NAMES, PHASE_NAMES, USER_IDS, WHEN, texts(600))
OVERDUE = st.builds(dd.OverdueWork, texts(60), texts(300), USER_IDS, st.floats(0, 1e6))
WAITING = st.builds(dd.WaitingApproval, ID_NUMBERS, texts(60), texts(80), texts(60), WHEN, PERMALINKS,
                    st.integers(0, 9))
SHIPPED = st.builds(dd.DeploymentLine, ID_NUMBERS, texts(60), texts(80), STATES, USER_IDS,
                    st.none() | OFFSETS, st.booleans())
CROSSED = st.builds(dd.CrossedTarget, texts(60), texts(300), st.booleans(), VALUES, texts(40),
                    st.builds(kpi.Target, st.sampled_from([">=", "<=", ">", "<"]), VALUES))


def dora_report(deployments: int, dry_runs: int) -> dora.DoraReport:
    counts = dora.DoraCounts(deployments, deployments // 2, dry_runs, timedelta(hours=2), None, 0)
    return dora.report(counts, since=T0 - timedelta(days=7), until=T0, days=7, use_case=None)


MOVEMENTS = st.builds(dd.KpiMovement, texts(60), texts(80), VALUES, texts(20), texts(80), texts(40), TARGETS)
DIGESTS = st.builds(
    dd.DigestData, channel_id=st.just("CDIGEST"), now=st.just(T0), since=st.none() | WHEN, tz=ZONES,
    phases=st.lists(st.builds(dd.PhaseCount, PHASE_NAMES, st.integers(0, 10**6)), max_size=8),
    moves=replicated(MOVES, 80), overdue=replicated(OVERDUE, 80), approvals=replicated(WAITING, 80),
    deployments=replicated(SHIPPED, 80), kpis=replicated(MOVEMENTS, 80),
    crossings=replicated(CROSSED, 80), dora=st.none() | st.builds(dora_report, st.integers(0, 50),
                                                                   st.integers(0, 50)),
)


@FUZZ
@given(DIGESTS)
def test_digest_keeps_slack_limits(data: dd.DigestData) -> None:
    msg = dg.render_digest(data)
    check_message(msg)
    check_inert(msg.as_args())


@pytest.mark.parametrize("parse", [parse_usecase, parse_deploy, parse_metric, parse_digest])
def test_a_4000_character_command_is_answered(parse: Callable[[str], Any]) -> None:
    """The biggest command Slack sends, of the worst characters, in one go."""
    for text in ("\u202e" + '"' * 3999, "x=" * 2000, "<@U0ADMIN|" * 400, "\x00 " * 2000,
                 "new churn " + "“" * 3990, "record churn acc 1 unit=" + "🚀" * 3976):
        _parses_or_refuses(parse, text[:4000])
