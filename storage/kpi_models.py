"""Tables of continuous KPIs: who pulled which fire time, and each source's health.

Kept beside ``storage/models.py``; ``storage/__init__.py`` imports both, so ``Base.metadata`` has them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


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
