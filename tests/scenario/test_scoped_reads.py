"""Cost follows scope: a channel's digest reads its own use cases only, filtered in SQL.

Not timed (benchmarks/ measure time): the statements a digest sends are captured and read for
what they name. Two channels hold the same kinds of things —
use cases with teams, phase changes, deployments finished and waiting, KPIs with targets
crossed — so a query that forgot its scope would name the other channel's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.dora_support import deploy_approved, real_simulator
from tests.scenario.helpers import post_text, posts

GENERAL, OPS = "CGENERAL", "COPS"
SCOPED_TABLES = ("use_cases", "deployments", "metric_points", "metric_crossings", "metric_targets",
                 "phase_changes", "team_members")


async def busy_channel(sim: Simulator, clock: ManualClock, channel: str, slugs: tuple[str, str]) -> None:
    sim.switch_channel(channel)
    sim.switch_user("alice")
    for slug in slugs:
        await sim.command(f'/usecase new {slug} "Use case {slug}"')
        await sim.command(f"/usecase team {slug} add @erin devops")
        await sim.command(f'/usecase advance {slug} "kick-off"')
        await sim.command(f"/metric target {slug} auc >= 0.85")
        await sim.command(f"/metric record {slug} auc 0.80")
        await sim.command(f"/metric record {slug} auc 0.90")  # crosses the target
    sim.switch_user("erin")
    await sim.command(f"/deploy {slugs[0]} 1.0.0")  # finished: alice approves
    sim.switch_user("alice")
    await press(sim, latest(sim), "deploy_approve")
    sim.switch_user("erin")
    await sim.command(f"/deploy {slugs[1]} 2.0.0")  # left waiting at the gate
    clock.advance(timedelta(hours=1))


@contextmanager
def statements(sim: Simulator) -> Iterator[list[tuple[str, Any]]]:
    """What is sent on the read-only connections, where a digest gathers (the deployment
    engine's and the outbox's own polling go on the main ones meanwhile)."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    engine = sim.app.db.read_engine
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def values(parameters: Any) -> set[str]:
    if isinstance(parameters, dict):
        parameters = parameters.values()
    return {str(v) for v in parameters or ()}


async def digest_in(sim: Simulator, clock: ManualClock, channel: str) -> tuple[str, list[tuple[str, Any]]]:
    """#general and #ops busy alike; ``/digest now`` in ``channel``: its text and statements."""
    await busy_channel(sim, clock, "general", ("churn", "fraud"))
    await busy_channel(sim, clock, "ops", ("pricing", "supply"))
    sim.switch_user("alice")
    sim.switch_channel(channel)
    with statements(sim) as seen:
        await sim.command("/digest now")
    [digest] = [p for p in posts(sim, sim.channel) if "BizDevOps digest" in post_text(p)]
    return post_text(digest), seen


async def test_a_channels_digest_names_only_that_channels_use_cases(
    sim: Simulator, clock: ManualClock,
) -> None:
    text, seen = await digest_in(sim, clock, "ops")
    assert "pricing" in text and "supply" in text and "churn" not in text and "fraud" not in text
    reads = [(sql, values(params)) for sql, params in seen
             if sql.lstrip().upper().startswith(("SELECT", "WITH"))
             and any(table in sql for table in SCOPED_TABLES)]
    assert len(reads) >= 10, [sql for sql, _ in reads]
    for sql, params in reads:
        assert not params & {GENERAL, "churn", "fraud"}, sql
        assert params & {OPS, "pricing", "supply"}, f"not narrowed to #ops: {sql} {params}"


async def test_a_channel_without_use_cases_gets_the_workspace_counted_in_sql(
    sim: Simulator, clock: ManualClock,
) -> None:
    text, seen = await digest_in(sim, clock, "data-science")
    assert "*4 use cases* · 🛠️ Dev 4" in text
    for slug in ("churn", "fraud", "pricing", "supply"):
        assert slug in text
    # Lists come cut to what the digest shows, with their length counted beside them.
    listing = [sql for sql, _ in seen if "count(*) OVER ()" in sql]
    assert len(listing) >= 4, listing
    assert all("LIMIT" in sql for sql in listing)


async def dora_statements(sim: Simulator, text: str) -> list[str]:
    """The statements ``/metric dora`` sends that read deployments (card and trend alike)."""
    with statements(sim) as seen:
        await sim.command(text)
    assert sim.fake.uploads and sim.fake.uploads[-1]["filename"] == "dora.png"
    return [sql for sql, _ in seen if "deployments" in sql]


async def test_the_dora_trend_costs_a_few_statements_whatever_the_deployments(
    settings: Settings, clock: ManualClock, tmp_path: Path,
) -> None:
    async with real_simulator(settings, clock, tmp_path) as sim:  # dry runs would count nothing
        await sim.command('/usecase new churn "Predict churn"')
        await sim.command("/usecase team churn add @erin devops")

        async def deploy(version: str) -> None:
            await deploy_approved(sim, clock, "churn", version, timedelta())
            clock.advance(timedelta(days=1))

        await deploy("1.0.0")
        few = await dora_statements(sim, "/metric dora churn")
        for minor in range(1, 7):
            await deploy(f"1.{minor}.0")
        many = await dora_statements(sim, "/metric dora churn")

    assert len(many) == len(few)
    # Two periods and four weekly buckets: per counts call, the totals, the failures, and a
    # lead-time median per window.
    assert len(many) <= (2 + 2) + (2 + 4), many
