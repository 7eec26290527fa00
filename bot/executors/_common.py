"""Small text helpers shared by the executors."""

from __future__ import annotations

from datetime import timedelta

from bot.render.durations import humanize


def format_timeout(timeout: timedelta) -> str:
    """"30 minutes", or "0.5 s" for the sub-second timeouts tests and health checks use."""
    seconds = timeout.total_seconds()
    if seconds < 1:
        return f"{seconds:.1f} s"
    return humanize(timeout)


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters: details end up in Slack messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_targets(wave: int | None, targets: tuple[str, ...], shown: int = 5) -> str:
    """" (wave 2; targets: a, b and 3 more)" or "" — a stage can have thousands of targets."""
    parts: list[str] = []
    if wave is not None:
        parts.append(f"wave {wave}")
    if targets:
        names = ", ".join(targets[:shown])
        more = f" and {len(targets) - shown} more" if len(targets) > shown else ""
        parts.append(f"targets: {names}{more}")
    return f" ({'; '.join(parts)})" if parts else ""
