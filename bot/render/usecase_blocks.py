"""Use cases in Block Kit: the list, the card, and the announcements of their changes (the
cards bot/services/usecases.py posts, in ``CARDS``).

Pure functions on top of :mod:`bot.render.blocks`, which keeps Slack's limits and the fallback text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from bot.domain.production import Production
from bot.domain.usecase_results import CardButtons, NewUseCaseCard, OwnerChangeCard, PhaseChangeCard
from bot.domain.usecases import Phase, PhaseChange, PhaseMove, UseCase
from bot.render.blocks import (
    MAX_BLOCKS,
    Message,
    actions,
    bulleted,
    button,
    clip,
    context,
    divider,
    header,
    message,
    notice,
    overdue_flag,
    phase_label,
    section,
    when,
)
from bot.render.dashboard_links import NO_LINKS, DashboardLinks, dashboard_context, dashboard_link
from bot.render.durations import humanize
from bot.render.mrkdwn import escape
from bot.render.production_words import production_line, short_production
from bot.slack import ids

LIST_FILTERS = "`phase=dev`, `owner=@name`, `mine`"


def usecase_list(use_cases: Sequence[UseCase], *, now: datetime, timebox: timedelta,
                 heading: str, total: int | None = None,
                 production: Mapping[str, Production] | None = None) -> Message:
    """``total`` when ``use_cases`` is only the first page of them; ``production``: what runs
    in production for each (by slug; missing: never deployed)."""
    total = len(use_cases) if total is None else total
    if not use_cases:
        return notice(f"{heading}: none. Create one with `/usecase new <slug> \"<title>\"`.")
    running = production or {}
    lines = [
        f"• *{uc.slug}* — {escape(uc.title)} · {phase_label(uc.phase)} · <@{uc.owner_id}>"
        + f" · 🎯 {short_production(running.get(uc.slug))}"
        + (f" · {overdue_flag(uc, now, timebox)}" if uc.is_overdue(now, timebox) else "")
        for uc in use_cases
    ]
    more = "use cases" if total == len(use_cases) else f"use cases (narrow it: {LIST_FILTERS})"
    blocks = [header(f"{heading} ({total})"),
              *bulleted(lines, max_blocks=MAX_BLOCKS - 1, more=more, hidden=total - len(use_cases))]
    fallback = f"{heading}: " + ", ".join(uc.slug for uc in use_cases[:100])
    return message(fallback, blocks)


NO_BUTTONS = CardButtons()  # a card nobody can act on from here


def card_stamp(uc: UseCase) -> str:
    """The value of a card's Advance and Back: the use case and how many changes it had then."""
    return f"{uc.slug}:{len(uc.history)}"


def _card_actions(uc: UseCase, can: CardButtons) -> Block | None:
    buttons = []
    if can.advance:
        buttons.append(button("Advance", ids.USECASE_ADVANCE, card_stamp(uc), style="primary"))
    if can.back:
        buttons.append(button("Back", ids.USECASE_BACK, card_stamp(uc)))
    if can.deploy:
        buttons.append(button("Deploy…", ids.USECASE_DEPLOY, uc.slug))
    return actions(f"usecase-{uc.slug}", buttons) if buttons else None


def usecase_card(uc: UseCase, *, now: datetime, timebox: timedelta, tz: str,
                 can: CardButtons = NO_BUTTONS, kpi_target: str = "",
                 production: Production | None = None, page: str = "") -> Message:
    """``page``: its page on the dashboard, linked under the facts ("" links nothing)."""
    team = ", ".join(f"<@{m.user_id}> ({m.role.value})" for m in uc.team) or "nobody yet"
    facts = [
        f"*Phase:* {phase_label(uc.phase)} for {humanize(uc.time_in_phase(now))}",
        f"*Owner:* <@{uc.owner_id}>",
        f"*Team:* {team}",
        f"*Channel:* <#{uc.channel_id}>",
        f"*In production:* {production_line(production, tz)}",
    ]
    if uc.domain:
        facts.append(f"*Domain:* {escape(uc.domain)}")
    if uc.model:
        facts.append(f"*Model:* `{escape(uc.model)}` (MLflow)")
    if uc.kpi:
        facts.append(f"*Success KPI:* `{escape(uc.kpi)}`" + (f" {kpi_target}" if kpi_target else ""))
    if uc.archived_reason:
        facts.append(f"*Archived:* {escape(uc.archived_reason)}")
    blocks: list[Block] = [header(f"{uc.slug} — {uc.title}"), section("\n".join(facts)),
                           *dashboard_context(page)]
    if uc.problem:
        blocks.append(section(f"*Business problem:*\n{_escaped_within(uc.problem, 2900)}"))
    if flag := overdue_flag(uc, now, timebox):
        blocks.append(section(f"*{flag}*"))
    if buttons := _card_actions(uc, can):
        blocks.append(buttons)
    history = [_history_line(c, tz) for c in reversed(uc.history)]
    blocks += [divider(), section("*Phase history* (newest first)")]
    blocks += bulleted(history, max_blocks=MAX_BLOCKS - len(blocks), more="older changes")
    fallback = f"{uc.slug} — {escape(uc.title)}: {uc.phase.label}, owner <@{uc.owner_id}>"
    return message(fallback, blocks)


