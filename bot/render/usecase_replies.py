"""The answers to whoever ran a `/usecase` command (or submitted its dialogs), from the facts
the service returns (bot/domain/usecase_results.py); the channel hears of it through the cards
in bot/render/usecase_blocks.py."""

from __future__ import annotations

from bot.domain.usecase_results import (
    MemberJoined,
    MemberLeft,
    ModelLinked,
    OwnerHandedOver,
    UseCaseCreated,
    UseCaseListing,
    UseCaseMoved,
    UseCaseResult,
    UseCaseView,
)
from bot.render.blocks import Message, notice, phase_label
from bot.render.dashboard_links import NO_LINKS, DashboardLinks
from bot.render.usecase_blocks import usecase_card, usecase_list


def reply(done: UseCaseResult, links: DashboardLinks = NO_LINKS) -> Message:
    match done:
        case UseCaseCreated(slug=slug, channel=channel):
            return notice(f"✅ Created *{slug}* in Biz; announced in <#{channel}>.")
        case UseCaseMoved(slug=slug, phase=phase, channel=channel):
            return notice(f"✅ *{slug}* is now in {phase_label(phase)}; announced in <#{channel}>.")
        case OwnerHandedOver(slug=slug, owner=owner):
            return notice(f"✅ <@{owner}> now owns *{slug}*.")
        case MemberJoined(slug=slug, user=user, role=role):
            return notice(f"✅ <@{user}> joined *{slug}* as {role.value}.")
        case MemberLeft(slug=slug, user=user):
            return notice(f"✅ <@{user}> left the team of *{slug}*.")
        case ModelLinked(slug=slug, model=model, channel=channel):
            return notice(f"🔗 *{slug}* is linked to the MLflow model `{model}`: its new versions "
                          f"and alias moves are announced in <#{channel}>.")
        case UseCaseListing():
            return listing(done)
        case UseCaseView():
            return card(done, links)


def listing(found: UseCaseListing) -> Message:
    heading = "Use cases" + (f" in {found.phase.label}" if found.phase else "")
    heading += f" owned by <@{found.owner}>" if found.owner else ""
    heading += " you work on" if found.mine else ""
    return usecase_list(found.use_cases, now=found.now, timebox=found.timebox, heading=heading,
                        total=found.total, production=found.production)


def card(view: UseCaseView, links: DashboardLinks = NO_LINKS) -> Message:
    target = view.kpi_target.describe() if view.kpi_target else ""
    return usecase_card(view.use_case, now=view.now, timebox=view.timebox, tz=view.tz,
                        can=view.buttons, kpi_target=target, production=view.production,
                        page=links.use_case(view.use_case.slug))
