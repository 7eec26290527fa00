"""The one renderer: domain state in, Block Kit JSON and a plain-text fallback out.

Pure functions. This module holds the pieces and the short replies; the renderers of each subject
sit beside it (``usecase_blocks``, ``deploy_blocks``, ``metric_blocks``, ``digest_blocks``,
``home_blocks``). Every message goes through :func:`message`, which keeps Slack's limits
(50 blocks, 3000 characters a section, 150 a header) so no caller has to think about them.
User-supplied text (titles, notes, reasons) always passes ``bot.render.mrkdwn.escape`` so it can't ping
or link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.domain.durations import weeks
from bot.domain.usecases import Phase, UseCase

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON = 75
PHASE_ICONS = {
    Phase.BIZ: "💼", Phase.DEV: "🛠️", Phase.OPS: "⚙️", Phase.CONTINUOUS: "♾️", Phase.ARCHIVED: "🗄️",
}


@dataclass(frozen=True)
class Message:
    text: str  # plain-text fallback for notifications and clients without blocks
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_args(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Built(Block):
    """A block whose JSON is written here, within Slack's limits by construction (``clip``), as
    slack_sdk would serialise it (keys sorted, empty fields left out). Its models validate and
    reflect on every attribute at ``to_dict``: for the plain blocks every message is made of,
    that cost more than the rest of rendering a card (benchmarks/hot_path.py)."""

    def __init__(self, json: dict[str, Any]) -> None:
        super().__init__(type=json["type"], block_id=json.get("block_id"))
        self._json = json

    def to_dict(self, *args: Any) -> dict[str, Any]:
        return self._json


def section(text: str, *, block_id: str | None = None) -> Block:
    json = {"text": {"text": clip(text, MAX_SECTION), "type": "mrkdwn"}, "type": "section"}
    return Built({"block_id": block_id, **json} if block_id else json)


def header(text: str) -> Block:
    return Built({"text": {"emoji": True, "text": clip(text, MAX_HEADER), "type": "plain_text"},
                  "type": "header"})


def context(*parts: str) -> Block:
    parts = tuple(p for p in parts if p)[:MAX_CONTEXT_ELEMENTS]
    if not parts:
        return Built({"type": "context"})
    return Built({"elements": [{"text": clip(p, MAX_SECTION), "type": "mrkdwn"} for p in parts],
                  "type": "context"})


def divider() -> Block:
    return Built({"type": "divider"})


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button element, for :func:`actions`: its label cut at Slack's 75 characters."""
    json = {"action_id": action_id, "style": style,
            "text": {"emoji": True, "text": clip(text, MAX_BUTTON), "type": "plain_text"},
            "type": "button", "value": value}
    return {key: value for key, value in json.items() if value is not None}


def actions(block_id: str, buttons: Sequence[dict[str, Any]]) -> Block:
    return Built({"block_id": block_id, "elements": list(buttons), "type": "actions"})


def message(text: str, blocks: Sequence[Block], *, more: str = "items") -> Message:
    """Serialise (slack_sdk validates each block) and cap at 50 blocks with an "and N more"."""
    dicts = [b.to_dict() for b in blocks]
    if len(dicts) > MAX_BLOCKS:
        hidden = len(dicts) - (MAX_BLOCKS - 1)
        dicts = [*dicts[: MAX_BLOCKS - 1], context(f"… and {hidden} more {more}").to_dict()]
    return Message(clip(text, 4000), dicts)


def when(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def phase_label(phase: Phase | None) -> str:
    return "—" if phase is None else f"{PHASE_ICONS[phase]} {phase.label}"


def overdue_flag(uc: UseCase, now: datetime, timebox: timedelta) -> str:
    if not uc.is_overdue(now, timebox):
        return ""
    return f"⏰ overdue: {weeks(uc.time_in_phase(now)):.0f} weeks in Dev (time box {weeks(timebox):.0f})"


# ── replies to the person who typed ─────────────────────────────────────────────────────────

# The block IDs of a refusal and of a failure of ours: the simulator's `--strict` counts them.
REFUSED, SORRY = "refused", "sorry"


def error(problem: str, usage: str = "", *, icon: str = "⚠️", block_id: str = REFUSED) -> Message:
    blocks: list[Block] = [section(f"{icon} {problem}", block_id=block_id)]
    if usage:
        blocks.append(context(f"Usage: `{usage}`"))
    return message(f"{problem} Usage: {usage}" if usage else problem, blocks)


def sorry() -> Message:
    """A failure of ours, not of the request: no details (they are in the log)."""
    return error("Something went wrong on my side; nothing was changed. "
                 "Please try again in a moment.", block_id=SORRY)


def notice(text: str) -> Message:
    return message(text, [section(text)])


def help_text(title: str, lines: Iterable[tuple[str, str]]) -> Message:
    body = "\n".join(f"`{usage}`\n      {what}" for usage, what in lines)
    return message(f"{title}\n{body}", [header(title), section(body)])


def bulleted(lines: Sequence[str], *, max_blocks: int, more: str, hidden: int = 0) -> list[Block]:
    """Lines packed into sections of ≤ 3000 characters; what does not fit is counted, not cut.

    ``hidden`` lines were left out before they got here (a query's limit): counted too.
    """
    out: list[Block] = []
    chunk: list[str] = []
    size = 0
    room = max_blocks - 1 if hidden else max_blocks
    for index, line in enumerate(lines):
        line = clip(line, MAX_SECTION)
        if chunk and size + len(line) + 1 > MAX_SECTION:
            out.append(section("\n".join(chunk)))
            chunk, size = [], 0
        if len(out) == room - 1:
            out.append(context(f"… and {len(lines) - index + hidden} more {more}"))
            return out
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        out.append(section("\n".join(chunk)))
    if hidden:
        out.append(context(f"… and {hidden} more {more}"))
    return out


K = TypeVar("K")
V = TypeVar("V")


def one_table(*tables: Mapping[K, V]) -> dict[K, V]:
    """The areas' tables (cards, refusals) as one; a key two areas claim is a mistake found
    at import, not a message silently worded by the wrong one."""
    merged: dict[K, V] = {}
    for table in tables:
        if twice := merged.keys() & table.keys():
            raise ValueError(f"claimed by two tables: {sorted(map(str, twice))}")
        merged |= table
    return merged
