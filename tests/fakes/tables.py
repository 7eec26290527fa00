"""The rows of the in-memory storage, and how a unit of work sees and changes them.

Each unit of work copies every table when it begins (a snapshot: what others commit later is
not seen) and marks the keys it writes. Its commit writes those keys into the shared tables —
unless another unit of work committed a write to one of them since the snapshot was taken:
then the commit raises ``ConcurrentUpdate`` and writes nothing (first committer wins, as under
snapshot isolation; SQL raises the same error earlier, at the guarded UPDATE). Unique keys are
table keys (``active_slots``, ``token_hashes``), so two units of work that claim the same one
conflict too. An insert refused for its unique key (``duplicate``) ends the transaction, as a
failed flush ends SQLAlchemy's: it cannot commit any more. Ids come from counters that a
rollback does not rewind, like PostgreSQL's sequences.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.domain.deployment_model import Deployment, Event
from bot.domain.kpis import SourceStatus
from bot.domain.usecases import PhaseChange, UseCase
from bot.services.freeze_ports import StoredFreeze
from bot.services.ports import (
    ActionToken,
    ApiToken,
    ConcurrentUpdate,
    CrossingRow,
    DeployLock,
    DigestSchedule,
    OutgoingMessage,
    StoredPoint,
    StoredTarget,
)

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()


class RolledBack(RuntimeError):
    """A commit of a transaction that a refused insert ended (SQLAlchemy: PendingRollbackError)."""


class Table(Generic[K, V]):
    """One table as a unit of work sees it: a copy of the committed rows, plus its writes."""

    def __init__(self, rows: dict[K, V] | None = None) -> None:
        self.rows: dict[K, V] = dict(rows or {})
        self._before: dict[K, V] = {}  # per written key, the row as the snapshot had it

    def get(self, key: K) -> V | None:
        return self.rows.get(key)

    def put(self, key: K, row: V) -> None:
        self._before.setdefault(key, self.rows.get(key, _MISSING))
        self.rows[key] = row

    def delete(self, key: K) -> None:
        self._before.setdefault(key, self.rows.get(key, _MISSING))
        self.rows.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def __iter__(self) -> Iterator[V]:
        return iter(list(self.rows.values()))

    def conflicts_with(self, committed: Table[K, V]) -> bool:
        """Whether a row this unit of work wrote was changed by a commit since its snapshot."""
        return any(committed.rows.get(key, _MISSING) is not row for key, row in self._before.items())

    def write_into(self, committed: Table[K, V]) -> None:
        for key in self._before:
            if key in self.rows:
                committed.rows[key] = self.rows[key]
            else:
                committed.rows.pop(key, None)


# ── rows: immutable, so a snapshot shares them and a write replaces them ───────────────────────


@dataclass(frozen=True)
class UseCaseRow:
    id: int             # creation order: DORA's "busiest" breaks ties by it
    use_case: UseCase   # without history: that is ``phase_changes``


@dataclass(frozen=True)
class PhaseChangeRow:
    slug: str
    change: PhaseChange


@dataclass(frozen=True)
class DeploymentRow:
    deployment: Deployment
    lease_owner: str | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True)
class EventRow:
    deployment_id: int
    event: Event


@dataclass(frozen=True)
class LockRow:
    lock: DeployLock
    reminded_at: datetime | None = None


@dataclass(frozen=True)
class PointRow:
    slug: str
    point: StoredPoint
    received_at: datetime


@dataclass(frozen=True)
class OutboxRow:
    message: OutgoingMessage
    status: str = "pending"  # or "superseded": a newer edit of the same message replaced it


def _table() -> Table[Any, Any]:
    return Table()


@dataclass
class Tables:
    """Every table; keys are what SQL keeps unique."""

    use_cases: Table[str, UseCaseRow] = field(default_factory=_table)
    phase_changes: Table[int, PhaseChangeRow] = field(default_factory=_table)
    deployments: Table[int, DeploymentRow] = field(default_factory=_table)
    active_slots: Table[str, int] = field(default_factory=_table)  # slug → its active deployment
    events: Table[int, EventRow] = field(default_factory=_table)
    action_tokens: Table[str, ActionToken] = field(default_factory=_table)
    locks: Table[str, LockRow] = field(default_factory=_table)
    points: Table[int, PointRow] = field(default_factory=_table)
    targets: Table[tuple[str, str], StoredTarget] = field(default_factory=_table)
    crossings: Table[int, CrossingRow] = field(default_factory=_table)
    api_tokens: Table[str, ApiToken] = field(default_factory=_table)
    token_hashes: Table[str, str] = field(default_factory=_table)  # hash → token name
    schedules: Table[str, DigestSchedule] = field(default_factory=_table)
    digest_runs: Table[tuple[str, datetime], datetime] = field(default_factory=_table)
    reminders: Table[tuple[str, str], datetime] = field(default_factory=_table)  # claims
    deliveries: Table[str, datetime] = field(default_factory=_table)  # Slack deliveries applied
    outbox: Table[int, OutboxRow] = field(default_factory=_table)
    kpi_pulls: Table[tuple[str, str, datetime], datetime] = field(default_factory=_table)
    kpi_status: Table[tuple[str, str], SourceStatus] = field(default_factory=_table)
    model_aliases: Table[tuple[str, str], str] = field(default_factory=_table)
    notify_prefs: Table[str, tuple[bool, datetime]] = field(default_factory=_table)
    freezes: Table[int, StoredFreeze] = field(default_factory=_table)

    def __post_init__(self) -> None:
        self.refused: str | None = None  # the key of an insert refused as a duplicate

    def duplicate(self, key: str) -> ConcurrentUpdate:
        """The error for an insert refused by a unique key; the transaction is over."""
        self.refused = key
        return ConcurrentUpdate(key)

    def _pairs(self, other: Tables) -> Iterator[tuple[Table[Any, Any], Table[Any, Any]]]:
        for f in fields(self):
            yield getattr(self, f.name), getattr(other, f.name)

    def snapshot(self) -> Tables:
        return Tables(**{f.name: Table(getattr(self, f.name).rows) for f in fields(self)})

    def commit_into(self, committed: Tables) -> None:
        """Write this unit of work's changes into ``committed``: all of them, or none."""
        if self.refused is not None:
            raise RolledBack(f"an insert of {self.refused!r} was refused; nothing is committed")
        if any(mine.conflicts_with(theirs) for mine, theirs in self._pairs(committed)):
            raise ConcurrentUpdate("a row this unit of work wrote was committed by another")
        for mine, theirs in self._pairs(committed):
            mine.write_into(theirs)


class Ids:
    """Row ids per table, never handed out twice, also across rollbacks."""

    def __init__(self) -> None:
        self._counters: dict[str, Iterator[int]] = {}

    def new(self, table: str) -> int:
        return next(self._counters.setdefault(table, itertools.count(1)))
