"""The DORA card and line (``bot.render.metric_blocks``) and the digest's DORA fact: a scope with
only dry runs says there is nothing to measure yet, and shows no band."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.domain.changes import Change, ChangeKind
from bot.domain.dora import BANDS, DoraCounts, dora, dora_periods
from bot.render.blocks import Message
from bot.render.dora_changes import compare
from bot.render.metric_blocks import dora_card, dora_line
from bot.services.digest_facts import dora_summary
from tests.unit.test_dora import FAILED, NOW, ago, deployment

NOTHING_YET = "2 dry runs, nothing deployed: nothing to measure yet"


def texts(message: Message) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks)
    return out


def card(history: list[Any], **kwargs: Any) -> Message:
    current, previous = dora_periods(history, now=NOW, **kwargs)
    return dora_card(current, compare(current, previous))


DRY = [deployment(1, ago(3), dry_run=True), deployment(2, ago(1), dry_run=True, state=FAILED)]


def test_the_line_of_only_dry_runs_has_no_band() -> None:
    line = dora_line(dora(DRY, now=NOW))
    assert line == f"🧪 {NOTHING_YET}"
    assert not any(band in line for band in BANDS)


def test_the_line_of_real_deployments_is_unchanged_by_dry_runs() -> None:
    line = dora_line(dora([*DRY, deployment(3, ago(2))], now=NOW))
    assert line.startswith("🟡 medium: 0.233 per week, lead time 1 h, change failure rate 0%")


def test_the_card_of_only_dry_runs_says_nothing_to_measure_yet() -> None:
    message = card(DRY, use_case="churn")
    assert texts(message) == ["🚀 DORA — churn, last 30 days", f"🧪 {NOTHING_YET}.",
                              "Dry runs are never counted: they deploy nothing."]
    assert message.text == f"DORA churn, 30 days: {NOTHING_YET}"


def test_the_card_says_how_many_dry_runs_were_left_out() -> None:
    message = card([*DRY, deployment(3, ago(2))])
    [_header, lines, overall] = texts(message)
    assert "*Deployment frequency* 0.233 per week — medium" in lines
    assert overall == ("Overall: 🟡 *medium* · 1 production deployment, 0 failed · "
                       "2 dry runs not counted · lead time from the request for 1 of 1 · "
                       "changes against the previous period")


def test_the_card_says_for_how_many_the_lead_time_runs_from_the_request() -> None:
    """Of 4 deployments 1 failed; of the 3 successes 2 knew no change time: the lead time of
    those runs from their request. Where every success knew its change, nothing is said."""
    commit = Change(ChangeKind.COMMIT, "3f9c2a1d", ago(10))
    known = [replace(deployment(i, ago(i)), change=commit) for i in (1, 2)]
    message = card([known[0], deployment(3, ago(3)), replace(deployment(4, ago(4)), change=replace(
        commit, at=None)), deployment(5, ago(5), state=FAILED)])
    [_header, _lines, overall] = texts(message)
    assert overall == ("Overall: 🔴 *low* · 4 production deployments, 1 failed · "
                       "lead time from the request for 2 of 3 · changes against the previous period")
    [_header, lines, overall] = texts(card(known))
    assert "from the request" not in overall and "*Lead time* 8.5 d — medium" in lines


def test_only_dry_runs_after_a_period_with_deployments_still_shows_the_change() -> None:
    message = card([*DRY, deployment(3, ago(40))])
    [_header, lines, overall] = texts(message)
    assert "*Deployment frequency* 0 per week — n/a (−0.233 per week (worse))" in lines
    assert overall == f"🧪 {NOTHING_YET} · changes against the previous period"


def test_the_digest_says_nothing_to_measure_for_only_dry_runs_and_nothing_for_nothing() -> None:
    def counts(deployments: int, dry_runs: int) -> DoraCounts:
        return DoraCounts(deployments=deployments, failed=0, dry_runs=dry_runs, lead_time=None,
                          time_to_restore=None, unrestored=0)

    only_dry = dora_summary(counts(0, 2), NOW, 7)
    assert only_dry is not None and dora_line(only_dry) == f"🧪 {NOTHING_YET}"
    assert dora_summary(counts(0, 0), NOW, 7) is None
    real = dora_summary(counts(1, 2), NOW, 7)
    assert real is not None and dora_line(real).startswith("🟢 high: 1 per week")
