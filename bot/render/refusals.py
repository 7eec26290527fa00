"""Refusals in words: the one place a refused request becomes what the person reads.

🚫 not allowed (and who may), ✋ not now (busy, locked, already decided, an old button), ⚠️ bad
input with the line that shows how to write it — the same from a command, a button or a dialog.
Where an admin could have done it and no admins are configured, it says how to name some.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.errors import DomainError, NotAllowed
from bot.render import (
    deploy_command_refusals,
    deploy_refusals,
    freeze_refusals,
    metric_refusals,
    usecase_refusals,
)
from bot.render.blocks import Message, error, one_table
from bot.render.plain_text import plain_text

Words = str | Callable[[dict[str, Any]], str]
"""A refusal's words: a template filled with its facts (``str.format``), or a function of them."""

# Each area keeps its refusals' words in a table of its own, merged here.
REFUSALS: dict[str, Words] = one_table(
    deploy_command_refusals.REFUSALS, deploy_refusals.REFUSALS, freeze_refusals.REFUSALS,
    metric_refusals.REFUSALS, usecase_refusals.REFUSALS)

NO_ADMINS_HINT = (
    " No admins are configured: set BIZDEVOPS_ADMINS to a comma-separated list of Slack user IDs."
)


def words(refused: DomainError, *, admins_configured: bool = True) -> str:
    hint = isinstance(refused, NotAllowed) and refused.admins_may and not admins_configured
    return f"{said(refused)}{NO_ADMINS_HINT if hint else ''}"


def said(refused: DomainError) -> str:
    """What the refusal says, without hints: its key's words filled in with its facts."""
    template = REFUSALS.get(refused.key)
    if template is None:
        return refused.key  # words already
    return template(refused.facts) if callable(template) else template.format(**refused.facts)


def plain(refused: DomainError, *, admins_configured: bool = True) -> str:
    """The refusal in the same words as plain text, for an API's ``{"error": ...}``."""
    return plain_text(words(refused, admins_configured=admins_configured))


def refusal(refused: DomainError, usage: str = "", *, admins_configured: bool = True) -> Message:
    said = words(refused, admins_configured=admins_configured)
    if isinstance(refused, NotAllowed):
        return error(said, icon="🚫")
    if not refused.show_usage:
        return error(said, icon="✋")
    return error(said, usage)
