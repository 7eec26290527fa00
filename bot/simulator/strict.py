"""What `bizdevops shell --script FILE --strict` counts as the bot refusing a line.

A line is refused when an answer to the person who typed it says no: a refusal (🚫 not allowed,
✋ not now, ⚠️ bad input -- every one carries the block ID ``refused``, bot/render/blocks.py), the
bot's own failure (block ID ``sorry``: "Something went wrong on my side"), or a dialog sent back
with errors on its fields. Anything else -- a warning beside a done command, a deployment that
fails, a KPI source that fails -- is what happened, not a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.render.blocks import REFUSED, SORRY
from bot.simulator.simulator import Step

ANSWERS = ("chat.postEphemeral", "chat.postMessage")  # a button's answer may come this way


def refusal(step: Step) -> str | None:
    """The first line of what refused (Slack's mrkdwn), or None."""
    reply = step.reply or {}
    if reply.get("response_action") == "errors":
        return "; ".join(f"{k}: {v}" for k, v in (reply.get("errors") or {}).items())
    bodies = [reply, *(body for _token, body in step.responses),
              *(c.args for c in step.calls if c.method in ANSWERS and c.status == 200)]
    for body in bodies:
        said = _refused(body.get("blocks") or ())
        if said is not None:
            return said
    return None


def _refused(blocks: Iterable[Any]) -> str | None:
    for block in blocks:
        if isinstance(block, dict) and block.get("block_id") in (REFUSED, SORRY):
            return str((block.get("text") or {}).get("text", "")).splitlines()[0]
    return None
