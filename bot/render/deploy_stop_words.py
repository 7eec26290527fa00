"""Why a deployment stopped, in words, from the facts kept (``bot.domain.deployment_stop``);
what an older version kept instead is words already and is shown as it was."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.deployment_stop import Stop, StopKind, from_text
from bot.render.durations import humanize
from bot.render.mrkdwn import escape

LOST = "the bot stopped while this step ran; it was not run again"


def _why(stop: Stop) -> str:
    """What stopped the step, plain: the executor's words, or the bot's when it had none."""
    if stop.kind is StopKind.TIMED_OUT:
        return f"no result within {humanize(stop.waited or timedelta())}"
    return LOST if stop.kind is StopKind.LOST else stop.reason


def stop_words(stop: Stop) -> str:
    """"cancelled by @erin: wrong version", "prod health check (wave 2) failed: error rate 7%"."""
    if stop.kind is StopKind.CANCELLED:
        return f"cancelled by <@{stop.actor}>" + (f": {escape(stop.reason)}" if stop.reason else "")
    if stop.kind is StopKind.REJECTED:
        return f"rejected by <@{stop.actor}>: {escape(stop.reason)}"
    if stop.kind is StopKind.EXPIRED:
        return f"the approval for {stop.stage} expired"
    what = "health check" if stop.health else "run"
    where = f" (wave {stop.wave})" if stop.wave is not None else ""
    verb = "timed out" if stop.kind is StopKind.TIMED_OUT else "failed"
    return f"{stop.stage} {what}{where} {verb}: {escape(_why(stop))}".rstrip(": ")


def kept_stop(detail: str) -> str:
    """A stopped deployment's or stage's detail (also a lock's that a failed rollback left), in
    mrkdwn; an older version's words were escaped when made."""
    stop = from_text(detail)
    return detail if stop is None else stop_words(stop)


def stop_reason(detail: str) -> str:
    """A ``failed`` or ``timed_out`` event's reason, escaped; older versions kept it plain."""
    stop = from_text(detail)
    return escape(detail if stop is None else _why(stop))
