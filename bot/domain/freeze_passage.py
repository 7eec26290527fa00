"""The freeze windows a deployment met, kept with it as facts: an admin's override (the reason
and the windows it passes, in ``Deployment.override`` and the ``override`` event) and the windows
that held a stage (the ``held`` event). Both fields are text columns, so the facts are written
as JSON; bot/render words them when they are shown (in the reader's time zone, escaped once).
Text that is not such JSON is what older versions stored there: words, shown as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.freezes import FreezeWindow


@dataclass(frozen=True)
class Passage:
    """Why a deployment met freezes: an admin's ``reason`` ("" for a stage held) and the windows."""

    reason: str
    windows: tuple[FreezeWindow, ...]


def as_text(passage: Passage) -> str:
    return json.dumps({"reason": passage.reason, "windows": [_window(w) for w in passage.windows]},
                      ensure_ascii=False)


def from_text(text: str) -> Passage | None:
    """The passage kept in ``text``; None for the words an older version kept there."""
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
        return Passage(data["reason"], tuple(_read_window(w) for w in data["windows"]))
    except (ValueError, KeyError, TypeError):
        return None


def _window(w: FreezeWindow) -> dict[str, Any]:
    return {"start": w.start.isoformat(), "end": w.end.isoformat(), "reason": w.reason,
            "source": w.source, "use_cases": None if w.use_cases is None else sorted(w.use_cases)}


def _read_window(data: dict[str, Any]) -> FreezeWindow:
    scope = data["use_cases"]
    return FreezeWindow(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]),
                        data["reason"], None if scope is None else frozenset(scope), data["source"])
