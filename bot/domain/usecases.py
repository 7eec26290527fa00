"""The use-case lifecycle: Biz → Dev → Ops → Continuous, with feedback loops and one owner.

Every transition takes the current state, the acting user and ``now`` and returns a new state
plus the phase change to record. Refusals raise :class:`DomainError` with a key and facts,
which bot/render/usecase_refusals.py words for the person who asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.errors import Conflict as Conflict  # re-exported: the refusals' old home
from bot.domain.errors import DomainError as DomainError
from bot.domain.errors import NotAllowed as NotAllowed


class Phase(StrEnum):
    BIZ = "biz"
    DEV = "dev"
    OPS = "ops"
    CONTINUOUS = "continuous"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Role(StrEnum):
    BUSINESS = "business"
    DATA_SCIENTIST = "data-scientist"
    DATA_ENGINEER = "data-engineer"
    DEVOPS = "devops"


FORWARD: dict[Phase, Phase] = {Phase.BIZ: Phase.DEV, Phase.DEV: Phase.OPS, Phase.OPS: Phase.CONTINUOUS}
BACKWARD: dict[Phase, Phase] = {Phase.DEV: Phase.BIZ, Phase.OPS: Phase.DEV}

# Who a phase needs on the team; entering it without them is allowed but warned about.
NEEDED_ROLES: dict[Phase, tuple[Role, ...]] = {
    Phase.DEV: (Role.DATA_SCIENTIST, Role.DATA_ENGINEER),
    Phase.OPS: (Role.DATA_ENGINEER, Role.DEVOPS),
}

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
MODEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
TITLE_MAX = 200
DOMAIN_MAX = 200
PROBLEM_MAX = 2000  # the business problem, in the team's words (one card section holds it)
DEFAULT_DEV_TIMEBOX = timedelta(weeks=6)


@dataclass(frozen=True)
class TeamMember:
    user_id: str
    role: Role


@dataclass(frozen=True)
class PhaseChange:
    from_phase: Phase | None
    to_phase: Phase
    actor_id: str
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class UseCase:
    slug: str
    title: str
    owner_id: str
    channel_id: str
    phase: Phase
    phase_since: datetime
    created_at: datetime
    created_by: str
    domain: str = ""
    team: tuple[TeamMember, ...] = ()
    archived_reason: str = ""
    model: str = ""   # the linked MLflow registered model ("" when none)
    problem: str = ""  # the business problem it answers
    kpi: str = ""      # the name of the metric that says it succeeds
    private: bool = False  # homed in a private channel or group DM: for its members' eyes only
    version: int = 0  # optimistic-concurrency counter kept by storage
    history: tuple[PhaseChange, ...] = field(default=(), compare=False)

    def role_of(self, user_id: str) -> Role | None:
        return next((m.role for m in self.team if m.user_id == user_id), None)

    def is_overdue(self, now: datetime, dev_timebox: timedelta = DEFAULT_DEV_TIMEBOX) -> bool:
        return self.phase is Phase.DEV and now - self.phase_since > dev_timebox

    def time_in_phase(self, now: datetime) -> timedelta:
        return now - self.phase_since


@dataclass(frozen=True)
class PhaseMove:
    """A new state and the phase change it records; ``missing_roles``: the roles the phase
    entered needs, none of them on the team (the announcement warns)."""

    use_case: UseCase
    change: PhaseChange
    previous_phase_duration: timedelta
    missing_roles: tuple[Role, ...] = ()


def slug_from(title: str) -> str:
    """A slug suggested by a title: "Predict Customer Churn (EU)" → "predict-customer-churn-eu"."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    slug = ""
    for word in words:  # whole words only, within the 40 characters
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > 40:
            break
        slug = longer
    return slug or "".join(words)[:40]


def validate_slug(slug: str) -> str:
    if not SLUG_RE.fullmatch(slug):
        raise DomainError("invalid_slug", slug=slug)
    return slug


def validate_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise DomainError("title_required")
    if len(title) > TITLE_MAX:
        raise DomainError("title_too_long", length=len(title), limit=TITLE_MAX)
    return title


def validate_domain(domain: str) -> str:
    domain = domain.strip()
    if len(domain) > DOMAIN_MAX:
        raise DomainError("domain_too_long", length=len(domain), limit=DOMAIN_MAX)
    return domain


def validate_problem(problem: str) -> str:
    problem = problem.strip()
    if len(problem) > PROBLEM_MAX:
        raise DomainError("problem_too_long", length=len(problem), limit=PROBLEM_MAX)
    return problem


def create(
    slug: str, title: str, *, creator_id: str, channel_id: str, now: datetime,
    owner_id: str | None = None, domain: str = "", problem: str = "", kpi: str = "",
    private: bool = False,
) -> UseCase:
    owner = owner_id or creator_id
    change = PhaseChange(None, Phase.BIZ, creator_id, now, "created")
    return UseCase(
        slug=validate_slug(slug),
        title=validate_title(title),
        owner_id=owner,
        channel_id=channel_id,
        phase=Phase.BIZ,
        phase_since=now,
        created_at=now,
        created_by=creator_id,
        domain=validate_domain(domain),
        problem=validate_problem(problem),
        kpi=kpi,
        private=private,
        history=(change,),
    )


