"""A use case's summary, as a pasted link to its page unfurls (bot/render/unfurl_blocks.py):
the facts at a glance, each KPI against its target, within Slack's limits, with a fallback;
and the fake Slack's ``chat.unfurl`` checking what it is given as Slack does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import usecases
from bot.domain.metrics import Target
from bot.domain.production import Production, Running
from bot.domain.usecase_results import KpiStanding, UseCaseSummary
from bot.render.blocks import MAX_BLOCKS, MAX_SECTION
from bot.render.unfurl_blocks import MOST_KPIS, kpi_standing, summary
from bot.simulator.fake_slack_methods import handle
from bot.simulator.fake_slack_state import SlackError, SlackState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIX_WEEKS = timedelta(weeks=6)


def _summary(*kpis: KpiStanding, title: str = "Churn", production: Production | None = None,
             days: int = 3) -> UseCaseSummary:
    uc = usecases.create("churn", title, creator_id="U1", channel_id="C1", now=T0, kpi="auc")
    dev = usecases.advance(uc, "U1", T0, is_admin=False).use_case
    return UseCaseSummary(dev, T0 + timedelta(days=days), SIX_WEEKS, "UTC", production, kpis)


def _text(blocks: list[dict]) -> str:
    return "\n".join(b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"]
                     for b in blocks)


def test_the_summary_says_phase_owner_production_and_each_kpi_against_its_target() -> None:
    running = Production((Running("1.4.0", ("prod",), T0, 7),), 7)
    said = summary(_summary(KpiStanding("auc", 0.83, "", Target(">=", 0.8)),
                            KpiStanding("latency", 250, "ms", Target("<=", 200)),
                            KpiStanding("revenue", None, "", Target(">=", 1000)),
                            KpiStanding("calls", 12, "", None), production=running))
    text = _text(said.blocks)
    assert "*churn — Churn*" in text
    assert "🛠️ Dev for 3 days · owner <@U1>" in text
    assert "🎯 In production: `1.4.0`" in text
    assert "• *auc* (success KPI) 0.83 · ✅ met ≥ 0.8 ↑ (by 0.03)" in text
    assert "• *latency* 250 ms · ❌ missed ≤ 200 ms ↓ (by 50 ms)" in text
    assert "• *revenue* no value yet · target ≥ 1,000" in text
    assert "• *calls* 12 · no target" in text
    assert said.text == "churn — Churn: Dev, owner <@U1>"


def test_overdue_and_never_deployed_are_said() -> None:
    text = _text(summary(_summary(days=60)).blocks)
    assert "⏰ overdue" in text and "never deployed" in text


def test_a_hostile_title_and_many_kpis_stay_within_slack_limits() -> None:
    many = [KpiStanding(f"k{i:02d}_" + "x" * 60, 1e12 + i, "u" * 20, Target(">=", 1.0))
            for i in range(40)]
    said = summary(_summary(*many, title="<!channel> & " + "T" * 180))
    assert len(said.blocks) <= MAX_BLOCKS and len(said.text) <= 4000
    assert all(len(b["text"]["text"]) <= MAX_SECTION for b in said.blocks if b["type"] == "section")
    text = _text(said.blocks)
    assert "<!channel>" not in text and "<!channel>" not in said.text
    assert text.count("• *k") == MOST_KPIS and "30 more KPIs" in text


@pytest.mark.parametrize(("kpi", "shown"), [
    (KpiStanding("p95", 0.12, "s", Target("<", 0.1)), "• *p95* 0.12 s · ❌ missed < 0.1 s ↓ (by 0.02 s)"),
    (KpiStanding("share", 40, "%", None), "• *share* 40% · no target"),
    (KpiStanding("new", None, "", None), "• *new* no value yet"),
    (KpiStanding("calls", 1, "<b>", None), "• *calls* 1 &lt;b&gt; · no target"),
])
def test_kpi_lines(kpi: KpiStanding, shown: str) -> None:
    assert kpi_standing(kpi, success=False) == shown


# ── the fake Slack's chat.unfurl ────────────────────────────────────────────────────────────

def _slack() -> tuple[SlackState, str]:
    state = SlackState(team_id="T0SIM", bot_user_id="U0BOT", base_url=lambda: "http://fake")
    state.add_channel("general", "CGENERAL")
    state.add_user("alice", "UALICE", None)
    msg = state.person_says("UALICE", "CGENERAL", "see <https://dash.example.com/use-cases/churn>",
                            composing=False)
    return state, msg.ts


UNFURL = {"https://dash.example.com/use-cases/churn": {
    "fallback": "churn", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}}


def test_the_fake_records_an_unfurl_on_the_message_it_names() -> None:
    state, ts = _slack()
    assert handle(state, "chat.unfurl", {"channel": "CGENERAL", "ts": ts, "unfurls": UNFURL}) == {"ok": True}
    assert state.messages[-1].unfurls == UNFURL
    draft = state.person_says("UALICE", "", "https://dash.example.com/use-cases/churn", composing=True)
    handle(state, "chat.unfurl", {"unfurl_id": draft.unfurl_id, "source": "composer", "unfurls": UNFURL})
    assert state.composing[-1].unfurls == UNFURL


@pytest.mark.parametrize(("args", "error"), [
    ({"ts": "TS", "unfurls": UNFURL}, "missing_channel"),
    ({"channel": "CGENERAL", "unfurls": UNFURL}, "missing_ts"),
    ({"channel": "CNOPE", "ts": "TS", "unfurls": UNFURL}, "cannot_find_channel"),
    ({"channel": "CGENERAL", "ts": "1.0", "unfurls": UNFURL}, "cannot_find_message"),
    ({"channel": "CGENERAL", "ts": "TS"}, "missing_unfurls"),
    ({"channel": "CGENERAL", "ts": "TS", "unfurls": "{not json"}, "invalid_unfurls_format"),
    ({"channel": "CGENERAL", "ts": "TS", "unfurls": {"https://x.example/": {"text": "x"}}},
     "cannot_unfurl_message"),
    ({"channel": "CGENERAL", "ts": "TS", "unfurls": {u: {"blocks": []} for u in UNFURL}},
     "invalid_blocks"),
    ({"channel": "CGENERAL", "ts": "TS", "unfurls": {u: {"blocks": [{"type": "section", "text": {
        "type": "mrkdwn", "text": "x" * 3001}}]} for u in UNFURL}}, "invalid_blocks"),
    ({"channel": "CGENERAL", "ts": "TS", "unfurls": {u: {"color": "good"} for u in UNFURL}},
     "cannot_parse_attachment"),
    ({"source": "composer", "unfurls": UNFURL}, "missing_unfurl_id"),
    ({"unfurl_id": "x", "unfurls": UNFURL}, "missing_source"),
    ({"unfurl_id": "x", "source": "elsewhere", "unfurls": UNFURL}, "invalid_source"),
    ({"unfurl_id": "x", "source": "composer", "unfurls": UNFURL}, "invalid_unfurl_id"),
])
def test_the_fake_refuses_what_slack_refuses(args: dict[str, object], error: str) -> None:
    state, ts = _slack()
    with pytest.raises(SlackError) as refused:
        handle(state, "chat.unfurl", {k: ts if v == "TS" else v for k, v in args.items()})
    assert refused.value.error == error
    assert state.messages[-1].unfurls == {}
