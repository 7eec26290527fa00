"""Refusals in words: the one place a refused request becomes what the person reads.

🚫 not allowed (and who may), ✋ not now (busy, locked, already decided, an old button), ⚠️ bad
input with the line that shows how to write it — the same from a command, a button or a dialog.
Where an admin could have done it and no admins are configured, it says how to name some.
"""

from __future__ import annotations

from bot.domain.errors import DomainError, NotAllowed
from bot.render.blocks import Message, error

NO_ADMINS_HINT = (
    " No admins are configured: set BIZDEVOPS_ADMINS to a comma-separated list of Slack user IDs."
)


def words(refused: DomainError, *, admins_configured: bool = True) -> str:
    hint = isinstance(refused, NotAllowed) and refused.admins_may and not admins_configured
    return f"{refused}{NO_ADMINS_HINT if hint else ''}"


def refusal(refused: DomainError, usage: str = "", *, admins_configured: bool = True) -> Message:
    said = words(refused, admins_configured=admins_configured)
    if isinstance(refused, NotAllowed):
        return error(said, icon="🚫")
    if not refused.show_usage:
        return error(said, icon="✋")
    return error(said, usage)