def _escaped_within(text: str, limit: int) -> str:
    """Escaped, and clipped before escaping so that no entity is cut in half."""
    keep = len(text)
    while len(shown := escape(clip(text, keep))) > limit:
        keep -= max(1, (len(shown) - limit) // 5)
    return shown


def _history_line(change: PhaseChange, tz: str) -> str:
    move = (
        f"created in {phase_label(change.to_phase)}" if change.from_phase is None
        else f"{phase_label(change.from_phase)} → {phase_label(change.to_phase)}"
    )
    note = f" — _{escape(change.note)}_" if change.note and change.from_phase else ""
    return f"• {when(change.at, tz)} · {move} by <@{change.actor_id}>{note}"


# ── announcements in the channel ────────────────────────────────────────────────────────────

def usecase_created(uc: UseCase, page: str = "") -> Message:
    text = (
        f"🆕 New use case *{uc.slug}* — {escape(uc.title)}\n"
        f"Owner <@{uc.owner_id}> · starts in {phase_label(uc.phase)}"
    )
    by = f"Created by <@{uc.created_by}>" + (f" · domain: {escape(uc.domain)}" if uc.domain else "")
    return message(f"New use case {uc.slug}: {escape(uc.title)}",
                   [section(text), context(by, dashboard_link(page))])


def phase_changed(t: PhaseMove, page: str = "") -> Message:
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
    warnings = _warnings(t)
    blocks += [section(f"⚠️ *Warning:* {escape(w)}") for w in warnings]
    blocks += dashboard_context(page)
    fallback = f"{uc.slug} {verb}: {c.from_phase.label} → {c.to_phase.label}"
    if warnings:
        fallback += " ⚠️ " + " ".join(warnings)
    return message(fallback, blocks)


def _warnings(t: PhaseMove) -> list[str]:
    if not t.missing_roles:
        return []
    roles = " or ".join(f"a {r.value}" for r in t.missing_roles)
    uc = t.use_case
    return [f"{uc.slug} entered {uc.phase.label} without {roles} on the team."]


def _is_back(change: PhaseChange) -> bool:
    order = [Phase.BIZ, Phase.DEV, Phase.OPS, Phase.CONTINUOUS]
    return (
        change.from_phase in order and change.to_phase in order
        and order.index(change.to_phase) < order.index(change.from_phase)
    )


def owner_changed(uc: UseCase, *, previous_owner: str, actor_id: str, page: str = "") -> Message:
    text = (
        f"🤝 *{uc.slug}* has a new owner: <@{uc.owner_id}> (was <@{previous_owner}>)\n"
        f"Handed over by <@{actor_id}>"
    )
    return message(f"{uc.slug} is now owned by <@{uc.owner_id}>",
                   [section(text), *dashboard_context(page)])


def cards(links: DashboardLinks) -> dict[type, Callable[[Any], Message]]:
    """The use case's cards in the channel, each linking to its page under ``links``."""
    return {
        NewUseCaseCard: lambda c: usecase_created(c.use_case, links.use_case(c.use_case.slug)),
        PhaseChangeCard: lambda c: phase_changed(c.transition,
                                                 links.use_case(c.transition.use_case.slug)),
        OwnerChangeCard: lambda c: owner_changed(c.use_case, previous_owner=c.previous_owner,
                                                 actor_id=c.actor,
                                                 page=links.use_case(c.use_case.slug)),
    }


CARDS = cards(NO_LINKS)
