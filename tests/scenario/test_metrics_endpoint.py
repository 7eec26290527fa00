"""`GET /metrics` scraped from the running app and read with prometheus_client's own parser:
the conventions (counters ``_total``, no ``_created``, seconds), the process and Python
collectors, build info, deployments by pipeline and result with their durations, Slack API
errors, KPI pulls, outbox retries, and the bearer token that guards it when set."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from subprocess import PIPE, STDOUT

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import ManualClock
from bot.config import Settings
from bot.runtime.telemetry import build_version
from bot.simulator.fake_slack import Fault
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.test_kpi_sources import Warehouse, kpi_sim
from tests.servers.prometheus import scrape_once

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]
TOKEN = "metrics-token-0123456789"


async def _text(sim: Simulator, headers: dict[str, str] | None = None) -> str:
    async with sim.http.get(f"{sim.base_url}/metrics", headers=headers or {}) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/plain")
        return await response.text()


def _samples(text: str) -> tuple[Samples, dict[str, str]]:
    """Each sample's value by name and labels; each family's type by name."""
    out: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out, types


async def _scrape(sim: Simulator, headers: dict[str, str] | None = None) -> tuple[Samples, dict[str, str]]:
    return _samples(await _text(sim, headers))


async def _approved_deployment(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")
    sim.clock.advance(timedelta(minutes=3))  # the approval takes three minutes
    await press(sim, latest(sim), "deploy_approve")


async def test_metrics_count_requests_and_deployments(sim: Simulator) -> None:
    await _approved_deployment(sim)

    scraped, types = await _scrape(sim)

    commands = scraped["bizdevops_requests_total"][(("kind", "command"), ("status", "200"))]
    assert commands == 3
    assert scraped["bizdevops_requests_total"][(("kind", "interaction"), ("status", "200"))] == 1
    assert scraped["bizdevops_handler_seconds_count"][(("kind", "command"),)] == 3
    ended = (("pipeline", "default"), ("result", "succeeded"))
    assert scraped["bizdevops_deployments_total"] == {ended: 1}
    assert types["bizdevops_deployments"] == "counter"
    assert scraped["bizdevops_deployment_duration_seconds_count"][ended] == 1
    assert scraped["bizdevops_deployment_duration_seconds_sum"][ended] == 180.0  # request to end
    buckets = scraped["bizdevops_deployment_duration_seconds_bucket"]
    assert buckets[(("le", "120.0"), *ended)] == 0
    assert buckets[(("le", "300.0"), *ended)] == 1
    assert scraped["bizdevops_deployments_active"] == {(("state", "awaiting_approval"),): 0,
                                                       (("state", "running"),): 0}
    assert scraped["bizdevops_outbox_backlog"][()] == 0
    assert scraped["bizdevops_outbox_retries_total"][()] == 0
    assert types["bizdevops_outbox_retries"] == "counter"


async def test_metrics_follow_the_conventions(sim: Simulator) -> None:
    await _approved_deployment(sim)
    text = await _text(sim)
    scraped, types = _samples(text)

    assert not [name for name in scraped if name.endswith("_created")], "no *_created series"
    for family in text_string_to_metric_families(text):
        if family.type == "counter":
            assert all(s.name.endswith("_total") for s in family.samples), family.name
    assert types["bizdevops_slack_api_errors"] == types["bizdevops_kpi_pulls"] == "counter"
    assert scraped["bizdevops_build_info"] == {(("version", build_version()),): 1}
    assert build_version() != "unknown"
    assert scraped["process_resident_memory_bytes"][()] > 0
    assert scraped["process_cpu_seconds_total"][()] >= 0
    assert any(labels for labels in scraped["python_info"])
    assert "python_gc_collections_total" in scraped
    assert not [n for n in scraped if n.endswith(("_milliseconds", "_ms", "_minutes"))], "base units"
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("BIZDEVOPS_REQUIRE_PROMETHEUS"):
            pytest.fail("promtool not installed (Debian: apt-get install prometheus)")
        pytest.skip("promtool not installed")
    linter = await asyncio.create_subprocess_exec(promtool, "check", "metrics", stdin=PIPE, stdout=PIPE,
                                                  stderr=STDOUT)
    said, _ = await asyncio.wait_for(linter.communicate(text.encode()), 30)
    assert linter.returncode == 0, said.decode()


async def test_slack_api_errors_and_outbox_retries_are_counted(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Churn"')
    sim.fake.inject("chat.postMessage", Fault(500), Fault(429, retry_after=0))
    sim.fake.inject("views.publish", Fault(status=200, error="invalid_auth"))
    await sim.command("/usecase advance churn")  # posts in the channel: the outage delays it
    await sim.open_home()
    for _ in range(10):
        clock.advance(timedelta(seconds=30))
        await sim.wait(0.05)

    scraped, _types = await _scrape(sim)

    errors = scraped["bizdevops_slack_api_errors_total"]
    assert errors[(("error", "internal_error"), ("method", "chat.postMessage"))] == 1
    assert errors[(("error", "ratelimited"), ("method", "chat.postMessage"))] == 1
    assert errors[(("error", "invalid_auth"), ("method", "views.publish"))] >= 1
    assert scraped["bizdevops_outbox_retries_total"][()] == 2


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    house = Warehouse(tmp_path / "warehouse.db")  # as tests/scenario/test_kpi_sources.py has it
    monkeypatch.setenv("TEST_WAREHOUSE_URL", house.url)
    return house


async def test_kpi_pulls_are_counted_by_result(
        settings: Settings, clock: ManualClock, tmp_path: Path, warehouse: Warehouse) -> None:
    async with kpi_sim(settings, clock, tmp_path) as sim:
        before, _types = await _scrape(sim)  # the pull at start-up (the one missed) is ok
        await sim.command("/metric pull churn auc")
        warehouse.drop()  # the source fails
        await sim.command("/metric pull churn auc")
        after, _types = await _scrape(sim)

    pulls = {labels: value - before["bizdevops_kpi_pulls_total"].get(labels, 0)
             for labels, value in after["bizdevops_kpi_pulls_total"].items()}
    assert pulls == {(("result", "ok"),): 1, (("result", "failed"),): 1}


async def test_a_metrics_token_guards_the_endpoint(settings: Settings, clock: ManualClock) -> None:
    async with Simulator(replace(settings, metrics_token=TOKEN), clock=clock) as sim:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                        {"Authorization": f"Basic {TOKEN}"}):
            async with sim.http.get(f"{sim.base_url}/metrics", headers=headers) as refused:
                assert refused.status == 401, headers
                assert refused.headers["WWW-Authenticate"] == "Bearer"
                assert "bizdevops_" not in await refused.text()
        scraped, _types = await _scrape(sim, {"Authorization": f"Bearer {TOKEN}"})
        assert scraped["bizdevops_requests_total"][(("kind", "/metrics"), ("status", "401"))] == 4


async def test_prometheus_scrapes_it_with_the_token(
        settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    """A real Prometheus, configured with the token as its scrape config would be in production."""
    async with Simulator(replace(settings, metrics_token=TOKEN), clock=clock) as sim:
        port = int(sim.base_url.rsplit(":", 1)[1].split("/")[0])
        found = await asyncio.to_thread(scrape_once, tmp_path, port, "bizdevops_build_info", token=TOKEN)
    assert [(r["metric"]["version"], r["value"][1]) for r in found] == [(build_version(), "1")]
