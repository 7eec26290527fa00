"""`GET /metrics`: Prometheus text with requests, latency, outbox backlog and deployments."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press


async def _scrape(sim: Simulator) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    async with sim.http.get(f"{sim.base_url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


async def test_metrics_count_requests_and_deployments(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")
    await press(sim, latest(sim), "deploy_approve")

    scraped = await _scrape(sim)

    commands = scraped["bizdevops_requests_total"][(("kind", "command"), ("status", "200"))]
    assert commands == 3
    assert scraped["bizdevops_requests_total"][(("kind", "interaction"), ("status", "200"))] == 1
    assert scraped["bizdevops_handler_seconds_count"][(("kind", "command"),)] == 3
    assert scraped["bizdevops_deployments"][(("state", "succeeded"),)] == 1
    assert scraped["bizdevops_outbox_backlog"][()] == 0
