"""The digest renderer: a snapshot of the blocks, Slack's limits at any volume, empty sections left out.

Snapshots live in tests/unit/snapshots/; after an intended change, refresh them with
``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_digest_blocks.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.domain.digest_data import (
    CrossedTarget,
    DeploymentLine,
    DigestData,
    KpiMovement,
    OverdueWork,
    PhaseCount,
    PhaseMove,
    WaitingApproval,
)
from bot.domain.dora import DoraReport
from bot.domain.freezes import PIPELINE_FILE, FreezeWindow
from bot.domain.metrics import Target
from bot.render import digest_blocks as db
from bot.render.blocks import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, Message
from bot.render.digest_blocks import render_digest

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
SINCE = NOW - timedelta(days=7)
EVIL = "Ping <!channel> & <@U123> <https://evil|x>"
RAW = ("<!channel>", "<@U123>", "<https://evil")
DORA = DoraReport(None, SINCE, NOW, 7, deployments=4, dry_runs=0, failed=1, frequency_per_day=4 / 7,
                  lead_time=timedelta(hours=2), change_failure_rate=0.25,
                  time_to_restore=timedelta(hours=1), unrestored=0, bands={}, band="medium")
TITLES = {
    "approvals": "✋ Approvals waiting", "overdue": "⏰ Over the Dev time box",
    "moves": "🔀 Phase changes", "deployments": "🚀 Deployments",
    "crossings": "🎯 Targets crossed", "kpis": "📈 KPI movements",
}


# ── fixed data ─────────────────────────────────────────────────────────────────────────────

def sample() -> DigestData:
    return DigestData(
        channel_id="CDIGEST", now=NOW, since=SINCE, tz="Europe/Berlin",
        phases=[PhaseCount("dev", 5), PhaseCount("biz", 3), PhaseCount("ops", 2),
                PhaseCount("continuous", 1), PhaseCount("archived", 0)],
        moves=[
            PhaseMove("fraud-score", "Card fraud scoring", "dev", "ops", "UBEN", NOW - timedelta(days=1),
                      ""),
            PhaseMove("churn-model", "Predict customer churn", "biz", "dev", "UANNA",
                      NOW - timedelta(days=4, hours=2), "Data access agreed with legal"),
            PhaseMove("pricing", "Dynamic pricing", "ops", "dev", "UCARL", NOW - timedelta(days=2),
                      "Latency too high in prod"),
        ],
        overdue=[OverdueWork("recsys", "Product recommendations", "UDORA", 6.4),
                 OverdueWork("forecast", "Demand forecast", "UERIK", 9.0)],
        approvals=[
            WaitingApproval(44, "fraud-score", "0.9.0", "production", NOW - timedelta(hours=5), None, 2),
            WaitingApproval(42, "churn-model", "1.4.0", "production", NOW - timedelta(days=2, hours=3),
                            "https://acme.slack.com/archives/CDIGEST/p1772000000000100", 1),
        ],
        deployments=[
            DeploymentLine(41, "churn-model", "1.3.2", "succeeded", "UANNA",
                           timedelta(minutes=12, seconds=5), False),
            DeploymentLine(43, "fraud-score", "0.9.0-rc1", "failed", "UBEN", timedelta(minutes=3), False),
            DeploymentLine(45, "pricing", "2.0.0", "succeeded", "UCARL", timedelta(seconds=40), True),
            DeploymentLine(46, "fraud-score", "0.9.0", "awaiting_approval", "UBEN", None, False),
        ],
        kpis=[KpiMovement("churn-model", "precision", 0.91, "", "▲ +0.03 (+3.4%)", "▁▃▅▇", Target(">=", 0.9)),
              KpiMovement("pricing", "margin", 11.2, "%", "▼ −0.8 pt", "▇▅▃▂", None)],
        crossings=[CrossedTarget("churn-model", "precision", True, 0.91, "", Target(">=", 0.9))],
        dora=DORA,
    )


def quiet() -> DigestData:
    return replace(sample(), moves=[], deployments=[], kpis=[], crossings=[])


def flood(n: int = 500, *, long: bool = False) -> DigestData:
    pad = " with a rather long descriptive title" * 6 if long else ""
    base = sample()
    return replace(
        base,
        phases=[PhaseCount("dev", n)],
        moves=[replace(base.moves[1], slug=f"uc-{i}", title=f"Use case {i}{pad}", note="why" * 50)
               for i in range(n)],
        overdue=[replace(base.overdue[0], slug=f"uc-{i}", title=f"Use case {i}{pad}") for i in range(n)],
        approvals=[replace(base.approvals[1], deployment_id=i, slug=f"uc-{i}{pad[:20]}",
                           waiting_since=NOW - timedelta(minutes=i)) for i in range(n)],
        deployments=[replace(base.deployments[i % 4], deployment_id=i) for i in range(n)],
        kpis=[replace(base.kpis[0], slug=f"uc-{i}", name=f"metric {i}{pad}") for i in range(n)],
        crossings=[replace(base.crossings[0], slug=f"uc-{i}", name=f"metric{pad}") for i in range(n)],
    )


# ── helpers ────────────────────────────────────────────────────────────────────────────────

def assert_snapshot(name: str, message: Message) -> None:
    path = SNAPSHOTS / f"{name}.json"
    got = {"text": message.text, "blocks": message.blocks}
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it")
    assert got == json.loads(path.read_text(encoding="utf-8")), (
        f"{path.name} differs; if intended, refresh with UPDATE_SNAPSHOTS=1")


def texts(message: Message) -> list[str]:
    return [t["text"] for t in text_objects(message.blocks)]


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


def section_lines(message: Message, title: str) -> list[str]:
    """The lines of the section titled ``title`` (it may continue over several blocks)."""
    lines: list[str] = []
    inside = False
    for block in message.blocks:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        first = text.split("\n", 1)[0]
        if first.startswith("*") and first.endswith("*"):
            inside = first.startswith(f"*{title}")
            text = text.split("\n", 1)[1] if "\n" in text else ""
        if inside and text:
            lines += text.split("\n")
    return lines


def shown_and_hidden(lines: list[str]) -> tuple[int, int]:
    bullets = sum(line.startswith("• ") for line in lines)
    more = [int(m.group(1)) for line in lines if (m := re.fullmatch(r"_… and (\d+) more [\w ]+_", line))]
    return bullets, sum(more)


def check_limits(message: Message) -> None:
    assert len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        assert Block.parse(block) is not None
        assert Block.parse(block).to_dict() == block  # type: ignore[union-attr]
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER
    assert len(message.text) <= 4000
    assert message.text.count("\n") <= 1


# ── the whole digest ───────────────────────────────────────────────────────────────────────

def test_full_digest_matches_the_snapshot() -> None:
    assert_snapshot("digest_full", render_digest(sample()))


def test_quiet_digest_matches_the_snapshot() -> None:
    assert_snapshot("digest_quiet", render_digest(quiet()))


def test_urgent_first_then_movement() -> None:
    message = render_digest(sample())
    assert message.blocks[0]["text"]["text"] == "📋 BizDevOps digest — Mon 2 Mar 2026"
    order = [next(i for i, t in enumerate(texts(message)) if t.startswith(f"*{title}"))
             for title in TITLES.values()]
    assert order == sorted(order)
    assert texts(message)[-1].startswith("*📊 DORA*")


def test_phase_counts_on_one_compact_line() -> None:
    assert "*11 use cases* · 💼 Biz 3 · 🛠️ Dev 5 · ⚙️ Ops 2 · ♾️ Continuous 1" in texts(render_digest(sample()))


def test_approvals_oldest_first_with_age_and_link() -> None:
    lines = section_lines(render_digest(sample()), TITLES["approvals"])
    assert lines == [
        "• *churn-model* 1.4.0 → production · waiting 2 days · needs 1 more approval · "
        "<https://acme.slack.com/archives/CDIGEST/p1772000000000100|open>",
        "• *fraud-score* 0.9.0 → production · waiting 5 hours · needs 2 more approvals",
    ]


def test_open_freezes_come_first_a_few_of_them_the_rest_counted() -> None:
    windows = [FreezeWindow(NOW - timedelta(hours=1), NOW + timedelta(hours=i + 1), f"{EVIL} {i}",
                            frozenset({f"uc-{i}"})) for i in range(7)]
    windows.append(FreezeWindow(NOW, NOW + timedelta(days=2), "weekend", None, PIPELINE_FILE))
    message = render_digest(replace(sample(), freezes=windows))
    check_limits(message)
    after_phases = texts(message)[3]
    assert after_phases.startswith("*❄️ Frozen now (8)*\n• ❄️ Deployments of *uc-0* are frozen until "
                                   "2026-03-02 09:00 CET: ")
    lines = section_lines(message, "❄️ Frozen now")
    assert shown_and_hidden(lines) == (5, 3) and lines[-1] == "_… and 3 more freeze windows_"
    assert not any(raw in after_phases for raw in RAW)
    assert message.text.startswith("Weekly digest: 11 use cases, 8 freeze windows open, 2 approvals")
    flooded = render_digest(replace(flood(500, long=True), freezes=windows * 60))
    check_limits(flooded)
    assert "*❄️ Frozen now (480)*" in texts(flooded)[3]


def test_an_unsafe_permalink_is_left_out() -> None:
    data = sample()
    bad = replace(data.approvals[1], permalink="https://x|<!channel>")
    lines = section_lines(render_digest(replace(data, approvals=[bad])), TITLES["approvals"])
    assert "open" not in lines[0] and "<!channel>" not in lines[0]


def test_fallback_summarises_for_notifications() -> None:
    assert render_digest(sample()).text == (
        "Weekly digest: 11 use cases, 2 approvals waiting, 2 over the time box, 3 phase changes, "
        "4 deployments, 1 target crossed, 2 KPI movements")
    assert render_digest(quiet()).text == (
        "Weekly digest: 11 use cases, 2 approvals waiting, 2 over the time box, a quiet week")


# ── empty sections are left out ────────────────────────────────────────────────────────────

@pytest.mark.parametrize("name", list(TITLES))
def test_an_empty_section_is_left_out(name: str) -> None:
    empty: dict[str, Any] = {name: []}
    message = render_digest(replace(sample(), **empty))
    check_limits(message)
    for other, title in TITLES.items():
        assert any(t.startswith(f"*{title}") for t in texts(message)) == (other != name)


def test_no_phase_line_and_no_dora_when_there_is_nothing() -> None:
    message = render_digest(replace(sample(), phases=[PhaseCount("biz", 0)], dora=None))
    assert not any("use case" in t and "·" in t and t.startswith("*") and "Biz" in t for t in texts(message))
    assert not any(t.startswith("*📊 DORA*") for t in texts(message))


def test_everything_empty_still_says_something() -> None:
    data = replace(quiet(), phases=[], approvals=[], overdue=[], dora=None)
    message = render_digest(data)
    check_limits(message)
    assert [b["type"] for b in message.blocks] == ["header", "context", "section"]
    assert message.text == "Weekly digest: 0 use cases, a quiet week"


# ── the quiet period ───────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("since", "line"), [
    (SINCE, "😌 A quiet week: no phase changes, deployments or KPI movements since Mon 23 Feb 2026."),
    (NOW - timedelta(days=1), "😌 A quiet day: no phase changes, deployments or KPI movements "
                              "since Sun 1 Mar 2026."),
    (NOW - timedelta(days=30), "😌 A quiet month: no phase changes, deployments or KPI movements "
                               "since Sat 31 Jan 2026."),
    (None, "😌 A quiet period: no phase changes, deployments or KPI movements so far."),
])
def test_a_quiet_period_says_so_in_one_line(since: datetime | None, line: str) -> None:
    texts_ = texts(render_digest(replace(quiet(), since=since)))
    assert line in texts_
    assert sum("quiet" in t for t in texts_) == 1


def test_the_quiet_line_comes_after_the_urgent_sections() -> None:
    all_texts = texts(render_digest(quiet()))
    quiet_at = next(i for i, t in enumerate(all_texts) if "A quiet week" in t)
    overdue_at = next(i for i, t in enumerate(all_texts) if t.startswith(f"*{TITLES['overdue']}"))
    assert overdue_at < quiet_at


@pytest.mark.parametrize("name", ["moves", "deployments", "kpis", "crossings"])
def test_any_movement_means_not_quiet(name: str) -> None:
    data = replace(quiet(), **{name: getattr(sample(), name)})
    assert not any("quiet" in t for t in texts(render_digest(data)))


# ── Slack's limits at any volume ───────────────────────────────────────────────────────────

@pytest.mark.parametrize("long", [False, True])
def test_500_of_everything_fits_with_every_section_and_honest_counts(long: bool) -> None:
    data = flood(500, long=long)
    message = render_digest(data)
    check_limits(message)
    assert "*500 use cases* · 🛠️ Dev 500" in texts(message)
    for name, title in TITLES.items():
        total = len(getattr(data, name))
        assert any(t.startswith(f"*{title} ({total}") for t in texts(message)), title
        shown, hidden = shown_and_hidden(section_lines(message, title))
        assert hidden > 0 and shown + hidden == total, title
    assert any(t.startswith("*📊 DORA*") for t in texts(message))


@pytest.mark.parametrize("n", [1, 20, 60, 500])
def test_the_block_budget_holds_when_every_line_is_shown(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """Without the per-section line cap, 50 blocks are shared so each section keeps its title."""
    monkeypatch.setattr(db, "MAX_LINES", 10_000)
    data = flood(n, long=True)
    message = render_digest(data)
    check_limits(message)
    for name, title in TITLES.items():
        shown, hidden = shown_and_hidden(section_lines(message, title))
        assert shown + hidden == len(getattr(data, name)), title
        assert shown >= 1, title
    if n == 500:
        assert len(message.blocks) == MAX_BLOCKS


def test_very_long_user_text_is_clipped_never_past_the_limits() -> None:
    huge = "x" * 5000
    base = sample()
    data = replace(
        base,
        moves=[replace(base.moves[0], title=huge, note=huge)],
        overdue=[replace(base.overdue[0], title=huge)],
        kpis=[replace(base.kpis[0], name=huge, unit=huge)],
        crossings=[CrossedTarget(huge, huge, False, 0.5, huge, Target(">=", 0.9))],
    )
    message = render_digest(data)
    check_limits(message)
    assert all(len(line) <= db.MAX_LINE for t in texts(message) for line in t.split("\n"))


# ── user text is inert ─────────────────────────────────────────────────────────────────────

def test_user_text_is_escaped_everywhere() -> None:
    base = sample()
    data = replace(
        base,
        moves=[replace(base.moves[0], title=EVIL, note=EVIL)],
        overdue=[replace(base.overdue[0], title=EVIL)],
        approvals=[replace(base.approvals[0], version=EVIL, stage=EVIL)],
        deployments=[replace(base.deployments[0], version=EVIL, state=EVIL)],
        kpis=[KpiMovement("churn-model", EVIL, 0.5, EVIL, EVIL, EVIL, Target("<", 1))],
        crossings=[CrossedTarget(EVIL, EVIL, False, 0.5, EVIL, Target(">=", 0.9))],
        phases=[PhaseCount(EVIL, 1)],
    )
    message = render_digest(data)
    check_limits(message)
    dumped = json.dumps(message.blocks, ensure_ascii=False) + message.text
    for raw in RAW:
        assert raw not in dumped
    assert dumped.count("&lt;!channel&gt;") >= 10


def test_a_title_with_channel_ping_comes_out_escaped() -> None:
    base = sample()
    data = replace(base, moves=[replace(base.moves[0], title="Hello <!channel>")])
    [line] = section_lines(render_digest(data), TITLES["moves"])
    assert "Hello &lt;!channel&gt;" in line
    assert "<!channel>" not in line


# ── line formats ───────────────────────────────────────────────────────────────────────────

def test_deployment_lines_show_result_duration_and_dry_run() -> None:
    message = render_digest(sample())
    assert any(t.startswith("*🚀 Deployments (4: 2 ✅, 1 ❌)*") for t in texts(message))
    lines = section_lines(message, TITLES["deployments"])
    assert lines[0] == "• ✅ Succeeded in 12 minutes 5 seconds · *churn-model* 1.3.2 (#41) · <@UANNA>"
    assert lines[2].endswith("· _dry run_")
    assert lines[3].startswith("• ✋ Waiting for approval · *fraud-score* 0.9.0 (#46)")


def test_overdue_largest_first_with_owner_and_weeks() -> None:
    lines = section_lines(render_digest(sample()), TITLES["overdue"])
    assert lines == ["• *forecast* — Demand forecast · <@UERIK> · 9 weeks in Dev",
                     "• *recsys* — Product recommendations · <@UDORA> · 6.4 weeks in Dev"]


def test_phase_moves_in_order_with_who_when_and_why() -> None:
    lines = section_lines(render_digest(sample()), TITLES["moves"])
    assert [line.split(" ", 2)[1] for line in lines] == ["*churn-model*", "*pricing*", "*fraud-score*"]
    assert lines[0] == ("• *churn-model* — Predict customer churn: 💼 Biz → 🛠️ Dev · <@UANNA> · "
                        "Thu 26 Feb — _Data access agreed with legal_")
