"""The `/usecase` grammar: text in, a command dataclass out, or a UsageError with the usage line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bot.domain import metrics as kpi
from bot.domain.usecases import (
    DomainError,
    Phase,
    Role,
    slug_from,
    validate_domain,
    validate_problem,
    validate_slug,
    validate_title,
)
from bot.render import refusals
from bot.render.mrkdwn import escape
from bot.services.commands import (
    AddTeamMember,
    AdvanceUseCase,
    ArchiveUseCase,
    HandOver,
    LinkModel,
    ListUseCases,
    MoveBack,
    NewUseCase,
    NewUseCaseDialog,
    RemoveTeamMember,
    ShowUseCase,
    UseCaseCommand,
)
from bot.services.usecases import LIST_LIMIT
from bot.slack import ids
from handlers.grammar.parsing import FieldErrors as FieldErrors  # re-exported for callers
from handlers.grammar.parsing import HelpRequested as HelpRequested  # re-exported for callers
from handlers.grammar.parsing import (
    UsageError,
    control_problem,
    dispatch,
    parse_channel,
    parse_user,
    plain_text,
    shown,
    split,
)

USAGE = {
    "new": '/usecase new <slug> "<title>" [domain=<text>] [owner=@user] [channel=#channel]',
    "list": "/usecase list [phase=biz|dev|ops|continuous|archived] [owner=@user] [mine]",
    "show": "/usecase show <slug>",
    "advance": '/usecase advance <slug> ["note"]',
    "back": '/usecase back <slug> "<reason>"',
    "owner": "/usecase owner <slug> @user",
    "team": "/usecase team <slug> add @user <role>  |  /usecase team <slug> remove @user",
    "archive": '/usecase archive <slug> "<reason>"',
    "link": "/usecase link <slug> model <registered-model-name>",
}
HELP = [
    (USAGE["new"], "Create a use case in Biz; you own it unless owner= says otherwise."),
    (USAGE["list"], f"List use cases, {LIST_LIMIT} at most, by slug (archived ones only with "
                    "phase=archived)."),
    (USAGE["show"], "Phase, owner, team, overdue flag and the full phase history."),
    (USAGE["advance"], "Move one step: Biz → Dev → Ops → Continuous. Owner or admin."),
    (USAGE["back"], "Feedback loop: Dev → Biz or Ops → Dev, with a reason. Owner or admin."),
    (USAGE["owner"], "Hand over end-to-end ownership (there is always exactly one owner)."),
    (USAGE["team"], "Roles: business, data-scientist, data-engineer, devops."),
    (USAGE["archive"], "Archive with a reason; the history is kept."),
    (USAGE["link"], "Link an MLflow registered model: its new versions and alias moves are "
                    "announced, and `mlflow` stages deploy it. Owner or admin."),
]
ROLES = ", ".join(r.value for r in Role)
PHASES = "|".join(p.value for p in Phase)


def parse_usecase(text: str) -> UseCaseCommand:
    return dispatch(text, _PARSERS, USAGE, command="/usecase")


def _slug_and_text(rest: str, usage: str, *, allowed: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    tokens = split(rest, allowed=allowed, usage=usage)
    if not tokens.positional:
        raise UsageError("The use case's slug is missing.", usage)
    return tokens, tokens.positional[0], plain_text(" ".join(tokens.positional[1:]))


def _new(rest: str, usage: str) -> NewUseCase | NewUseCaseDialog:
    if not rest.strip():
        return NewUseCaseDialog()
    tokens, slug, title = _slug_and_text(rest, usage, allowed=frozenset({"domain", "owner", "channel"}))
    if not title:
        raise UsageError("The title is missing: put it in quotes after the slug.", usage)
    opts = tokens.options
    return NewUseCase(
        slug=slug,
        title=title,
        domain=plain_text(opts.get("domain", "")),
        owner=parse_user(opts["owner"], usage=usage) if "owner" in opts else None,
        channel=parse_channel(opts["channel"], usage=usage) if "channel" in opts else None,
    )


_NEW_FIELDS: tuple[tuple[str, str, Callable[[str], object]], ...] = (
    (ids.NEW_SLUG, "The slug", lambda v: validate_slug(v.strip())),
    (ids.NEW_TITLE, "The title", validate_title),
    (ids.NEW_DOMAIN, "The domain", validate_domain),
    (ids.NEW_PROBLEM, "The business problem", validate_problem),
    (ids.NEW_KPI, "The KPI", lambda v: kpi.validate_name(v.strip()) if v.strip() else ""),
    (ids.NEW_KPI_TARGET, "The target", lambda v: kpi.parse_target(v) if v.strip() else None),
)


def new_from_dialog(values: dict[str, str]) -> NewUseCase:
    """The "New use case" dialog's fields, checked by the same rules and words as
    `/usecase new`; every bad field is named at once (FieldErrors)."""
    errors: dict[str, str] = {}
    checked: dict[str, object] = {}
    for field, what, rule in _NEW_FIELDS:
        raw = values.get(field, "")
        try:
            if problem := control_problem(raw, what):
                raise DomainError(problem)
            checked[field] = rule(raw)
        except DomainError as bad:
            errors[field] = refusals.said(bad)
    if checked.get(ids.NEW_KPI_TARGET) and not checked.get(ids.NEW_KPI) and ids.NEW_KPI not in errors:
        errors[ids.NEW_KPI] = "Name the KPI the target is for, e.g. `auc`."
    if not values.get(ids.NEW_SLUG, "").strip() and ids.NEW_TITLE not in errors:
        _suggest_slug(checked, errors)  # left empty: the title's, checked like a typed one
    owner = _picked(values, ids.NEW_OWNER, "an owner", lambda v: parse_user(f"<@{v}>"), errors)
    channel = _picked(values, ids.NEW_CHANNEL, "a home channel",
                      lambda v: parse_channel(f"<#{v}>"), errors)
    if errors:
        raise FieldErrors(errors)
    target = checked[ids.NEW_KPI_TARGET]
    return NewUseCase(
        slug=str(checked[ids.NEW_SLUG]), title=str(checked[ids.NEW_TITLE]),
        domain=str(checked[ids.NEW_DOMAIN]), owner=owner, channel=channel,
        problem=str(checked[ids.NEW_PROBLEM]),
        kpi=str(checked[ids.NEW_KPI]), kpi_target=target if isinstance(target, tuple) else None,
    )


def _suggest_slug(checked: dict[str, object], errors: dict[str, str]) -> None:
    suggested = slug_from(str(checked[ids.NEW_TITLE]))
    try:
        checked[ids.NEW_SLUG] = validate_slug(suggested)
        errors.pop(ids.NEW_SLUG, None)
    except DomainError:
        errors[ids.NEW_SLUG] = "The title makes no slug: type one (e.g. `churn-model`)."


R = TypeVar("R")


def _picked(values: dict[str, str], field: str, what: str, parse: Callable[[str], R],
            errors: dict[str, str]) -> R | None:
    """A user or channel picked in a dialog (an ID): required, and shaped like Slack's."""
    if not values.get(field):
        errors[field] = f"Pick {what}."
        return None
    try:
        return parse(values[field])
    except UsageError as bad:
        errors[field] = str(bad)
        return None


