"""Messages link to the dashboard (bot/render/dashboard_links.py, bot/domain/dashboard_urls.py):
the same URLs both ways, a link under each use case card and deployment message when there is a
public URL, and byte for byte the message of before without one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import deploy_cards, usecases
from bot.domain import deployment_machine as machine
from bot.domain.dashboard_urls import deployment_url, use_case_of, use_case_url
from bot.domain.deployment_model import DecisionTokens, DeploymentState
from bot.domain.endings import Ending
from bot.domain.usecase_results import (
    CardButtons,
    NewUseCaseCard,
    OwnerChangeCard,
    PhaseChangeCard,
    UseCaseView,
)
from bot.pipelines.loading import BUILT_IN
from bot.render import cards
from bot.render.dashboard_links import NO_LINKS, DashboardLinks
from bot.render.usecase_replies import reply
from handlers.slack_events import shared_links

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = "https://dash.example.com"
LINKS = DashboardLinks(BASE)


@pytest.mark.parametrize("url", [
    f"{BASE}/use-cases/churn", f"{BASE}/use-cases/churn/", f"{BASE}/use-cases/churn#deployment-7",
    f"{BASE}/use-cases/churn?deployment=7#deployment-7", f"{BASE}/use-cases/churn?days=90",
    "https://DASH.example.com:443/use-cases/churn",
])
def test_a_link_to_a_use_case_page_names_its_use_case(url: str) -> None:
    assert use_case_of(BASE, url) == "churn"


@pytest.mark.parametrize("url", [
    "https://other.example.com/use-cases/churn", "http://dash.example.com/use-cases/churn",
    f"{BASE}:8443/use-cases/churn", f"{BASE}/deployments?use_case=churn", f"{BASE}/",
    f"{BASE}/use-cases/", f"{BASE}/use-cases/Churn", f"{BASE}/use-cases/churn/history",
    f"{BASE}/use-cases/a%2Fb", "mailto:x@dash.example.com", "not a url", "https://[::1:80/x",
])
def test_other_hosts_paths_and_slugs_name_none(url: str) -> None:
    assert use_case_of(BASE, url) is None


def test_the_urls_messages_link_to_are_those_the_unfurls_recognise() -> None:
    base = "https://example.com/bizdevops"  # served under a path
    assert use_case_of(base, use_case_url(base, "churn")) == "churn"
    assert use_case_of(base, deployment_url(base, "churn", 7)) == "churn"
    assert deployment_url(base, "churn", 7) == (
        "https://example.com/bizdevops/use-cases/churn?deployment=7#deployment-7")
    assert use_case_of(base, "https://example.com/use-cases/churn") is None
    assert use_case_of("", use_case_url("", "churn")) is None  # no public URL: nothing is ours


def _use_case_cards() -> list[object]:
    uc = usecases.create("churn", "Churn <model>", creator_id="U1", channel_id="C1", now=T0)
    moved = usecases.advance(uc, "U1", T0 + timedelta(days=3), is_admin=False)
    handed = usecases.hand_over(uc, "U1", "U2", is_admin=False)
    return [NewUseCaseCard(uc), PhaseChangeCard(moved), OwnerChangeCard(handed, "U1", "U1")]


def _deployment_cards() -> list[object]:
    d = machine.request(use_case="churn", version="1.4.0", pipeline=BUILT_IN.pipelines["default"],
                        requested_by="U1", channel_id="C1", now=T0).deployment
    d = replace(d, id=7)
    ended = replace(d, state=DeploymentState.SUCCEEDED, finished_at=T0 + timedelta(minutes=5))
    return [deploy_cards.DeploymentCard(d, T0, "UTC", DecisionTokens(), None),
            deploy_cards.DeploymentEnded(ended, Ending("U1"))]


def _links_in(args: dict[str, object]) -> list[str]:
    text = json.dumps(args["blocks"])
    return [part.split("|")[0] for part in text.split("<")[1:] if "Open in the dashboard" in part]


@pytest.mark.parametrize("card", _use_case_cards(), ids=lambda c: type(c).__name__)
def test_each_use_case_card_links_to_its_page(card: object) -> None:
    linked = cards.words_for(LINKS)(card)
    assert _links_in(linked) == [f"{BASE}/use-cases/churn"]
    assert linked["text"] == cards.slack_args(card)["text"]  # the notification says the same


@pytest.mark.parametrize("card", _deployment_cards(), ids=lambda c: type(c).__name__)
def test_each_deployment_message_links_to_where_its_page_shows_it(card: object) -> None:
    assert _links_in(cards.words_for(LINKS)(card)) == [f"{BASE}/use-cases/churn?deployment=7#deployment-7"]


@pytest.mark.parametrize("card", _use_case_cards() + _deployment_cards(),
                         ids=lambda c: type(c).__name__)
def test_without_a_public_url_every_card_is_what_it_was(card: object) -> None:
    assert cards.words_for(NO_LINKS)(card) == cards.slack_args(card)
    assert _links_in(cards.slack_args(card)) == []


def test_usecase_show_links_to_the_page_when_there_is_one() -> None:
    uc = usecases.create("churn", "Churn", creator_id="U1", channel_id="C1", now=T0)
    view = UseCaseView(uc, T0, timedelta(weeks=6), "UTC", CardButtons(advance=True))
    assert _links_in(reply(view, LINKS).as_args()) == [f"{BASE}/use-cases/churn"]
    assert reply(view, NO_LINKS) == reply(view)
    assert _links_in(reply(view).as_args()) == []


def test_a_link_shared_event_names_where_and_what() -> None:
    posted = {"channel": "C1", "message_ts": "1.2", "unfurl_id": "C1.1.2.x", "source":
              "conversations_history", "links": [{"url": "https://a.example/1"}, {"url": 5}]}
    found = shared_links(posted)
    assert found is not None and found.urls == ("https://a.example/1",)
    assert found.where.args() == {"channel": "C1", "ts": "1.2"}
    written = {**posted, "channel": "COMPOSER", "source": "composer"}
    assert shared_links(written).where.args() == {"unfurl_id": "C1.1.2.x", "source": "composer"}  # type: ignore[union-attr]
    for broken in ({**posted, "links": "x"}, {**posted, "links": [{"url": 5}]},
                   {**written, "unfurl_id": ""}, {**posted, "source": "elsewhere"},
                   {k: v for k, v in posted.items() if k != "channel"}):
        assert shared_links(broken) is None
