"""Tables. The domain never sees these classes: repositories translate rows to domain objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Made by migrations on PostgreSQL only, and only where it can be (0022: pg_trgm): an index the
# models do not declare, so Alembic's comparison leaves it out (``include_object``).
MIGRATIONS_ONLY = frozenset({"ix_use_cases_search"})


def compared(_obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    return not (type_ == "index" and name in MIGRATIONS_ONLY)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class UseCaseRow(Base):
    __tablename__ = "use_cases"
    # The portfolio's search reads a trigram index on PostgreSQL too (0022, MIGRATIONS_ONLY).
    __table_args__ = (Index("ix_use_cases_channel", "channel_id"),  # a channel's digest
                      Index("ix_use_cases_private_channel", "private", "channel_id"))  # Sight

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(200), default="")
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(16), index=True)
    phase_since: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))
    archived_reason: Mapped[str] = mapped_column(Text, default="")
    model: Mapped[str] = mapped_column(String(128), default="", index=True)  # registry events
    version: Mapped[int] = mapped_column(Integer, default=0)
    problem: Mapped[str] = mapped_column(Text, default="")  # the business problem
    kpi: Mapped[str] = mapped_column(String(64), default="")  # its success KPI's name
    # Homed in a private channel or group DM (Slack says so when it is homed): members only.
    private: Mapped[bool] = mapped_column(default=False, server_default=false())


class TeamMemberRow(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("use_case_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_case_id: Mapped[int] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(32))


class PhaseChangeRow(Base):
    __tablename__ = "phase_changes"
    __table_args__ = (
        Index("ix_phase_changes_use_case_at", "use_case_id", "at"),
        Index("ix_phase_changes_at", "at", "id"),  # changes since the last digest; the audit trail
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_case_id: Mapped[int] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"))
    from_phase: Mapped[str | None] = mapped_column(String(16))
    to_phase: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class OutboxRow(Base):
    """A Web API call owed to Slack. ``pending`` until delivered (``sent``) or given up (``dead``)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_channel_pending", "status", "channel", "id"),  # each channel's oldest
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32), index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    result_ts: Mapped[str | None] = mapped_column(String(32))
    # A posted message can be named (``ref``) so later calls edit it or reply in its thread.
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    update_of: Mapped[str | None] = mapped_column(String(64))
    thread_of: Mapped[str | None] = mapped_column(String(64))
    link_of: Mapped[str | None] = mapped_column(String(64))  # a link to it ends the text


class DeploymentRow(Base):
    """One deployment. Its stages (with waves, votes and the step in flight) live in ``stages``
    as JSON, guarded by ``revision``; the columns beside it are what the engine queries."""

    __tablename__ = "deployments"
    __table_args__ = (
        Index("ix_deployments_active_next", "state", "next_at"),
        Index("ix_deployments_use_case_requested", "use_case_id", "requested_at"),
        Index("ix_deployments_slug_requested", "slug", "requested_at"),
        Index("ix_deployments_requested", "requested_at"),
        # DORA's windows and next successes from these indexes alone (covering: storage/dora.py)
        Index("ix_deployments_prod_finished", "prod_finished_at", "use_case_id", "state",
              "rolled_back", "dry_run", "lead_seconds", "change_at", "kind"),
        Index("ix_deployments_use_case_outcome", "use_case_id", "state", "rolled_back", "dry_run",
              "prod_finished_at"),
        # What runs in production: each use case's newest real deployment (storage.deployments)
        Index("ix_deployments_use_case_dry_id", "use_case_id", "dry_run", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_case_id: Mapped[int] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(64))
    pipeline: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16), default="deploy")
    rollback_of: Mapped[int | None] = mapped_column(Integer)
    dry_run: Mapped[bool] = mapped_column(default=False)
    override: Mapped[str] = mapped_column(Text, default="")  # an admin's reason to pass freezes
    api_token: Mapped[str] = mapped_column(String(64), default="", server_default="")  # its API caller
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime]
    channel_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(24))
    finished_at: Mapped[datetime | None]
    detail: Mapped[str] = mapped_column(Text, default="")
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None]          # when the engine must look at it again
    launch_pending: Mapped[bool] = mapped_column(default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]      # a worker is running its step until then
    active_slot: Mapped[int | None] = mapped_column(Integer, unique=True)
    # The last stage's start and end, beside the JSON: DORA reads thousands of these.
    production_started_at: Mapped[datetime | None]
    production_finished_at: Mapped[datetime | None]
    # Which targets run which version as this deployment left them (bot.domain.production), []
    # when nothing was placed; NULL for deployments older than this record (0015 filled in each
    # use case's newest real one). Older code wrote JSON null for []: both read as nothing placed.
    production: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # What its version is, when known (bot.domain.changes.Change); NULL kind: not known.
    change_kind: Mapped[str | None] = mapped_column(String(16))
    change_ref: Mapped[str | None] = mapped_column(String(64))
    change_at: Mapped[datetime | None]
    change_url: Mapped[str | None] = mapped_column(Text)
    change_run_id: Mapped[str | None] = mapped_column(String(64))
    attention: Mapped[bool] = mapped_column(default=False, server_default=false())  # left in a mix
    # ``active_slot`` = use_case_id while active, NULL after: the database itself refuses a
    # second active deployment of one use case, even from two processes at once.
    # For DORA's SQL aggregates (storage/dora.py): when production finished (NULL while in flight
    # or never), the lead time, and whether a rollback that reached production blamed this one.
    prod_finished_at: Mapped[datetime | None]
    lead_seconds: Mapped[float | None]
    rolled_back: Mapped[bool] = mapped_column(default=False)


class DeploymentEventRow(Base):
    """The audit trail: append-only."""

    __tablename__ = "deployment_events"
    __table_args__ = (Index("ix_deployment_events_deployment", "deployment_id", "id"),
                      Index("ix_deployment_events_at", "at", "id"))  # the audit export's order

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(40))
    wave: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class ActionTokenRow(Base):
    """Button parameters kept on the server: a button's value is only this row's random id."""

    __tablename__ = "action_tokens"
    __table_args__ = (Index("ix_action_tokens_button", "deployment_id", "stage_index", "action"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    stage_index: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class DeployLockRow(Base):
    __tablename__ = "deploy_locks"

    use_case_id: Mapped[int] = mapped_column(
        ForeignKey("use_cases.id", ondelete="CASCADE"), primary_key=True
    )
    locked_by: Mapped[str] = mapped_column(String(32))  # "" when the bot locked it
    locked_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    reminded_at: Mapped[datetime | None]
    deployment_id: Mapped[int | None]  # the failed rollback that locked it


class DigestScheduleRow(Base):
    """One digest schedule per channel, stored so it survives restarts."""

    __tablename__ = "digest_schedules"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class DigestRunRow(Base):
    """A digest posted (or being posted) for one fire time; the unique key makes it once."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("channel_id", "fire_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    fire_time: Mapped[datetime]
    posted_at: Mapped[datetime]


class ReminderRow(Base):
    """A reminder already sent (approval nudges, overdue Dev work): the key makes it once."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(120))
    sent_at: Mapped[datetime]


class ProcessedRequestRow(Base):
    """Slack deliveries already handled (event_id or trigger_id): a retry is not applied twice."""

    __tablename__ = "processed_requests"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
