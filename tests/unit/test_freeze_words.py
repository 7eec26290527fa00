"""The freeze commands' answers and the freezes' begun/over notices, held word for word: the
services return facts (bot/domain/freeze_results.py, checked in
tests/unit/services/test_freeze_service.py; the cards of bot/domain/freeze_cards.py) and
bot/render/freeze_blocks.py says them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.freeze_cards import FreezeBegun, FreezeOver
from bot.domain.freeze_results import FreezeListing, Frozen, Unfrozen
from bot.domain.freezes import PIPELINE_FILE, FreezeWindow
from bot.render.cards import words
from bot.render.freeze_blocks import frozen_reply, listing, unfrozen_reply

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)
QUARTER = FreezeWindow(NOW, NOW + timedelta(hours=6), "quarter <close>", frozenset({"churn"}))
WEEKEND = FreezeWindow(NOW + timedelta(days=4), NOW + timedelta(days=6), "weekend", None,
                       PIPELINE_FILE)


def test_a_freeze_made_says_until_when_where_it_was_announced_and_how_to_lift_it() -> None:
    said = frozen_reply(Frozen(None, NOW + timedelta(hours=2), ("C1", "C2", "C3", "C4", "C5")), "UTC")
    assert said.text == ("❄️ Deployments of *all use cases* are frozen until 2026-05-04 14:00 UTC; "
                         "announced in <#C1>, <#C2>, <#C3> and 2 more channels. "
                         "`/deploy unfreeze all` lifts it.")
    assert frozen_reply(Frozen("churn", NOW, ("C1",)), "UTC").text.endswith(
        "announced in <#C1>. `/deploy unfreeze churn` lifts it.")


def test_a_lifted_freeze_says_what_keeps_it_frozen() -> None:
    assert unfrozen_reply(Unfrozen("churn", ()), "UTC").text == (
        "☀️ Deployments of *churn* are no longer frozen (ad hoc).")
    assert unfrozen_reply(Unfrozen("churn", (WEEKEND,)), "UTC").text == (
        "☀️ Lifted the ad hoc freeze of *churn*, but it stays frozen: the freeze “weekend” "
        "(pipeline file) until 2026-05-10 12:00 UTC.")
    assert unfrozen_reply(Unfrozen(None, (QUARTER,)), "UTC").text == (
        "☀️ Lifted the ad hoc freeze of *all use cases*. Still frozen: ❄️ Deployments of *churn* "
        "are frozen until 2026-05-04 18:00 UTC: “quarter &lt;close&gt;” (ad hoc)")


def test_the_listing_marks_what_is_open_now_and_escapes_reasons() -> None:
    found = FreezeListing(None, 14, NOW, (QUARTER, WEEKEND), ())
    assert listing(found, "UTC").text == (
        "❄️ Freeze windows, now and in the next 14 days:\n"
        "🧊 now 2026-05-04 12:00 UTC → 2026-05-04 18:00 UTC · quarter &lt;close&gt; · churn (ad hoc)\n"
        "🗓️ 2026-05-08 12:00 UTC → 2026-05-10 12:00 UTC · weekend · all use cases (pipeline file)")
    assert listing(FreezeListing("churn", 14, NOW, (), ()), "UTC").text == (
        "☀️ No freeze now or in the next 14 days for `churn`.")


def test_a_freeze_over_groups_the_use_cases_a_next_window_keeps_frozen() -> None:
    other = FreezeWindow(NOW + timedelta(hours=6), NOW + timedelta(days=1), "night", None)
    over = FreezeOver(QUARTER, (("churn", ()), ("forecast", (WEEKEND,)), ("ltv", (WEEKEND,)),
                                ("upsell", (other,))), "UTC")
    assert words(over).text == (
        "☀️ The freeze “quarter &lt;close&gt;” (ad hoc) is over: deployments of *churn* may start "
        "again. *forecast*, *ltv* stay frozen: the freeze “weekend” (pipeline file) until "
        "2026-05-10 12:00 UTC. *upsell* stays frozen: the freeze “night” (ad hoc) until "
        "2026-05-05 12:00 UTC.")


def test_a_freeze_begun_names_at_most_ten_use_cases() -> None:
    slugs = tuple(f"uc{i}" for i in range(12))
    assert words(FreezeBegun(WEEKEND, slugs, "UTC")).text == (
        "❄️ The freeze “weekend” (pipeline file) has begun: deployments of "
        + ", ".join(f"*uc{i}*" for i in range(10)) + " and 2 more are refused until "
        "2026-05-10 12:00 UTC. A stage not started waits for its end; an admin may pass it with "
        '`override="<reason>"`.')
