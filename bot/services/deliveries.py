"""Which Slack delivery the current task works for, so its first change records it.

Slack retries a command or a click it thinks failed. The listener marks the task it runs in
(:func:`handling`); the first unit of work that commits in that task claims the delivery in the
same transaction (``UnitOfWork.claim_delivery``): "applied" and "recorded" never disagree, a
read-only handling costs no write, and a retry of an applied delivery raises
``DuplicateDelivery`` instead of applying it twice. Tasks the listener starts inherit the mark
with the asyncio context.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

KEY_LENGTH = 80  # the stored key's width; Slack's ids are far shorter


@dataclass
class Delivery:
    key: str
    claimed: bool = False  # a commit on its behalf carries (or carried) the key


_current: ContextVar[Delivery | None] = ContextVar("slack_delivery", default=None)


def handling(key: str) -> None:
    """Mark the rest of this task as work on behalf of the Slack delivery ``key``."""
    _current.set(Delivery(key[:KEY_LENGTH]))


def to_claim() -> Delivery | None:
    """The delivery this task handles, if no commit has claimed it yet; now taken as claimed
    (``release`` it if the commit fails)."""
    delivery = _current.get()
    if delivery is None or delivery.claimed:
        return None
    delivery.claimed = True
    return delivery


def release(delivery: Delivery | None) -> None:
    if delivery is not None:
        delivery.claimed = False
