"""Freeze windows as people read them: in a refused `/deploy`, `/deploy status`, the digest,
the Home tab, and the answers and announcements of `/deploy freeze|unfreeze|freezes`.

Part of the one renderer (helpers from ``bot.render.blocks``); pure functions of domain windows.
A window's reason is user text and is escaped here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.domain.freeze_cards import FreezeBegun, FreezeLifted, FreezeOver, FreezeSet
from bot.domain.freeze_passage import from_text
from bot.domain.freeze_results import FreezeListing, Frozen, Unfrozen
from bot.domain.freezes import FreezeWindow
from bot.render.blocks import Message, notice, when
from bot.render.durations import humanize
from bot.render.mrkdwn import escape

MAX_FREEZE_LINES = 5  # where freezes are one concern among others; `/deploy freezes` lists all


def describe(chain: Sequence[FreezeWindow], tz: str) -> str:
    """E.g. "the freeze "quarter close" (ad hoc) until Fri 3 Apr 18:00 UTC, then "weekend"
    (pipeline file) until Mon 6 Apr 09:00 UTC"."""
    return "the freeze " + ", then ".join(
        f"“{escape(w.reason)}” ({w.source}) until {when(w.end, tz)}" for w in chain)


def frozen_line(window: FreezeWindow, tz: str) -> str:
    """One open window, for `/deploy status`, the digest and the Home tab."""
    what = ("all use cases" if window.use_cases is None
            else ", ".join(f"*{slug}*" for slug in sorted(window.use_cases)))
    return (f"❄️ Deployments of {what} are frozen until {when(window.end, tz)}: "
            f"“{escape(window.reason)}” ({window.source})")


def frozen_lines(windows: Sequence[FreezeWindow], tz: str, limit: int = MAX_FREEZE_LINES) -> list[str]:
    """The first ``limit`` open windows, one line each; the rest counted, not dropped."""
    lines = [frozen_line(w, tz) for w in windows[:limit]]
    if len(windows) > limit:
        lines.append(f"… and {len(windows) - limit} more: `/deploy freezes` lists them all")
    return lines


def passes(override: str, chain: Sequence[FreezeWindow], tz: str) -> str:
    """An admin's override of ``chain``, as the deployment's message and audit trail say it."""
    return f"{escape(override)} (passes {describe(chain, tz)})"


def kept_passage(text: str, tz: str) -> str:
    """A deployment's override or held event, from the facts kept (bot/domain/freeze_passage);
    what an older version kept there is words already, escaped when made."""
    passage = from_text(text)
    if passage is None:
        return text
    if passage.reason:
        return passes(passage.reason, passage.windows, tz)
    return describe(passage.windows, tz)


# ── the freeze commands' answers and announcements (bot.domain.freeze_results, freeze_cards) ──

def scope_name(slug: str | None) -> str:
    return "*all use cases*" if slug is None else f"*{slug}*"


def _where(channels: Sequence[str]) -> str:
    more = f" and {len(channels) - 3} more channels" if len(channels) > 3 else ""
    return ", ".join(f"<#{c}>" for c in channels[:3]) + more


def frozen_announcement(actor: str, slug: str | None, duration: timedelta, until: datetime,
                        reason: str, tz: str) -> str:
    return (f"❄️ <@{actor}> froze deployments of {scope_name(slug)} for {humanize(duration)}, "
            f"until {when(until, tz)}: {escape(reason)}")


def _still(still: Sequence[FreezeWindow], tz: str) -> str:
    return f" Still frozen: {'; '.join(frozen_lines(still, tz))}" if still else ""


def lifted_announcement(actor: str, slug: str | None, still: Sequence[FreezeWindow],
                        tz: str) -> str:
    stays = _still(still, tz) if slug is None else ""
    return f"☀️ <@{actor}> lifted the freeze of {scope_name(slug)}.{stays}"


def named(slugs: Sequence[str], at_most: int = 10) -> str:
    """E.g. "*churn*, *forecast* and 3 more"."""
    shown = ", ".join(f"*{slug}*" for slug in slugs[:at_most])
    return shown + (f" and {len(slugs) - at_most} more" if len(slugs) > at_most else "")


def begun(c: FreezeBegun) -> str:
    w = c.window
    return (f"❄️ The freeze “{escape(w.reason)}” ({w.source}) has begun: deployments of "
            f"{named(c.slugs)} are refused until {when(w.end, c.tz)}. A stage "
            "not started waits for its end; an admin may pass it with "
            '`override="<reason>"`.')


def over(c: FreezeOver) -> str:
    """Over; but a use case may stay frozen by a window that begins as this one ends."""
    stuck: dict[str, list[str]] = defaultdict(list)
    free = []
    for slug, chain in c.chains:
        if chain:
            stuck[describe(chain, c.tz)].append(slug)
        else:
            free.append(slug)
    text = f"☀️ The freeze “{escape(c.window.reason)}” ({c.window.source}) is over"
    if free:
        text += f": deployments of {named(free)} may start again"
    for why, frozen in stuck.items():
        text += f". {named(frozen)} {'stays' if len(frozen) == 1 else 'stay'} frozen: {why}"
    return text + "."


CARDS: dict[type, Callable[[Any], Message]] = {
    FreezeSet: lambda c: notice(frozen_announcement(c.actor, c.slug, c.duration, c.until,
                                                    c.reason, c.tz)),
    FreezeLifted: lambda c: notice(lifted_announcement(c.actor, c.slug, c.still, c.tz)),
    FreezeBegun: lambda c: notice(begun(c)),
    FreezeOver: lambda c: notice(over(c)),
}


def frozen_reply(done: Frozen, tz: str) -> Message:
    return notice(f"❄️ Deployments of {scope_name(done.slug)} are frozen until "
                  f"{when(done.until, tz)}; announced in {_where(done.channels)}. "
                  f"`/deploy unfreeze {done.slug or 'all'}` lifts it.")


def unfrozen_reply(done: Unfrozen, tz: str) -> Message:
    what = scope_name(done.slug)
    if done.still and done.slug is not None:
        return notice(f"☀️ Lifted the ad hoc freeze of {what}, but it stays frozen: "
                      f"{describe(done.still, tz)}.")
    if done.still:
        return notice(f"☀️ Lifted the ad hoc freeze of {what}.{_still(done.still, tz)}")
    return notice(f"☀️ Deployments of {what} are no longer frozen (ad hoc).")


def listing(found: FreezeListing, tz: str) -> Message:
    if not found.windows:
        return notice(f"☀️ No freeze now or in the next {found.days} days"
                      + (f" for `{found.slug}`." if found.slug else "."))
    lines = [("🧊 now" if w.start <= found.now else "🗓️") + f" {when(w.start, tz)} → "
             f"{when(w.end, tz)} · {escape(w.reason)} · "
             f"{'all use cases' if w.use_cases is None else ', '.join(sorted(w.use_cases))} "
             f"({w.source})" for w in found.windows[:40]]
    lines += [f"… “{escape(f.reason)}” fires every few minutes: listed until {when(until, tz)}"
              for f, until in found.partial]
    return notice(f"❄️ Freeze windows, now and in the next {found.days} days:\n" + "\n".join(lines))
