"""The one renderer: domain state in, Block Kit JSON and a plain-text fallback out.

Pure functions. Every message goes through :func:`message`, which keeps Slack's limits
(50 blocks, 3000 characters a section, 150 a header) so no caller has to think about them.
User-supplied text (titles, notes, reasons) always passes :func:`escape` so it can't ping or link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.domain.durations import humanize, weeks
from bot.domain.usecases import Phase, PhaseChange, Transition, UseCase
from bot.mrkdwn import escape

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
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


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION)))


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER), emoji=True))


def context(*parts: str) -> ContextBlock:
    parts = tuple(p for p in parts if p)[:MAX_CONTEXT_ELEMENTS]
    return ContextBlock(elements=[MarkdownTextObject(text=clip(p, MAX_SECTION)) for p in parts])


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

def error(problem: str, usage: str = "", *, icon: str = "⚠️") -> Message:
    blocks: list[Block] = [section(f"{icon} {problem}")]
    if usage:
        blocks.append(context(f"Usage: `{usage}`"))
    return message(f"{problem} Usage: {usage}" if usage else problem, blocks)


def sorry() -> Message:
    """A failure of ours, not of the request: no details (they are in the log)."""
    return error("Something went wrong on my side; nothing was changed. "
                 "Please try again in a moment.")


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


LIST_FILTERS = "`phase=dev`, `owner=@name`, `mine`"


def usecase_list(use_cases: Sequence[UseCase], *, now: datetime, timebox: timedelta,
                 heading: str, total: int | None = None) -> Message:
    """``total`` when ``use_cases`` is only the first page of them."""
    total = len(use_cases) if total is None else total
    if not use_cases:
        return notice(f"{heading}: none. Create one with `/usecase new <slug> \"<title>\"`.")
    lines = [
        f"• *{uc.slug}* — {escape(uc.title)} · {phase_label(uc.phase)} · <@{uc.owner_id}>"
        + (f" · {overdue_flag(uc, now, timebox)}" if uc.is_overdue(now, timebox) else "")
        for uc in use_cases
    ]
    more = "use cases" if total == len(use_cases) else f"use cases (narrow it: {LIST_FILTERS})"
    blocks = [header(f"{heading} ({total})"),
              *bulleted(lines, max_blocks=MAX_BLOCKS - 1, more=more, hidden=total - len(use_cases))]
    fallback = f"{heading}: " + ", ".join(uc.slug for uc in use_cases[:100])
    return message(fallback, blocks)


def usecase_card(uc: UseCase, *, now: datetime, timebox: timedelta, tz: str) -> Message:
    team = ", ".join(f"<@{m.user_id}> ({m.role.value})" for m in uc.team) or "nobody yet"
    facts = [
        f"*Phase:* {phase_label(uc.phase)} for {humanize(uc.time_in_phase(now))}",
        f"*Owner:* <@{uc.owner_id}>",
        f"*Team:* {team}",
        f"*Channel:* <#{uc.channel_id}>",
    ]
    if uc.domain:
        facts.append(f"*Domain:* {escape(uc.domain)}")
    if uc.archived_reason:
        facts.append(f"*Archived:* {escape(uc.archived_reason)}")
    blocks: list[Block] = [header(f"{uc.slug} — {uc.title}"), section("\n".join(facts))]
    if flag := overdue_flag(uc, now, timebox):
        blocks.append(section(f"*{flag}*"))
    history = [_history_line(c, tz) for c in reversed(uc.history)]
    blocks += [DividerBlock(), section("*Phase history* (newest first)")]
    blocks += bulleted(history, max_blocks=MAX_BLOCKS - len(blocks), more="older changes")
    fallback = f"{uc.slug} — {escape(uc.title)}: {uc.phase.label}, owner <@{uc.owner_id}>"
    return message(fallback, blocks)


def _history_line(change: PhaseChange, tz: str) -> str:
    move = (
        f"created in {phase_label(change.to_phase)}" if change.from_phase is None
        else f"{phase_label(change.from_phase)} → {phase_label(change.to_phase)}"
    )
    note = f" — _{escape(change.note)}_" if change.note and change.from_phase else ""
    return f"• {when(change.at, tz)} · {move} by <@{change.actor_id}>{note}"


# ── announcements in the channel ────────────────────────────────────────────────────────────

def usecase_created(uc: UseCase) -> Message:
    text = (
        f"🆕 New use case *{uc.slug}* — {escape(uc.title)}\n"
        f"Owner <@{uc.owner_id}> · starts in {phase_label(uc.phase)}"
    )
    by = f"Created by <@{uc.created_by}>" + (f" · domain: {escape(uc.domain)}" if uc.domain else "")
    return message(f"New use case {uc.slug}: {escape(uc.title)}", [section(text), context(by)])


def phase_changed(t: Transition) -> Message:
    c, uc = t.change, t.use_case
    assert c.from_phase is not None
    verb = {
        Phase.ARCHIVED: "was archived",
        **({c.to_phase: "went back (feedback loop)"} if _is_back(c) else {}),
    }.get(c.to_phase, "moved")
    text = (
        f"*{uc.slug}* {verb}: {phase_label(c.from_phase)} → {phase_label(c.to_phase)}\n"
        f"by <@{c.actor_id}> · after {humanize(t.previous_phase_duration)} in {c.from_phase.label}"
    )
    blocks: list[Block] = [section(text)]
    if c.note:
        label = "Reason" if verb != "moved" else "Note"
        blocks.append(section(f"*{label}:* {escape(c.note)}"))
    blocks += [section(f"⚠️ *Warning:* {escape(w)}") for w in t.warnings]
    fallback = f"{uc.slug} {verb}: {c.from_phase.label} → {c.to_phase.label}"
    if t.warnings:
        fallback += " ⚠️ " + " ".join(t.warnings)
    return message(fallback, blocks)


def _is_back(change: PhaseChange) -> bool:
    order = [Phase.BIZ, Phase.DEV, Phase.OPS, Phase.CONTINUOUS]
    return (
        change.from_phase in order and change.to_phase in order
        and order.index(change.to_phase) < order.index(change.from_phase)
    )


def owner_changed(uc: UseCase, *, previous_owner: str, actor_id: str) -> Message:
    text = (
        f"🤝 *{uc.slug}* has a new owner: <@{uc.owner_id}> (was <@{previous_owner}>)\n"
        f"Handed over by <@{actor_id}>"
    )
    return message(f"{uc.slug} is now owned by <@{uc.owner_id}>", [section(text)])


# ── the App Home tab ───────────────────────────────────────────────────────────────────────

MAX_HOME_BLOCKS = 100
MAX_HOME_APPROVALS = 10  # two blocks each


@dataclass(frozen=True)
class HomeApproval:
    """A gate the viewer may decide now, with the tokens of its two buttons."""

    label: str  # "churn 1.2.0 · deploy (deployment 12)"
    waiting: str  # "waiting 3 hours · 1 more approval needed"
    approve_token: str
    reject_token: str


def home_view(user_id: str, use_cases: Sequence[UseCase], *, now: datetime, timebox: timedelta,
              approvals: Sequence[HomeApproval] = (), running: Sequence[str] = (),
              announcements: Sequence[str] = ()) -> dict[str, Any]:
    """The Home tab: what waits for the viewer first, then their use cases and what moves."""
    items: list[Block] = []
    if approvals:
        items.append(header(f"✋ Waiting for your approval ({len(approvals)})"))
        for a in approvals[:MAX_HOME_APPROVALS]:
            items += [section(f"*{escape(a.label)}*\n{a.waiting}"), _decision_buttons(a)]
        if len(approvals) > MAX_HOME_APPROVALS:
            items.append(context(f"… and {len(approvals) - MAX_HOME_APPROVALS} more waiting"))
    items.append(header("Your use cases"))
    if not use_cases:
        items.append(section("You own or work on no use case yet. "
                             "Start one with `/usecase new <slug> \"<title>\"`."))
    lines = []
    for uc in use_cases:
        role = "owner" if uc.owner_id == user_id else (uc.role_of(user_id) or "")
        flag = overdue_flag(uc, now, timebox)
        lines.append(f"*{uc.slug}* — {escape(uc.title)} · {phase_label(uc.phase)} · you: {role}"
                     + (f"\n      {flag}" if flag else ""))
    budget = MAX_HOME_BLOCKS - len(items) - 8  # room for the sections below
    items += bulleted(lines, max_blocks=max(2, budget - 2 * bool(running) - 2 * bool(announcements)),
                      more="use cases")
    for title, rows in (("🚀 Running deployments", running), ("📣 Recent announcements", announcements)):
        if rows:
            items += [header(title), *bulleted(list(rows), max_blocks=2, more="")]
    items.append(context("Updated " + now.strftime("%Y-%m-%d %H:%M UTC")))
    return {"type": "home", "blocks": [b.to_dict() for b in items[:MAX_HOME_BLOCKS]]}


def _decision_buttons(a: HomeApproval) -> Block:
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement

    return ActionsBlock(elements=[
        ButtonElement(text="Approve", action_id="deploy_approve", value=a.approve_token,
                      style="primary"),
        ButtonElement(text="Reject", action_id="deploy_reject", value=a.reject_token,
                      style="danger"),
    ])


def reject_dialog(callback_id: str, token: str, label: str) -> dict[str, Any]:
    """The modal that asks why a deployment is rejected; the token rides in private_metadata."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": token,
        "title": {"type": "plain_text", "text": "Reject deployment"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            section(f"Rejecting *{escape(clip(label, 200))}* ends the deployment.").to_dict(),
            {"type": "input", "block_id": "reason",
             "label": {"type": "plain_text", "text": "Why?"},
             "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True,
                         "max_length": 500}},
        ],
    }
