"""Production waves: cumulative shares of the targets, like Ansible's ``serial`` but summed.

``["1", "10%", "50%", "100%"]`` over 120 targets deploys to 1, then up to 12, then up to 60,
then all 120. Every target is in exactly one wave, in order; a wave that would add nothing
is dropped; the last wave always reaches every target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def wave_size(step: str, total: int) -> int:
    """How many targets the rollout covers after this step (cumulative)."""
    if step.endswith("%"):
        share = float(step[:-1])
        if not 0 < share <= 100:
            raise ValueError(f"wave {step!r}: a share must be from 1% to 100%")
        return min(total, max(1, math.ceil(total * share / 100)))
    count = int(step)
    if count < 1:
        raise ValueError(f"wave {step!r}: a count must be at least 1")
    return min(total, count)


def plan_waves(steps: Sequence[str], targets: Sequence[str]) -> list[tuple[str, ...]]:
    """The targets of each wave, in order; no target twice, none left out."""
    total = len(targets)
    if total == 0:
        return []
    waves: list[tuple[str, ...]] = []
    done = 0
    for step in steps or ("100%",):
        reach = max(done, wave_size(step, total))
        if reach > done:
            waves.append(tuple(targets[done:reach]))
            done = reach
    if done < total:  # a plan that stops short still covers everything in a last wave
        waves.append(tuple(targets[done:]))
    return waves


def target_names(targets: int | Sequence[str]) -> tuple[str, ...]:
    """A count becomes the names "1".."N"; a list of names is kept as it is."""
    if isinstance(targets, int):
        return tuple(str(i) for i in range(1, targets + 1))
    return tuple(targets)

