"""Why a deployment stopped short of success, kept as facts: who cancelled or rejected it and
their words, which stage's run or health check failed or timed out and what the executor said.

They are kept in text columns (``Deployment.detail``, the stopped ``StageRun.detail`` and the
``failed``/``timed_out`` event's detail), so they are written as JSON; bot/render words them when
they are shown, escaping once. Text that is not such JSON is what older versions kept there:
words, in mrkdwn, escaped when made (a stage's and a deployment's detail) or plain (an event's).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum


class StopKind(StrEnum):
    CANCELLED = "cancelled"    # actor, reason (may be "")
    REJECTED = "rejected"      # actor, reason, stage
    EXPIRED = "expired"        # stage: its approval gate expired
    FAILED = "failed"          # stage, health, wave, reason: what the executor said
    TIMED_OUT = "timed_out"    # stage, health, wave, waited: no result within the stage's timeout
    LOST = "lost"              # stage, health, wave: the bot stopped while the step ran


@dataclass(frozen=True)
class Stop:
    kind: StopKind
    stage: str = ""
    actor: str = ""
    reason: str = ""                  # a person's or an executor's words, plain text
    health: bool = False              # the stage's health check stopped, not its run
    wave: int | None = None           # 1-based
    waited: timedelta | None = None   # how long a timed-out step was given


def as_text(stop: Stop) -> str:
    data = {k: v for k, v in asdict(stop).items() if v not in ("", False, None)}
    if stop.waited is not None:
        data["waited"] = int(stop.waited.total_seconds())
    return json.dumps(data, ensure_ascii=False)


def from_text(text: str) -> Stop | None:
    """The stop kept in ``text``; None for the words an older version kept there."""
    if not text.startswith("{"):
        return None
    try:
        data = dict(json.loads(text))
        data["kind"] = StopKind(data["kind"])
        if "waited" in data:
            data["waited"] = timedelta(seconds=data["waited"])
        return Stop(**data)
    except (ValueError, KeyError, TypeError):
        return None
