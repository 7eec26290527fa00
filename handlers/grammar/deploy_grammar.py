"""The `/deploy` grammar: text in, a command dataclass out, or a UsageError with the usage line."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from bot.domain.freezes import MAX_DURATION
from bot.domain.usecases import SLUG_RE
from bot.services.commands import (
    CancelDeployment,
    DeployCommand,
    DeploymentHistory,
    DeploymentStatus,
    FreezeDeployments,
    ListFreezes,
    LockDeployments,
    NotifySetting,
    PickVersion,
    RollbackDeployment,
    ShowChanges,
    StartDeployment,
    UnfreezeDeployments,
    UnlockDeployments,
)
from bot.slack import ids
from bot.toml_values import parse_duration
from handlers.grammar.parsing import (
    MAX_ID,
    FieldErrors,
    UsageError,
    dispatch,
    parse_id,
    parse_slug,
    plain_text,
    shown,
    split,
)

VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
ID_RE = re.compile(r"#?([0-9]{1,12})")  # longer digit strings can only be slugs

USAGE = {
    "start": '/deploy <slug> <version> [pipeline=<name>] [override="<reason>"]',
    "status": "/deploy status [<slug> | <deployment-id>]",
    "history": "/deploy history <slug>",
    "cancel": '/deploy cancel <deployment-id> ["reason"]',
    "rollback": "/deploy rollback <slug>",
    "lock": '/deploy lock <slug> ["reason"]',
    "unlock": "/deploy unlock <slug>",
    "notify": "/deploy notify [on|off]",
    "freeze": '/deploy freeze <slug|all> <duration> "<reason>"',
    "unfreeze": "/deploy unfreeze <slug|all>",
    "freezes": "/deploy freezes [<slug>]",
    "changes": "/deploy changes <slug> [<version>]",
}
HELP = [
    (USAGE["start"], "Start a staged deployment (owner, data engineers, devops, admins)."),
    ("/deploy <slug>", "Opens the deploy dialog: a recent version (the linked MLflow model's, else "
                        "the history), the pipeline, and the production stage's gate."),
    (USAGE["status"], "Running deployments, or one with its stages and audit trail."),
    (USAGE["history"], "The last 10 deployments: version, result, who, how long."),
    (USAGE["cancel"], "Stop a deployment; whatever runs is stopped, nothing more starts."),
    (USAGE["rollback"], "Deploy the last successful version again (production stage only)."),
    (USAGE["lock"], "Block new deployments until unlocked; shown to everyone who tries."),
    (USAGE["unlock"], "Allow deployments again."),
    (USAGE["notify"], "Direct messages about your own deployments (on by default); alone: "
                      "the current setting."),
    (USAGE["freeze"], "Refuse new deployments for a while, e.g. `2h` or `3d` (admins); "
                      'an admin passes one with `override="<reason>"`, audited and announced.'),
    (USAGE["unfreeze"], "Lift an ad hoc freeze (admins)."),
    (USAGE["freezes"], "Current and coming freeze windows, ad hoc and from the pipeline file."),
    (USAGE["changes"], "What is not yet in production: the commits (from GitHub) or model "
                       "versions (from MLflow) between production and the version, by default "
                       "the newest."),
]


def parse_deploy(text: str) -> DeployCommand:
    return dispatch(text, _PARSERS, USAGE, command="/deploy",
                    otherwise=lambda whole: _start(whole, USAGE["start"]))


def _deployment_id(token: str, usage: str) -> int:
    match = ID_RE.fullmatch(token)
    if match is None:
        raise UsageError(f"`{shown(token)}` is not a deployment id (a number, e.g. `42`).", usage)
    found = parse_id(match.group(1))
    if found is None:
        raise UsageError(f"`{shown(token)}` is out of range: deployment ids run from 1 to {MAX_ID}.",
                         usage)
    return found


def _start(text: str, usage: str) -> StartDeployment | PickVersion:
    tokens = split(text, allowed=frozenset({"pipeline", "override"}), usage=usage)
    if len(tokens.positional) == 1 and not tokens.options:
        return PickVersion(parse_slug(tokens.positional[0], usage))
    if len(tokens.positional) != 2:
        raise UsageError("Say which use case and which version, e.g. `/deploy churn 1.4.0`.", usage)
    slug, version = tokens.positional
    if not VERSION_RE.fullmatch(version):
        raise UsageError(_bad_version(version), usage)
    pipeline = tokens.options.get("pipeline")
    override = plain_text(tokens.options.get("override", "")).strip()
    if "override" in tokens.options and not override:
        raise UsageError('An override needs its reason: `override="quarter-close fix, approved by '
                         'the CFO"`.', usage)
    return StartDeployment(parse_slug(slug, usage), version, pipeline or None, override)


def _bad_version(version: str) -> str:
    return (f"`{shown(version)}` is not a valid version: use up to 64 letters, digits and `._+-`, "
            "starting with a letter or digit (e.g. `1.4.0`).")


def start_from_dialog(slug: str, values: dict[str, str]) -> StartDeployment:
    """The deploy dialog's fields, by the rules of `/deploy <slug> <version> pipeline=<name>`:
    a typed version wins over the one picked from the recent ones."""
    version = values.get(ids.DEPLOY_VERSION_TYPED, "").strip() or values.get(
        ids.DEPLOY_VERSION_PICKED, "")
    field = ids.DEPLOY_VERSION_TYPED
    if not version:
        raise FieldErrors({field: "Pick a recent version or type one, e.g. `1.4.0`."})
    if not VERSION_RE.fullmatch(version):
        raise FieldErrors({field: _bad_version(version)})
    override = plain_text(values.get(ids.DEPLOY_OVERRIDE, "")).strip()
    if ids.DEPLOY_OVERRIDE in values and not override:
        raise FieldErrors({ids.DEPLOY_OVERRIDE: "Say why the freeze must be passed, e.g. "
                                                "`hotfix approved by the CFO`."})
    try:
        return StartDeployment(parse_slug(slug), version, values.get(ids.DEPLOY_PIPELINE) or None,
                               override)
    except UsageError as bad:
        raise FieldErrors({field: str(bad)}) from None


def start_from_button(value: str) -> StartDeployment:
    """A registry announcement's "Deploy vN": its value is data of one shape, `slug:version`,
    never a command (a forged `cancel:1` is no use case and no version)."""
    slug, sep, version = value.partition(":")
    if not sep or not SLUG_RE.fullmatch(slug) or not VERSION_RE.fullmatch(version):
        raise UsageError("This button is not one I made; nothing was changed.", "")
    return StartDeployment(slug, version)


def _oneparse_slug(rest: str, usage: str) -> str:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if len(tokens.positional) != 1:
        raise UsageError("Name exactly one use case.", usage)
    return parse_slug(tokens.positional[0], usage)


def _status(rest: str, usage: str) -> DeploymentStatus:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if not tokens.positional:
        return DeploymentStatus()
    if len(tokens.positional) > 1:
        raise UsageError("Name one use case or one deployment id.", usage)
    token = tokens.positional[0]
    if ID_RE.fullmatch(token):
        return DeploymentStatus(deployment_id=_deployment_id(token, usage))
    return DeploymentStatus(slug=parse_slug(token, usage))


def _cancel(rest: str, usage: str) -> CancelDeployment:
    which, reason = _subject_and_reason(rest, usage, "Which deployment? Give its id, e.g. "
                                                     "`/deploy cancel 42`.")
    return CancelDeployment(_deployment_id(which, usage), reason)


def _lock(rest: str, usage: str) -> LockDeployments:
    which, reason = _subject_and_reason(rest, usage, "Which use case?")
    return LockDeployments(parse_slug(which, usage), reason)


def _scope(word: str, usage: str) -> str:
    return "*" if word.lower() == "all" else parse_slug(word, usage)


def _freeze(rest: str, usage: str) -> FreezeDeployments:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if len(tokens.positional) < 3:
        raise UsageError('Say what, for how long and why, e.g. `/deploy freeze all 2d "quarter '
                         'close"`.', usage)
    scope, duration, *why = tokens.positional
    try:
        length = parse_duration(duration)
    except ValueError as bad:
        raise UsageError(f"`{shown(duration)}`: {bad}.", usage) from None
    if not timedelta() < length <= MAX_DURATION:
        raise UsageError(f"A freeze lasts more than 0 and at most {MAX_DURATION.days} days.", usage)
    return FreezeDeployments(_scope(scope, usage), length, plain_text(" ".join(why)))


def _unfreeze(rest: str, usage: str) -> UnfreezeDeployments:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if len(tokens.positional) != 1:
        raise UsageError("Name one use case, or `all`.", usage)
    return UnfreezeDeployments(_scope(tokens.positional[0], usage))


def _subject_and_reason(rest: str, usage: str, missing: str) -> tuple[str, str]:
    """``<what> ["reason"]``: the first word, and the rest as the reason."""
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if not tokens.positional:
        raise UsageError(missing, usage)
    return tokens.positional[0], plain_text(" ".join(tokens.positional[1:]))


def _changes(rest: str, usage: str) -> ShowChanges:
    tokens = split(rest, allowed=frozenset(), usage=usage)
    if not 1 <= len(tokens.positional) <= 2:
        raise UsageError("Name one use case, and a version if you like, e.g. "
                         "`/deploy changes churn 1.5.0`.", usage)
    slug, *version = tokens.positional
    if version and not VERSION_RE.fullmatch(version[0]):
        raise UsageError(_bad_version(version[0]), usage)
    return ShowChanges(parse_slug(slug, usage), version[0] if version else None)


def _notify(rest: str, usage: str) -> NotifySetting:
    words = rest.split()
    if not words:
        return NotifySetting()
    if len(words) > 1 or words[0].lower() not in ("on", "off"):
        raise UsageError(f"Say `on` or `off`, not `{shown(rest.strip())}`.", usage)
    return NotifySetting(words[0].lower() == "on")


_PARSERS: dict[str, Callable[[str, str], DeployCommand]] = {
    "status": _status,
    "history": lambda rest, usage: DeploymentHistory(_oneparse_slug(rest, usage)),
    "cancel": _cancel,
    "rollback": lambda rest, usage: RollbackDeployment(_oneparse_slug(rest, usage)),
    "lock": _lock,
    "unlock": lambda rest, usage: UnlockDeployments(_oneparse_slug(rest, usage)),
    "notify": _notify,
    "freeze": _freeze,
    "unfreeze": _unfreeze,
    "changes": _changes,
    "freezes": lambda rest, usage: ListFreezes(_oneparse_slug(rest, usage) if rest.strip() else None),
}
