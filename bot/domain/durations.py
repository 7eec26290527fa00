"""Durations as the numbers the rules compare (weeks in a phase against the Dev time box)."""

from __future__ import annotations

from datetime import timedelta


def weeks(delta: timedelta) -> float:
    return delta.total_seconds() / (7 * 86400)
