"""The audit export's reads (``bot.services.read_ports.AuditReads``): use cases' phase changes
and deployment events, a page at a time in order of time, keyset-paged on (at, source, id) — each
source by its index on time (``phase_changes.at``; ``deployment_events (at, id)``, 0020) or, for
one use case, by its own rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, cast, literal, null, select, true, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.audit import PHASE_CHANGED, AuditEvent, AuditFilter
from storage.models import DeploymentEventRow, DeploymentRow, PhaseChangeRow, UseCaseRow

E, D, P, U = DeploymentEventRow, DeploymentRow, PhaseChangeRow, UseCaseRow
Key = tuple[datetime, int, int]


def _after(at: Any, source: int, row_id: Any, key: Key | None) -> ColumnElement[bool]:
    """(at, source, id) > key, written so that each source's index on time serves it."""
    if key is None:
        return true()
    at_key, source_key, id_key = key
    if source > source_key:
        return at >= at_key
    if source < source_key:
        return at > at_key
    return tuple_(at, row_id) > tuple_(at_key, id_key)


def _between(at: Any, where: AuditFilter) -> list[ColumnElement[bool]]:
    return [c for c in (at > where.since if where.since else None,
                        at <= where.until if where.until else None) if c is not None]


NAMES = ("id", "at", "actor", "use_case", "deployment_id", "source", "action", "stage", "wave",
         "detail", "from_phase", "to_phase", "version", "pipeline", "dry_run", "deployment_kind")


def _none(kind: Any) -> Any:
    """A NULL of a type: PostgreSQL will not match an untyped one in a UNION."""
    return cast(null(), kind)


def _named(*columns: Any) -> list[Any]:
    return [c.label(name) for c, name in zip(columns, NAMES, strict=True)]


class SqlAuditReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def events(self, where: AuditFilter, after: Key | None, limit: int) -> list[AuditEvent]:
        moves = (select(*_named(P.id, P.at, P.actor_id, U.slug, _none(Integer), literal(0),
                                literal(PHASE_CHANGED), _none(String), _none(Integer), P.note,
                                P.from_phase,
                                P.to_phase, literal(""), literal(""), literal(False), literal("")))
                 .join(U, U.id == P.use_case_id)
                 .where(_after(P.at, 0, P.id, after), *_between(P.at, where)))
        events = (select(*_named(E.id, E.at, E.actor, D.slug, E.deployment_id, literal(1), E.kind,
                                 E.stage, E.wave, E.detail, _none(String), _none(String), D.version,
                                 D.pipeline,
                                 D.dry_run, D.kind))
                  .join(D, D.id == E.deployment_id)
                  .where(_after(E.at, 1, E.id, after), *_between(E.at, where)))
        if where.use_case is not None:
            moves, events = moves.where(U.slug == where.use_case), events.where(D.slug == where.use_case)
        if where.channels is not None:  # a person's eyes: no use case of a private channel they are not in
            seen = U.private.is_(False) | U.channel_id.in_(where.channels)
            moves, events = moves.where(seen), events.join(U, U.id == D.use_case_id).where(seen)
        # Each source's first page by its own index, then the two merged: at most 2 × limit rows.
        firsts = [select(q.order_by(q.selected_columns.at, q.selected_columns.id).limit(limit)
                         .subquery()) for q in (moves, events)]
        both = union_all(*firsts).subquery()
        rows = await self._session.execute(
            select(both).order_by(both.c.at, both.c.source, both.c.id).limit(limit))
        return [_event(r) for r in rows.mappings()]


def _event(r: Any) -> AuditEvent:
    phase = r["source"] == 0
    return AuditEvent(r["id"], r["at"], r["actor"] or None, r["use_case"], r["deployment_id"],
                      r["action"], r["stage"], r["wave"], r["detail"] or "", version=r["version"],
                      pipeline=r["pipeline"], dry_run=bool(r["dry_run"]),
                      rollback=r["deployment_kind"] == "rollback",
                      moved=(r["from_phase"], r["to_phase"]) if phase else None)
