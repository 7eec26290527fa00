"""Cards — the facts services post to a channel or a DM (bot/services/outbox_port.py) — in
words: one table from each card's type to the function that says it. The composition root
hands the database ``words_for(links)``, which words every card as it is queued, linking the
use cases' and deployments' messages to the dashboard when ``links`` has a public URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.render import (
    deploy_card_words,
    deploy_replies,
    freeze_blocks,
    metric_replies,
    registry_blocks,
    undo_notes,
    unfurl_blocks,
    usecase_blocks,
)
from bot.render.blocks import Message, one_table
from bot.render.dashboard_links import NO_LINKS, DashboardLinks

Table = dict[type, Callable[[Any], Message]]


def table(links: DashboardLinks = NO_LINKS) -> Table:
    return one_table(
        deploy_card_words.cards(links), deploy_replies.CARDS, freeze_blocks.CARDS,
        metric_replies.cards(links), registry_blocks.CARDS, undo_notes.CARDS, unfurl_blocks.CARDS,
        usecase_blocks.cards(links))


CARDS: Table = table()


def words(card: object, cards: Table = CARDS) -> Message:
    say = cards.get(type(card))
    if say is None:
        raise TypeError(f"no renderer for the card {type(card).__name__} (bot/render/cards.py)")
    return say(card)


def slack_args(card: object) -> dict[str, Any]:
    """A card's Slack arguments, linking to nothing (tests, tools, no public URL)."""
    return words(card).as_args()


def words_for(links: DashboardLinks) -> Callable[[object], dict[str, Any]]:
    """``slack_args`` with the dashboard's links (none under ``NO_LINKS``)."""
    cards = table(links)
    return lambda card: words(card, cards).as_args()
