"""The limits inputs are checked against are the widths of the columns they are stored in: a
column narrowed or an input widened alone would turn a usage error back into a 500 on PostgreSQL
(which, unlike SQLite, enforces VARCHAR lengths)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column

from bot.domain import metrics, usecases
from handlers.grammar.deploy_grammar import VERSION_RE
from handlers.grammar.digest_grammar import CRON_MAX, TZ_MAX
from handlers.grammar.parsing import SLACK_ID_MAX
from storage.kpi_models import MetricPointRow
from storage.models import (
    DeployLockRow,
    DeploymentRow,
    DigestScheduleRow,
    TeamMemberRow,
    UseCaseRow,
)


def _width(column: Column[str]) -> int:
    return int(column.type.length)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("column", "limit"), [
    (UseCaseRow.__table__.c.title, usecases.TITLE_MAX),
    (UseCaseRow.__table__.c.domain, usecases.DOMAIN_MAX),
    (UseCaseRow.__table__.c.slug, 40),  # SLUG_RE: 2-40
    (DigestScheduleRow.__table__.c.cron, CRON_MAX),
    (DigestScheduleRow.__table__.c.timezone, TZ_MAX),
    (MetricPointRow.__table__.c.unit, metrics.UNIT_MAX),
    (MetricPointRow.__table__.c.name, 64),  # NAME_RE: 1-64
    (DeploymentRow.__table__.c.version, 64),  # VERSION_RE: 1-64
])
def test_each_checked_input_fits_its_column(column: Column[str], limit: int) -> None:
    assert _width(column) == limit


@pytest.mark.parametrize("column", [
    UseCaseRow.__table__.c.owner_id, UseCaseRow.__table__.c.channel_id,
    UseCaseRow.__table__.c.created_by, TeamMemberRow.__table__.c.user_id,
    DeploymentRow.__table__.c.requested_by, DeploymentRow.__table__.c.channel_id,
    DeployLockRow.__table__.c.locked_by, DigestScheduleRow.__table__.c.channel_id,
])
def test_slack_ids_fit_every_column_that_holds_one(column: Column[str]) -> None:
    assert _width(column) == SLACK_ID_MAX


def test_the_patterns_agree_with_the_widths() -> None:
    assert usecases.SLUG_RE.pattern.endswith("{1,39}")
    assert metrics.NAME_RE.pattern.endswith("{0,63}") and VERSION_RE.pattern.endswith("{0,63}")
