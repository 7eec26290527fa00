"""Small readers over the simulator's recorded state, so tests say what they check."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.simulator.simulator import Simulator, Step
from storage.models import OutboxRow, PhaseChangeRow, TeamMemberRow, UseCaseRow


def reply_text(step: Step) -> str:
    """Everything the private reply says, text and blocks: the ack, and the answers that came
    through the response_url after it (heavy commands answer there)."""
    replies = ([step.reply] if step.reply else []) + [body for _token, body in step.responses]
    assert replies, f"no reply (HTTP {step.status})"
    return "".join(r.get("text", "") + json.dumps(r.get("blocks", []), ensure_ascii=False)
                   for r in replies)


def private_reply(step: Step) -> dict[str, Any]:
    """The one private answer: in the ack, or (a heavy command) through the response_url."""
    replies = ([step.reply] if step.reply else []) + [body for _token, body in step.responses]
    assert len(replies) == 1, f"expected one private answer, got {replies}"
    return replies[0]


def posts(sim: Simulator, channel: str | None = None) -> list[dict[str, Any]]:
    """Messages Slack accepted from the bot via chat.postMessage."""
    return [
        c.args for c in sim.fake.calls_to("chat.postMessage")
        if channel is None or c.args.get("channel") == channel
    ]


def post_text(args: dict[str, Any]) -> str:
    return args.get("text", "") + json.dumps(args.get("blocks", []), ensure_ascii=False)


async def row_counts(sim: Simulator) -> dict[str, int]:
    async with sim.app.db.sessions() as session:
        return {
            model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (UseCaseRow, TeamMemberRow, PhaseChangeRow, OutboxRow)
        }
