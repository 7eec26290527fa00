"""Links from messages to the web dashboard's pages: on when ``BIZDEVOPS_PUBLIC_URL`` is set
(``Settings.links``); the composition root hands the words of cards (bot/render/cards.py) a
:class:`DashboardLinks` over the public URL, or :data:`NO_LINKS`, under which every message is
what it was before the dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.domain.dashboard_urls import deployment_url, portfolio_url, use_case_url
from bot.render.blocks import context
from bot.render.mrkdwn import link

OPEN = "Open in the dashboard"


@dataclass(frozen=True)
class DashboardLinks:
    base: str = ""  # the public URL, no trailing slash; "" when messages do not link

    def use_case(self, slug: str) -> str:
        return use_case_url(self.base, slug) if self.base else ""

    def portfolio(self, channel_id: str | None = None) -> str:
        return portfolio_url(self.base, channel_id) if self.base else ""

    def deployment(self, slug: str, deployment_id: int | None) -> str:
        if not self.base:
            return ""
        if deployment_id is None:  # not stored yet: its use case's page
            return self.use_case(slug)
        return deployment_url(self.base, slug, deployment_id)


NO_LINKS = DashboardLinks()


def dashboard_link(page: str) -> str:
    """``🔗 <page|Open in the dashboard>``, or "" without a page (or with one unsafe to link)."""
    shown = link(page, OPEN)
    return f"🔗 {shown}" if shown else ""


def dashboard_context(page: str) -> list[Block]:
    """The context block that links to ``page``: none without one."""
    shown = dashboard_link(page)
    return [context(shown)] if shown else []