DEPLOYER_ROLES = (Role.DATA_ENGINEER, Role.DEVOPS)


def may_deploy(uc: UseCase, user_id: str, *, is_admin: bool) -> bool:
    """Who may start a deployment: the owner, the team's data and devops engineers, admins."""
    return is_admin or user_id == uc.owner_id or uc.role_of(user_id) in DEPLOYER_ROLES


def ensure_may_change(uc: UseCase, actor_id: str, *, is_admin: bool, change: str) -> None:
    """``change`` names what was asked ("advance", "link_model" ...) for the refusal's words."""
    if actor_id == uc.owner_id or is_admin:
        return
    raise NotAllowed("not_owner", owner=uc.owner_id, change=change, slug=uc.slug, admins_may=True)


def _move(uc: UseCase, to: Phase, actor_id: str, now: datetime, note: str) -> PhaseMove:
    change = PhaseChange(uc.phase, to, actor_id, now, note)
    moved = replace(uc, phase=to, phase_since=now, history=(*uc.history, change))
    return PhaseMove(moved, change, now - uc.phase_since, missing_roles(moved))


def missing_roles(uc: UseCase) -> tuple[Role, ...]:
    """The roles its phase needs when none of them is on the team; () when one is."""
    needed = NEEDED_ROLES.get(uc.phase, ())
    return () if any(m.role in needed for m in uc.team) else needed


def next_phase(uc: UseCase, actor_id: str, *, forward: bool, is_admin: bool) -> Phase:
    """Where advancing (or going back) would take it, if ``actor_id`` may: the refusals of
    :func:`advance` and :func:`back` before any note or reason is asked for."""
    ensure_may_change(uc, actor_id, is_admin=is_admin, change="advance" if forward else "back")
    to = (FORWARD if forward else BACKWARD).get(uc.phase)
    if to is None and forward:  # archived, or in Continuous, the last phase
        raise DomainError("cannot_advance", slug=uc.slug, phase=uc.phase)
    if to is None:
        raise DomainError("cannot_go_back", slug=uc.slug, phase=uc.phase)
    return to


def advance(uc: UseCase, actor_id: str, now: datetime, *, is_admin: bool, note: str = "") -> PhaseMove:
    to = next_phase(uc, actor_id, forward=True, is_admin=is_admin)
    return _move(uc, to, actor_id, now, note.strip())


def back(uc: UseCase, actor_id: str, now: datetime, *, is_admin: bool, reason: str) -> PhaseMove:
    to = next_phase(uc, actor_id, forward=False, is_admin=is_admin)
    if not reason.strip():
        raise DomainError("back_needs_reason")
    return _move(uc, to, actor_id, now, reason.strip())


def archive(uc: UseCase, actor_id: str, now: datetime, *, is_admin: bool, reason: str) -> PhaseMove:
    ensure_may_change(uc, actor_id, is_admin=is_admin, change="archive")
    if uc.phase is Phase.ARCHIVED:
        raise DomainError("already_archived", slug=uc.slug)
    if not reason.strip():
        raise DomainError("archive_needs_reason")
    moved = _move(uc, Phase.ARCHIVED, actor_id, now, reason.strip())
    archived = replace(moved.use_case, archived_reason=reason.strip())
    return replace(moved, use_case=archived, missing_roles=())


def _ensure_active(uc: UseCase) -> None:
    if uc.phase is Phase.ARCHIVED:
        raise DomainError("archived_unchangeable", slug=uc.slug)


def hand_over(uc: UseCase, actor_id: str, new_owner_id: str, *, is_admin: bool) -> UseCase:
    ensure_may_change(uc, actor_id, is_admin=is_admin, change="hand_over")
    _ensure_active(uc)
    if new_owner_id == uc.owner_id:
        raise DomainError("already_owner", user=new_owner_id, slug=uc.slug)
    return replace(uc, owner_id=new_owner_id)


def link_model(uc: UseCase, actor_id: str, model: str, *, is_admin: bool) -> UseCase:
    ensure_may_change(uc, actor_id, is_admin=is_admin, change="link_model")
    _ensure_active(uc)
    if not MODEL_RE.fullmatch(model):
        raise DomainError("invalid_model", model=model)
    if model == uc.model:
        raise DomainError("model_already_linked", slug=uc.slug, model=model)
    return replace(uc, model=model)


def add_member(uc: UseCase, actor_id: str, member: TeamMember, *, is_admin: bool) -> UseCase:
    ensure_may_change(uc, actor_id, is_admin=is_admin, change="change_team")
    _ensure_active(uc)
    if member in uc.team:
        raise DomainError("already_member", user=member.user_id, slug=uc.slug, role=member.role)
    others = tuple(m for m in uc.team if m.user_id != member.user_id)
    return replace(uc, team=(*others, member))


def remove_member(uc: UseCase, actor_id: str, user_id: str, *, is_admin: bool) -> UseCase:
    ensure_may_change(uc, actor_id, is_admin=is_admin, change="change_team")
    _ensure_active(uc)
    if uc.role_of(user_id) is None:
        raise DomainError("not_member", user=user_id, slug=uc.slug)
    return replace(uc, team=tuple(m for m in uc.team if m.user_id != user_id))
