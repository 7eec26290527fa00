"""A real Prometheus (Debian's ``/usr/bin/prometheus``) scraping an exporter the tests control.

``prometheus_server`` (session-scoped) starts the exporter (prometheus_client's HTTP server on a
free loopback port, with gauges the tests set) and Prometheus on another free port, scraping it
every second; it yields once the first scrape has landed. Tests set a value with
:meth:`PrometheusServer.set`, which returns once Prometheus has scraped it.
"""

from __future__ import annotations

import math
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric

from tests.servers import free_port, http_json, stop, unavailable, wait_for

BINARY = os.environ.get("BIZDEVOPS_PROMETHEUS_BIN", "/usr/bin/prometheus")
REQUIRE = "BIZDEVOPS_REQUIRE_PROMETHEUS"
JOB = "exporter"
CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: {job}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""
# A target that wants a bearer token (the bot's GET /metrics with BIZDEVOPS_METRICS_TOKEN set).
BEARER = """    authorization:
      type: Bearer
      credentials: {token}
"""

Labels = tuple[tuple[str, str], ...]


class Gauges:
    """The exporter's samples: any gauge name, any labels, set and removed by the tests."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, Labels], float] = {}
        self._lock = threading.Lock()

    def set(self, name: str, value: float, labels: Labels = ()) -> None:
        with self._lock:
            self._values[name, labels] = value

    def remove(self, name: str, labels: Labels = ()) -> None:
        with self._lock:
            self._values.pop((name, labels), None)

    def collect(self) -> Iterator[Metric]:  # called by prometheus_client on every scrape
        with self._lock:
            values = dict(self._values)
        families: dict[str, Metric] = {}
        for (name, labels), value in sorted(values.items()):
            family = families.setdefault(name, Metric(name, "set by a test", "gauge"))
            family.add_sample(name, dict(labels), value)
        yield from families.values()


@dataclass
class PrometheusServer:
    url: str                     # http://127.0.0.1:<port>, what a PrometheusSource points at
    exporter_url: str
    gauges: Gauges = field(repr=False)

    def query(self, promql: str) -> dict[str, Any]:
        """``/api/v1/query``'s ``data`` (resultType and result), straight from the server."""
        status, answer = http_json("GET", f"{self.url}/api/v1/query", params={"query": promql})
        assert status == 200 and answer["status"] == "success", answer
        return dict(answer["data"])

    def samples(self, promql: str) -> list[dict[str, Any]]:
        return list(self.query(promql)["result"])

    def set(self, name: str, value: float, *, wait: bool = True, timeout: float = 15.0,
            **labels: str) -> None:
        """Set a gauge and return once Prometheus has scraped that value (at once without
        ``wait``: a scrape that shows a later ``set`` shows this one too)."""
        key = tuple(sorted(labels.items()))
        self.gauges.set(name, value, key)
        if not wait:
            return
        selector = name + "{" + ",".join(f'{k}="{v}"' for k, v in key) + "}"
        self.wait_until(selector, lambda found: len(found) == 1 and _same(found[0], value), timeout)

    def remove(self, name: str, **labels: str) -> None:
        """Stop exporting a sample (Prometheus marks it stale at its next scrape)."""
        self.gauges.remove(name, tuple(sorted(labels.items())))

    def wait_until(self, promql: str, done: Callable[[list[dict[str, Any]]], bool],
                   timeout: float = 15.0) -> list[dict[str, Any]]:
        def check() -> list[dict[str, Any]] | None:
            found = self.samples(promql)
            return found if done(found) else None
        return wait_for(check, timeout=timeout, what=f"Prometheus answering {promql!r} as expected")


def _same(sample: dict[str, Any], value: float) -> bool:
    got = float(sample["value"][1])
    return math.isnan(got) if math.isnan(value) else got == value


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    if not os.access(BINARY, os.X_OK):
        unavailable(f"Prometheus not installed at {BINARY} (Debian: apt-get install prometheus)", REQUIRE)
    gauges = Gauges()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(gauges)  # type: ignore[arg-type]  # a collector is anything with collect()
    exporter, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        with _prometheus(tmp_path_factory.mktemp("prometheus"), exporter.server_port) as url:
            yield PrometheusServer(url, f"http://127.0.0.1:{exporter.server_port}", gauges)
    finally:
        exporter.shutdown()
        exporter.server_close()
        thread.join(5)


@contextmanager
def _prometheus(home: Path, exporter_port: int, *, token: str = "") -> Iterator[str]:
    """Prometheus on a free port with its data in ``home``; yields its URL once it has scraped
    (with ``token``: sent as a bearer token with every scrape)."""
    config, log = home / "prometheus.yml", home / "prometheus.log"
    config.write_text(CONFIG.format(job=JOB, port=exporter_port)
                      + (BEARER.format(token=token) if token else ""))
    port = free_port()
    command = [BINARY, f"--config.file={config}", f"--storage.tsdb.path={home / 'data'}",
               f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_json("GET", f"{url}/-/ready")[0] == 200 or None, timeout=60,
                 what=f"Prometheus ready on {url}", process=process, log=log)
        up = f'up{{job="{JOB}"}} == 1'
        wait_for(lambda: _scraped(url, up), timeout=30, what="Prometheus's first scrape of the exporter",
                 process=process, log=log)
        yield url
    finally:
        stop(process)


def scrape_once(home: Path, port: int, promql: str, *, token: str = "") -> list[dict[str, Any]]:
    """Start Prometheus against ``127.0.0.1:port``'s ``/metrics``, wait for its first scrape
    to succeed (``up == 1``), answer ``promql`` and stop it."""
    if not os.access(BINARY, os.X_OK):
        unavailable(f"Prometheus not installed at {BINARY} (Debian: apt-get install prometheus)", REQUIRE)
    with _prometheus(home, port, token=token) as url:
        status, answer = http_json("GET", f"{url}/api/v1/query", params={"query": promql})
        assert status == 200 and answer["status"] == "success", answer
        return list(answer["data"]["result"])


def _scraped(url: str, query: str) -> bool | None:
    status, answer = http_json("GET", f"{url}/api/v1/query", params={"query": query})
    return True if status == 200 and answer and answer["data"]["result"] else None
