"""Tables of KPIs: their points, targets and announced crossings; of continuous KPIs, who
pulled which fire time and each source's health; and the API tokens /api/v1 is called with
(pipelines push KPI values with them, CI starts deployments).

Kept beside ``storage/models.py``; ``storage/__init__.py`` imports both, so ``Base.metadata`` has them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class MetricPointRow(Base):
    """One KPI value. Queries go by (use case, name, time), so that is the index."""

    __tablename__ = "metric_points"
    __table_args__ = (
        Index("ix_metric_points_series", "use_case_id", "name", "at"),
        Index("ix_metric_points_at", "at"),  # KPIs that moved in the whole workspace
        Index("ix_metric_points_received", "use_case_id", "name", "received_at"),  # fresh ones
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_case_id: Mapped[int] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(String(32), default="")
    at: Mapped[datetime]
    received_at: Mapped[datetime]  # by the bot's clock: what "fresh" means (a pushed `at` may lie)
    recorded_by: Mapped[str] = mapped_column(String(80))  # a user ID, or "token:<name>"


class MetricTargetRow(Base):
    __tablename__ = "metric_targets"

    use_case_id: Mapped[int] = mapped_column(
        ForeignKey("use_cases.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    op: Mapped[str] = mapped_column(String(2))
    value: Mapped[float]
    set_by: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[datetime]
    # "met" / "missed" as of the latest value: a crossing is announced when this flips.
    state: Mapped[str | None] = mapped_column(String(8))


class MetricCrossingRow(Base):
    """A target crossing as it was announced: digests list these instead of replaying points."""

    __tablename__ = "metric_crossings"
    __table_args__ = (
        Index("ix_metric_crossings_use_case_at", "use_case_id", "at"),
        Index("ix_metric_crossings_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_case_id: Mapped[int] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    met: Mapped[bool]
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(String(32), default="")
    op: Mapped[str] = mapped_column(String(2))
    target: Mapped[float]


class KpiPullRow(Base):
    """One (KPI, fire time) claimed by the process that pulls it: the unique key makes it once."""

    __tablename__ = "kpi_pulls"
    __table_args__ = (UniqueConstraint("use_case_id", "name", "fire_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_case_id: Mapped[int] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    fire_time: Mapped[datetime]
    claimed_at: Mapped[datetime]


class KpiSourceStatusRow(Base):
    """A KPI source's health as of its latest pull; ``failing`` flips are announced once."""

    __tablename__ = "kpi_source_status"

    use_case_id: Mapped[int] = mapped_column(
        ForeignKey("use_cases.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    failing: Mapped[bool]
    last_run: Mapped[datetime | None]
    last_value: Mapped[float | None]
    error: Mapped[str] = mapped_column(Text, default="")
    since: Mapped[datetime | None]
    last_fire: Mapped[datetime | None]  # newest claimed fire time: start-up catch-up reads this


class ApiTokenRow(Base):
    """Tokens for /api/v1: only a SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    # What it may do, space-separated; tokens from before scopes could only push KPI values.
    scopes: Mapped[str] = mapped_column(String(200), default="metrics:write",
                                        server_default="metrics:write")
