"""What runs in production: which targets run which version, and since when.

A deployment starts from what its use case's production ran before it (the *baseline*, left by
the previous deployment) and changes it as its production stage runs: a target counts as running
the new version as soon as a wave's executor has run on it, whether or not that wave's health
check passes; a run that failed or was stopped half-way leaves its targets *unknown* (unless its
executor is all-or-nothing, like an alias move). A rollback is a deployment like any other, so
after waves, halts and rollback waves the newest deployment knows what runs where. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.locks import DeployLock

EVERYWHERE = "*"  # a production stage that names no targets: production as one place
UNKNOWN = "?"     # a run that failed or was stopped may or may not have changed these targets
NOTHING = ""      # nothing was ever deployed there


@dataclass(frozen=True)
class Running:
    """Some targets and the version they run (or UNKNOWN, or NOTHING), since when, put there by
    which deployment."""

    version: str
    targets: tuple[str, ...]
    since: datetime | None = None
    deployment_id: int | None = None

    @property
    def known(self) -> bool:
        return self.version not in (UNKNOWN, NOTHING)


Placement = tuple[Running, ...]  # each target in one group; the most recent change first


def extend(baseline: Placement, targets: Sequence[str]) -> Placement:
    """``baseline`` over ``targets`` as well: a production that was one place (EVERYWHERE) gets
    names, each running what it ran; a name never deployed to runs NOTHING."""
    if tuple(targets) == (EVERYWHERE,):
        return baseline or (Running(NOTHING, (EVERYWHERE,)),)
    groups = []
    for group in baseline:
        if group.targets == (EVERYWHERE,):
            group = replace(group, targets=tuple(targets))
        groups.append(group)
    placed = {t for g in groups for t in g.targets}
    new = tuple(t for t in targets if t not in placed)
    return tuple(groups) + ((Running(NOTHING, new),) if new else ())


def move(placement: Placement, targets: Sequence[str], version: str, at: datetime,
         deployment_id: int | None) -> Placement:
    """``targets`` run ``version`` (or UNKNOWN) from ``at`` on; EVERYWHERE means all of them."""
    everything = tuple(targets) == (EVERYWHERE,)
    moving = {t for g in placement for t in g.targets} if everything else set(targets)
    moved: list[str] = []
    rest = []
    for group in placement:
        keep = tuple(t for t in group.targets if t not in moving)
        moved += [t for t in group.targets if t in moving]
        if group.version == version and keep:  # joins the moved ones: one group per version
            moved = [*keep, *moved]
        elif keep:
            rest.append(replace(group, targets=keep))
    if not everything:
        seen = set(moved)
        moved += [t for t in targets if t not in seen]
    return (Running(version, tuple(moved) or (EVERYWHERE,), at, deployment_id), *rest)


def total(placement: Placement) -> int:
    return sum(len(g.targets) for g in placement)


def named(placement: Placement) -> bool:
    """Whether it names targets (else production is one place)."""
    return any(g.targets != (EVERYWHERE,) for g in placement)


def settled(placement: Placement) -> bool:
    """One known version on every target: nothing for anyone to look into."""
    return len(placement) == 1 and placement[0].known


def deployed(placement: Placement) -> bool:
    """Anything ever ran there (else: never deployed)."""
    return any(g.version != NOTHING for g in placement)


def unsettled(placement: Placement) -> bool:
    """Deployed, but not one known version everywhere: a halted rollout, a failed run."""
    return deployed(placement) and not settled(placement)


@dataclass(frozen=True)
class Production:
    """What runs in production for one use case, as its newest real deployment left it."""

    placement: Placement
    deployment_id: int
    rolling: bool = False  # that deployment is still under way: a mix may be its rollout

    @property
    def needs_attention(self) -> bool:
        """Left in a mix or unknown (a halted rollout, a failed rollback), not while rolling."""
        return not self.rolling and unsettled(self.placement)


def needs_attention(production: Production | None, lock: DeployLock | None) -> bool:
    """Someone must look: production left in a mix, or a lock a failed rollback left."""
    return (production is not None and production.needs_attention) or \
        (lock is not None and lock.after_failed_rollback)
