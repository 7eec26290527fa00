"""Cards — the facts services post to a channel or a DM (bot/services/outbox_port.py) — in
words: one table from each card's type to the function that says it. The composition root
hands ``slack_args`` to the database, which words every card as it is queued."""

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
    usecase_blocks,
)
from bot.render.blocks import Message, one_table

CARDS: dict[type, Callable[[Any], Message]] = one_table(
    deploy_card_words.CARDS, deploy_replies.CARDS, freeze_blocks.CARDS, metric_replies.CARDS,
    registry_blocks.CARDS, undo_notes.CARDS, usecase_blocks.CARDS)


def words(card: object) -> Message:
    say = CARDS.get(type(card))
    if say is None:
        raise TypeError(f"no renderer for the card {type(card).__name__} (bot/render/cards.py)")
    return say(card)


def slack_args(card: object) -> dict[str, Any]:
    return words(card).as_args()
