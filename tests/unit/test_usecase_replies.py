"""The answers to `/usecase` (bot/render/usecase_replies.py), from the facts the service
returns: what was done, and where the channel hears of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import usecases
from bot.domain.metrics import Target
from bot.domain.usecase_results import (
    CardButtons,
    MemberJoined,
    MemberLeft,
    ModelLinked,
    NewUseCaseCard,
    OwnerChangeCard,
    OwnerHandedOver,
    PhaseChangeCard,
    UseCaseCreated,
    UseCaseListing,
    UseCaseMoved,
    UseCaseResult,
    UseCaseView,
)
from bot.domain.usecases import Phase, Role
from bot.render import cards, usecase_blocks
from bot.render.usecase_replies import reply

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SIX_WEEKS = timedelta(weeks=6)


@pytest.mark.parametrize(("done", "said"), [
    (UseCaseCreated("churn", "C1"), "✅ Created *churn* in Biz; announced in <#C1>."),
    (UseCaseMoved("churn", Phase.DEV, "C1"), "✅ *churn* is now in 🛠️ Dev; announced in <#C1>."),
    (OwnerHandedOver("churn", "U2"), "✅ <@U2> now owns *churn*."),
    (MemberJoined("churn", "U2", Role.DEVOPS), "✅ <@U2> joined *churn* as devops."),
    (MemberLeft("churn", "U2"), "✅ <@U2> left the team of *churn*."),
    (ModelLinked("churn", "churn-clf", "C1"),
     "🔗 *churn* is linked to the MLflow model `churn-clf`: its new versions and alias moves are "
     "announced in <#C1>."),
])
def test_what_was_done_is_said_with_where_it_was_announced(done: UseCaseResult, said: str) -> None:
    assert reply(done).text == said


def uc(slug: str = "churn") -> usecases.UseCase:
    return usecases.create(slug, slug.title(), creator_id="U1", channel_id="C1", now=T0,
                           kpi="auc")


@pytest.mark.parametrize(("filters", "heading"), [
    ({}, "Use cases"),
    ({"phase": Phase.DEV}, "Use cases in Dev"),
    ({"owner": "U9", "mine": True}, "Use cases owned by <@U9> you work on"),
])
def test_the_list_is_headed_by_its_filters(filters: dict[str, object], heading: str) -> None:
    found = UseCaseListing((uc(),), 1, {}, T0, SIX_WEEKS, **filters)  # type: ignore[arg-type]
    assert reply(found).blocks == usecase_blocks.usecase_list(
        [uc()], now=T0, timebox=SIX_WEEKS, heading=heading, total=1, production={}).blocks


def test_the_card_is_the_view_with_its_buttons_and_target() -> None:
    view = UseCaseView(uc(), T0, SIX_WEEKS, "UTC", CardButtons(advance=True), Target(">=", 0.8))
    assert reply(view).blocks == usecase_blocks.usecase_card(
        uc(), now=T0, timebox=SIX_WEEKS, tz="UTC", can=CardButtons(advance=True),
        kpi_target=Target(">=", 0.8).describe()).blocks


def test_the_channel_cards_are_the_announcements() -> None:
    created, moved = uc(), usecases.advance(uc(), "U1", T0 + SIX_WEEKS, is_admin=False)
    handed = usecases.hand_over(created, "U1", "U2", is_admin=False)
    assert cards.words(NewUseCaseCard(created)) == usecase_blocks.usecase_created(created)
    assert cards.words(PhaseChangeCard(moved)) == usecase_blocks.phase_changed(moved)
    assert cards.words(OwnerChangeCard(handed, "U1", "U3")) == usecase_blocks.owner_changed(
        handed, previous_owner="U1", actor_id="U3")
