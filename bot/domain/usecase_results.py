"""What the `/usecase` commands did or found, as facts, and the cards they post in a use case's
channel; bot/render says them (usecase_replies.py answers whoever asked, usecase_blocks.py words
the cards). The service (bot/services/usecases.py) returns and posts these, never words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.metrics import Target
from bot.domain.production import Production
from bot.domain.usecases import Phase, PhaseMove, Role, UseCase

# ── answers to whoever asked ────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class UseCaseCreated:
    slug: str
    channel: str  # where it was announced


@dataclass(frozen=True)
class UseCaseMoved:
    """Advanced, moved back or archived, and announced in ``channel``."""

    slug: str
    phase: Phase  # where it is now
    channel: str


@dataclass(frozen=True)
class OwnerHandedOver:
    slug: str
    owner: str  # the new owner's user id


@dataclass(frozen=True)
class MemberJoined:
    slug: str
    user: str
    role: Role


@dataclass(frozen=True)
class MemberLeft:
    slug: str
    user: str


@dataclass(frozen=True)
class ModelLinked:
    slug: str
    model: str
    channel: str  # where its new versions and alias moves are announced


@dataclass(frozen=True)
class UseCaseListing:
    """`/usecase list`: the first page of what the filters select, and how many there are."""

    use_cases: tuple[UseCase, ...]
    total: int
    production: Mapping[str, Production]  # by slug; missing: never deployed
    now: datetime
    timebox: timedelta  # Dev's, after which a use case is overdue
    phase: Phase | None = None  # the filters
    owner: str | None = None
    mine: bool = False


@dataclass(frozen=True)
class CardButtons:
    """What the viewer of a card may do now (each is checked again when clicked)."""

    advance: bool = False
    back: bool = False
    deploy: bool = False


@dataclass(frozen=True)
class UseCaseView:
    """`/usecase show`: the card, as its viewer may use it."""

    use_case: UseCase
    now: datetime
    timebox: timedelta
    tz: str
    buttons: CardButtons
    kpi_target: Target | None = None
    production: Production | None = None


UseCaseResult = (UseCaseCreated | UseCaseMoved | OwnerHandedOver | MemberJoined | MemberLeft
                 | ModelLinked | UseCaseListing | UseCaseView)

# ── cards posted in the use case's channel ──────────────────────────────────────────────────


@dataclass(frozen=True)
class NewUseCaseCard:
    use_case: UseCase


@dataclass(frozen=True)
class PhaseChangeCard:
    transition: PhaseMove


@dataclass(frozen=True)
class OwnerChangeCard:
    use_case: UseCase  # with its new owner
    previous_owner: str
    actor: str


# ── a link to its dashboard page, unfurled where it was pasted ──────────────────────────────


@dataclass(frozen=True)
class KpiStanding:
    """A KPI's newest value (None: a target, no value yet) against its target (None: none)."""

    name: str
    value: float | None
    unit: str
    target: Target | None


@dataclass(frozen=True)
class UseCaseSummary:
    """What a pasted link to a use case's page unfurls into: the facts `/usecase show` shows
    at a glance, and each KPI's standing (the success KPI first)."""

    use_case: UseCase
    now: datetime
    timebox: timedelta
    tz: str
    production: Production | None
    kpis: tuple[KpiStanding, ...]