def _list(rest: str, usage: str) -> ListUseCases:
    tokens = split(rest, allowed=frozenset({"phase", "owner"}), flags=frozenset({"mine"}), usage=usage)
    if tokens.positional:
        raise UsageError(f"Unexpected `{shown(tokens.positional[0])}`.", usage)
    phase = tokens.options.get("phase")
    if phase is not None and phase.lower() not in {p.value for p in Phase}:
        raise UsageError(f"Unknown phase `{shown(phase)}`: use one of {PHASES}.", usage)
    owner = tokens.options.get("owner")
    return ListUseCases(
        phase=Phase(phase.lower()) if phase else None,
        owner=parse_user(owner, usage=usage) if owner is not None else None,
        mine="mine" in tokens.flags,
    )


def _show(rest: str, usage: str) -> ShowUseCase:
    _, slug, extra = _slug_and_text(rest, usage)
    if extra:
        raise UsageError(f"Unexpected `{escape(extra)}` after the slug.", usage)
    return ShowUseCase(slug)


def _advance(rest: str, usage: str) -> AdvanceUseCase:
    _, slug, note = _slug_and_text(rest, usage)
    return AdvanceUseCase(slug, note)


def _back(rest: str, usage: str) -> MoveBack:
    _, slug, reason = _slug_and_text(rest, usage)
    if not reason:
        raise UsageError("Going back needs a reason, in quotes after the slug.", usage)
    return MoveBack(slug, reason)


def _archive(rest: str, usage: str) -> ArchiveUseCase:
    _, slug, reason = _slug_and_text(rest, usage)
    if not reason:
        raise UsageError("Archiving needs a reason, in quotes after the slug.", usage)
    return ArchiveUseCase(slug, reason)


def _owner(rest: str, usage: str) -> HandOver:
    tokens, slug, _ = _slug_and_text(rest, usage)
    if len(tokens.positional) != 2:
        raise UsageError("Name exactly one new owner.", usage)
    return HandOver(slug, parse_user(tokens.positional[1], usage=usage))


def _team(rest: str, usage: str) -> AddTeamMember | RemoveTeamMember:
    tokens, slug, _ = _slug_and_text(rest, usage)
    args = tokens.positional[1:]
    action = args[0].lower() if args else ""
    if action == "add" and len(args) == 3:
        role = args[2].lower()
        if role not in {r.value for r in Role}:
            raise UsageError(f"Unknown role `{shown(args[2])}`: use one of {ROLES}.", usage)
        return AddTeamMember(slug, parse_user(args[1], usage=usage), Role(role))
    if action == "remove" and len(args) == 2:
        return RemoveTeamMember(slug, parse_user(args[1], usage=usage))
    raise UsageError("Say `add @user <role>` or `remove @user` after the slug.", usage)


def _link(rest: str, usage: str) -> LinkModel:
    tokens, slug, _ = _slug_and_text(rest, usage)
    args = tokens.positional[1:]
    if len(args) != 2 or args[0].lower() != "model":
        raise UsageError("Say `model <registered-model-name>` after the slug, e.g. "
                         "`/usecase link churn model churn-xgb`.", usage)
    return LinkModel(slug, plain_text(args[1]))


_PARSERS: dict[str, Callable[[str, str], UseCaseCommand]] = {
    "new": _new, "list": _list, "show": _show, "advance": _advance, "back": _back,
    "owner": _owner, "team": _team, "archive": _archive, "link": _link,
}
