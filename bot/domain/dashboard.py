"""What the web dashboard's pages select (SPEC "Web dashboard"): the portfolio's filters and the
deployments page's, as facts the reads narrow by in SQL. Pages are keyset-paged: a page's cost
follows what it shows, never the size of the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.deployment_model import DeploymentState
from bot.domain.usecases import Phase

PORTFOLIO_PAGE = 50      # use cases a portfolio page shows
DEPLOYMENTS_PAGE = 50    # deployments a deployments page shows
SEARCH_MAX = 80          # characters of a search


@dataclass(frozen=True)
class PortfolioFilter:
    phase: Phase | None = None       # None: every phase but Archived
    owner_id: str | None = None
    domain: str | None = None
    channel_id: str | None = None
    search: str = ""                 # in the slug or the title, any case

    def without_phase(self) -> PortfolioFilter:
        """The same selection across phases: what the phase tabs count."""
        return PortfolioFilter(None, self.owner_id, self.domain, self.channel_id, self.search)


@dataclass(frozen=True)
class DeploymentFilter:
    use_case: str | None = None
    result: DeploymentState | None = None
    since: datetime | None = None    # requested after this moment
    until: datetime | None = None    # requested at or before this moment
