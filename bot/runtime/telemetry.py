"""`GET /metrics` in Prometheus text format, one registry per app (no global state).

Request counts and handler latency are this process's; the outbox backlog and deployments by
result are read from the database at scrape time, so every process reports the same truth.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
        self.retries = Gauge(
            "bizdevops_outbox_retries", "Delivery retries by this process", registry=self.registry
        )
        self.deployments = Gauge(
            "bizdevops_deployments", "Deployments by state", ["state"], registry=self.registry
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

    def route(self, web_app: web.Application, *, backlog: Callable[[], Awaitable[int]],
              retries: Callable[[], int], jobs: Callable[[], int],
              by_state: Callable[[], Awaitable[dict[str, int]]]) -> None:
        """``GET /metrics``: the gauges read when scraped, then everything in text format."""
        async def metrics(_request: web.Request) -> web.Response:
            self.backlog.set(await backlog())
            self.retries.set(retries())
            self.jobs.set(jobs())
            for state, count in (await by_state()).items():
                self.deployments.labels(state).set(count)
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
