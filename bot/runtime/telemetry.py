"""`GET /metrics` in Prometheus text format, one registry per app, by Prometheus's conventions:
counters end in ``_total`` (no ``_created`` series), times are in seconds.

Counters and histograms are this process's (sum them over replicas): requests and handler
latency, deployments ended and how long they took (counted by the process that committed the
end, once), Slack API errors, KPI pulls, outbox retries. The outbox backlog and the deployments
in progress are read from the database at scrape time, so every process reports the same truth.
With ``BIZDEVOPS_METRICS_TOKEN`` set, a scrape must bring it as a bearer token.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterator
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot.services.events import DeploymentFinished

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Pipelines run for minutes to hours (an approval gate may wait a day): 30 s to 1 day.
DEPLOYMENT_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0,
                      28800.0, 86400.0)
ACTIVE_STATES = ("running", "awaiting_approval")


def build_version() -> str:
    try:
        return version("bizdevops-bot")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout never installed
        return "unknown"


class _Read(Collector):
    """A counter whose value another object keeps (read when scraped)."""

    def __init__(self, name: str, documentation: str, value: Callable[[], float]) -> None:
        self._family = (name, documentation)
        self._value = value

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(*self._family, value=self._value())


class Telemetry:
    def __init__(self, token: str = "") -> None:
        disable_created_metrics()  # process-wide; no *_created series beside any counter
        self.token = token
        self.registry = CollectorRegistry()
        self._process()
        self._outcomes()
        self.requests = Counter(
            "bizdevops_requests",
            "Requests by kind and HTTP result",
            ["kind", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bizdevops_handler_seconds",
            "Time to answer a request",
            ["kind"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 10.0),
        )
        self.backlog = Gauge(
            "bizdevops_outbox_backlog", "Messages waiting to be delivered", registry=self.registry
        )
        self.jobs = Gauge(
            "bizdevops_scheduler_jobs", "Scheduler jobs in this process", registry=self.registry
        )
        self.loop_lag = Histogram(
            "bizdevops_event_loop_lag_seconds",
            "How late the event loop ran a timer: the wait every answer adds to its own work",
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        self.heavy_waiting = Gauge(
            "bizdevops_heavy_jobs_waiting",
            "Heavy jobs (digests, DORA, KPI tables, Home) waiting for their turn in this process",
            registry=self.registry,
        )

    def _process(self) -> None:
        """The process (memory, CPU, files), Python (version, garbage collection), the build."""
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        Gauge("bizdevops_build_info", "The bot's version (always 1)", ["version"],
              registry=self.registry).labels(build_version()).set(1)

    def _outcomes(self) -> None:
        """What the bot did and how it went: deployments, Slack's errors, KPI pulls, retries."""
        self.deployments = Counter(
            "bizdevops_deployments", "Deployments ended, by pipeline and result",
            ["pipeline", "result"], registry=self.registry,
        )
        self.deployment_seconds = Histogram(
            "bizdevops_deployment_duration_seconds",
            "Time from a deployment's request to its end, by pipeline and result",
            ["pipeline", "result"], registry=self.registry, buckets=DEPLOYMENT_BUCKETS,
        )
        self.active = Gauge(
            "bizdevops_deployments_active", "Deployments in progress, by state", ["state"],
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "bizdevops_slack_api_errors", "Slack Web API calls that failed, by method and error",
            ["method", "error"], registry=self.registry,
        )
        self.kpi_pulls = Counter(
            "bizdevops_kpi_pulls", "KPI pulls, by result (ok, failed, no_use_case, error)",
            ["result"], registry=self.registry,
        )
        self.outbox_retries: Callable[[], int] = lambda: 0  # the worker's count, once routed
        self.registry.register(_Read("bizdevops_outbox_retries",
                                     "Deliveries this process put off to try again (429, 5xx, connection)",
                                     lambda: self.outbox_retries()))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        kind = await request_kind(request)
        try:
            response = await handler(request)
        except web.HTTPException as http_error:
            self.requests.labels(kind, str(http_error.status)).inc()
            raise
        self.latency.labels(kind).observe(time.perf_counter() - started)
        self.requests.labels(kind, str(response.status)).inc()
        return response

    def after_commit(self) -> dict[type, list[Callable[[DeploymentFinished], None]]]:
        """What it counts of what commits hand on (``bot.runtime.bus``)."""
        return {DeploymentFinished: [self.deployment_finished]}

    def deployment_finished(self, ended: DeploymentFinished) -> None:
        self.deployments.labels(ended.pipeline, ended.result).inc()
        self.deployment_seconds.labels(ended.pipeline, ended.result).observe(ended.seconds)

    def slack_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method, error).inc()

    def kpi_pulled(self, result: str) -> None:
        self.kpi_pulls.labels(result).inc()

    def allowed(self, request: web.Request) -> bool:
        """No token set: anyone may scrape; else ``Authorization: Bearer <token>``, compared in
        constant time."""
        if not self.token:
            return True
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                  self.token.encode())

    def route(self, web_app: web.Application, *, backlog: Callable[[], Awaitable[int]],
              retries: Callable[[], int], jobs: Callable[[], int],
              by_state: Callable[[], Awaitable[dict[str, int]]]) -> None:
        """``GET /metrics``: the gauges read when scraped, then everything in text format."""
        self.outbox_retries = retries

        async def metrics(request: web.Request) -> web.Response:
            if not self.allowed(request):
                return web.json_response({"error": "GET /metrics wants Authorization: Bearer <token>"},
                                         status=401, headers={"WWW-Authenticate": "Bearer"})
            self.backlog.set(await backlog())
            self.jobs.set(jobs())
            counts = await by_state()
            for state in ACTIVE_STATES:
                self.active.labels(state).set(counts.get(state, 0))
            return self.render()

        web_app.router.add_get("/metrics", metrics)

    def render(self) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


async def request_kind(request: web.Request) -> str:
    """command / interaction / event for Slack's endpoint; the route otherwise."""
    if request.path != "/slack/events":
        return request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
    body = await request.read()  # aiohttp keeps it: the bolt adapter reads it again
    if body.startswith(b"{"):
        return "event"
    # The form's field names, without decoding its values (bolt parses the whole form anyway).
    fields = {pair.partition(b"=")[0] for pair in body.split(b"&")}
    return "command" if b"command" in fields else "interaction" if b"payload" in fields else "other"
