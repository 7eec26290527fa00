"""A change taken back, in its deployment's thread (the card of bot/domain/undo_cards.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.undo_cards import ChangeUndone
from bot.render.blocks import Message
from bot.render.deploy_blocks import thread_note

CARDS: dict[type, Callable[[Any], Message]] = {
    ChangeUndone: lambda c: thread_note(f"↩️ {c.line}"),
}
