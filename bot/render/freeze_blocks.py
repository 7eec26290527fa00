"""Freeze windows as people read them: in a refused `/deploy`, `/deploy status`, the digest and
the Home tab.

Part of the one renderer (helpers from ``bot.render.blocks``); pure functions of domain windows.
A window's reason is user text and is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.freezes import FreezeWindow
from bot.domain.mrkdwn import escape
from bot.render.blocks import when

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
