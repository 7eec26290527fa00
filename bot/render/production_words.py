"""What runs in production, in words: "`2.0.0` on 10 of 20 targets, `1.0.0` on 10"; and who may
approve a gate: "the owner @alice or an admin (@zoe)". Pure; shared by every renderer."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.approvers import Approvers
from bot.domain.production import (
    NOTHING,
    UNKNOWN,
    Placement,
    Production,
    Running,
    deployed,
    named,
    total,
)
from bot.render.blocks import when
from bot.render.mrkdwn import escape

MAX_NAMED = 10      # targets named per version when a rollout halts
MAX_MENTIONED = 5   # admins named in "or an admin (…)"


def _what(group: Running) -> str:
    if group.version == UNKNOWN:
        return "unknown"
    if group.version == NOTHING:
        return "nothing yet"
    return f"`{escape(group.version)}`"


def _names(targets: Sequence[str]) -> str:
    shown = ", ".join(escape(t) for t in targets[:MAX_NAMED])
    more = len(targets) - MAX_NAMED
    return f" ({shown}{f' and {more} more' if more > 0 else ''})"


def placement_words(placement: Placement, *, name_targets: bool = False) -> str:
    """``2.0.0 on 10 of 20 targets (1, 2, …), 1.0.0 on 10``; one place: ``1.4.0``."""
    if not placement:
        return "nothing yet"
    if not named(placement):
        return _what(placement[0])
    count = total(placement)
    if len(placement) == 1:
        return f"{_what(placement[0])} on all {count} target{'s' if count != 1 else ''}"
    parts = []
    for i, group in enumerate(placement):
        where = f"{len(group.targets)} of {count} targets" if i == 0 else f"{len(group.targets)}"
        parts.append(f"{_what(group)} on {where}" + (_names(group.targets) if name_targets else ""))
    return ", ".join(parts)


def production_line(production: Production | None, tz: str) -> str:
    """What runs in production for a use case, since when; "never deployed" when nothing does."""
    if production is None or not deployed(production.placement):
        return "never deployed"
    placement = production.placement
    words = placement_words(placement)
    if len(placement) == 1 and placement[0].since is not None:
        by = placement[0].deployment_id
        words += f" since {when(placement[0].since, tz)}" + (f" (deployment {by})" if by else "")
    if production.rolling and len(placement) > 1:
        words += " · rollout under way"
    elif production.needs_attention:
        words += " · ⚠️ needs attention"
    return words


def short_production(production: Production | None) -> str:
    """For one line of a list: the version alone when it runs everywhere."""
    if production is None or not deployed(production.placement):
        return "never deployed"
    placement = production.placement
    return _what(placement[0]) if len(placement) == 1 else placement_words(placement)


def mention(who: str) -> str:
    """A user ID or user group, as a mention; an @handle as written in the pipeline file."""
    if who.startswith(("U", "W")):
        return f"<@{who}>"
    if who.startswith("S"):
        return f"<!subteam^{who}>"
    return escape(who)


def either(words: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def approvers_words(approvers: Approvers) -> str:
    """Who may approve, as people read it; "" when nobody (else) may."""
    if approvers.by_default:
        parts = [f"the owner <@{approvers.owner}>"] if approvers.owner else []
        admins = [a for a in approvers.admins if a != approvers.owner]  # an owner who is one
        if admins:
            shown = ", ".join(f"<@{a}>" for a in admins[:MAX_MENTIONED])
            more = len(admins) - MAX_MENTIONED
            another = "another admin" if approvers.owner in approvers.admins else "an admin"
            parts.append(f"{another} ({shown}{f' and {more} more' if more > 0 else ''})")
        elif approvers.owner and approvers.owner in approvers.admins:
            parts = [f"the owner <@{approvers.owner}> (the only admin)"]
        return " or ".join(parts)
    return either([mention(who) for who in (*approvers.users, *approvers.groups)])
