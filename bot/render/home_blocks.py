"""The App Home tab in Block Kit: approvals waiting for the viewer, their use cases, what moves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.deployment_model import Deployment
from bot.domain.home_facts import GateWaiting, HomeFacts
from bot.domain.production import Production
from bot.domain.usecases import Phase, UseCase
from bot.render.blocks import bulleted, context, header, overdue_flag, phase_label, section
from bot.render.dashboard_links import NO_LINKS, DashboardLinks
from bot.render.deploy_blocks import title
from bot.render.deploy_words import attention_line, progress_bar
from bot.render.durations import humanize
from bot.render.freeze_blocks import frozen_lines
from bot.render.mrkdwn import escape, link, one_line
from bot.render.production_words import short_production
from bot.slack import ids

MAX_HOME_BLOCKS = 100
MAX_HOME_APPROVALS = 10  # two blocks each


@dataclass(frozen=True)
class HomeApproval:
    """A gate the viewer may decide now, with the tokens of its two buttons."""

    label: str  # "churn 1.2.0 · deploy (deployment 12)"
    waiting: str  # "waiting 3 hours · 1 more approval needed"
    approve_token: str
    reject_token: str
    page: str = ""  # the deployment's dashboard page ("": no link)


def home(f: HomeFacts, links: DashboardLinks = NO_LINKS) -> dict[str, Any]:
    """The Home tab of what the service found for its viewer (bot/services/home.py); under
    ``links``, each use case, gate and running deployment links to its dashboard page."""
    attention = [attention_line(slug, f.production.get(slug), f.locks.get(slug), f.tz)
                 for slug in f.attention]
    return home_view(f.viewer, f.use_cases, now=f.now, timebox=f.timebox,
                     approvals=[_approval(g, links) for g in f.approvals],
                     running=[_running_line(d, links) for d in f.running],
                     announcements=[f"<#{channel}> {one_line(text, 200)}"
                                    for channel, text in f.announcements],
                     freezes=frozen_lines(f.frozen, f.tz), production=f.production,
                     attention=attention, links=links)


def _approval(g: GateWaiting, links: DashboardLinks) -> HomeApproval:
    return HomeApproval(f"{g.use_case} {g.version} · {g.stage} (deployment {g.deployment_id})",
                        f"requested by <@{g.requested_by}> · waiting {humanize(g.waiting)} · "
                        f"{g.missing} more needed", g.approve_token, g.reject_token,
                        links.deployment(g.use_case, g.deployment_id))


def _running_line(d: Deployment, links: DashboardLinks) -> str:
    stage = d.current_stage
    named = link(links.deployment(d.use_case, d.id), title(d)) or escape(title(d))
    line = f"• {named}" + (f" · *{stage.name}*" if stage else "")
    if stage is not None and stage.waves:
        line += " · " + progress_bar(stage.targets_done(), stage.targets_total())
    return line


def home_view(user_id: str, use_cases: Sequence[UseCase], *, now: datetime, timebox: timedelta,
              approvals: Sequence[HomeApproval] = (), running: Sequence[str] = (),
              announcements: Sequence[str] = (), freezes: Sequence[str] = (),
              production: Mapping[str, Production] | None = None,
              attention: Sequence[str] = (), links: DashboardLinks = NO_LINKS) -> dict[str, Any]:
    """The Home tab: what needs the viewer's attention and waits for them first, then the
    freeze windows open for their use cases (mrkdwn lines: whether they can deploy now), their
    use cases with what runs in production (each linking to its page under ``links``), and
    what moves."""
    items: list[Block] = [ActionsBlock(block_id="home-actions", elements=[ButtonElement(
        text="New use case", action_id=ids.HOME_NEW_USECASE, value="new", style="primary")]),
        *_section(f"⚠️ Needs attention ({len(attention)})", attention, "use cases"),
        *_approval_blocks(approvals), *_section("❄️ Freezes", freezes, ""),
        header("Your use cases")]
    if not use_cases:
        items.append(section("You own or work on no use case yet. "
                             "Start one with the *New use case* button above or `/usecase new`."))
    lines = [_use_case_line(uc, user_id, now, timebox, (production or {}).get(uc.slug),
                            links.use_case(uc.slug)) for uc in use_cases]
    budget = MAX_HOME_BLOCKS - len(items) - 8  # room for the sections below
    items += bulleted(lines, max_blocks=max(2, budget - 2 * bool(running) - 2 * bool(announcements)),
                      more="use cases")
    items += [*_section("🚀 Running deployments", running, ""),
              *_section("📣 Recent announcements", announcements, "")]
    items.append(context("Updated " + now.strftime("%Y-%m-%d %H:%M UTC")))
    return {"type": "home", "blocks": [b.to_dict() for b in items[:MAX_HOME_BLOCKS]]}


def _approval_blocks(approvals: Sequence[HomeApproval]) -> list[Block]:
    """The gates waiting for the viewer, each with its two buttons (the first few)."""
    if not approvals:
        return []
    items: list[Block] = [header(f"✋ Waiting for your approval ({len(approvals)})")]
    for a in approvals[:MAX_HOME_APPROVALS]:
        label = link(a.page, a.label) or escape(a.label)
        items += [section(f"*{label}*\n{a.waiting}"), _decision_buttons(a)]
    if len(approvals) > MAX_HOME_APPROVALS:
        items.append(context(f"… and {len(approvals) - MAX_HOME_APPROVALS} more waiting"))
    return items


def _use_case_line(uc: UseCase, user_id: str, now: datetime, timebox: timedelta,
                   production: Production | None, page: str) -> str:
    role = "owner" if uc.owner_id == user_id else (uc.role_of(user_id) or "")
    flag = overdue_flag(uc, now, timebox)
    name = link(page, uc.slug) or uc.slug
    return (f"*{name}* — {escape(uc.title)} · {phase_label(uc.phase)} · you: {role}"
            + f"\n      🎯 {short_production(production)}"
            + (f"\n      {flag}" if flag else "")
            + f"\n      ➡️ {next_action(uc, user_id, overdue=bool(flag))}")


_NEXT = {
    Phase.BIZ: "frame the problem and its KPI, then advance to Dev",
    Phase.DEV: "deploy a version to verify it, then advance to Ops",
    Phase.OPS: "keep the KPI on target, then advance to Continuous",
    Phase.CONTINUOUS: "keep the KPI on target; a drop is announced in the channel",
    Phase.ARCHIVED: "nothing: it is archived",
}


def next_action(uc: UseCase, user_id: str, *, overdue: bool = False) -> str:
    """What moves the use case on now, and who does it (the owner moves phases)."""
    if overdue:
        what = "past its Dev timebox: advance it to Ops, or take it back to Biz with a reason"
    else:
        what = _NEXT[uc.phase]
    mine = uc.owner_id == user_id
    return f"next: {what}" + ("" if mine or uc.phase is Phase.ARCHIVED else f" (owner <@{uc.owner_id}>)")


def _section(title: str, lines: Sequence[str], more: str) -> list[Block]:
    """A titled list of at most two sections (the rest counted), or nothing when empty."""
    return [header(title), *bulleted(list(lines), max_blocks=2, more=more)] if lines else []


def _decision_buttons(a: HomeApproval) -> Block:
    return ActionsBlock(elements=[
        ButtonElement(text="Approve", action_id=ids.DEPLOY_APPROVE, value=a.approve_token,
                      style="primary"),
        ButtonElement(text="Reject", action_id=ids.DEPLOY_REJECT, value=a.reject_token,
                      style="danger"),
    ])
