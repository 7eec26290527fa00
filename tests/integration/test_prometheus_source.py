"""The Prometheus KPI source against a real Prometheus scraping an exporter the tests control."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest

from bot.domain.kpis import PrometheusSource, SourceFailure
from bot.sources.prometheus import PrometheusReader
from tests.servers import free_port
from tests.servers.prometheus import PrometheusServer

pytestmark = pytest.mark.prometheus
TIMEOUT = 10.0


@pytest.fixture
async def reader() -> AsyncIterator[PrometheusReader]:
    reader = PrometheusReader()
    yield reader
    await reader.close()


async def failure(reader: PrometheusReader, url: str, query: str, seconds: float = TIMEOUT) -> str:
    with pytest.raises(SourceFailure) as caught:
        await reader.read(PrometheusSource(url, query), seconds)
    return str(caught.value)


async def test_one_sample_is_the_value_and_follows_the_exporter(
        prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    prometheus_server.set("kpi_auc", 0.87, use_case="churn")
    source = PrometheusSource(prometheus_server.url + "/", 'kpi_auc{use_case="churn"}')
    assert await reader.read(source, TIMEOUT) == 0.87

    prometheus_server.set("kpi_auc", 0.91, use_case="churn")
    assert await reader.read(source, TIMEOUT) == 0.91


async def test_an_aggregation_to_one_sample_and_a_scalar_are_values(
        prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    prometheus_server.set("kpi_orders", 3, shop="a", wait=False)
    prometheus_server.set("kpi_orders", 4, shop="b")
    assert await reader.read(PrometheusSource(prometheus_server.url, "sum(kpi_orders)"), TIMEOUT) == 7
    assert prometheus_server.query("scalar(sum(kpi_orders))")["resultType"] == "scalar"
    assert await reader.read(PrometheusSource(prometheus_server.url, "scalar(sum(kpi_orders))"),
                             TIMEOUT) == 7
    assert await reader.read(PrometheusSource(prometheus_server.url, "2 * 21"), TIMEOUT) == 42


async def test_no_sample_fails_naming_the_count(
        prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    reason = await failure(reader, prometheus_server.url, 'kpi_never_exported{use_case="churn"}')
    assert reason == "the query returned 0 samples; it must return exactly one"


async def test_two_samples_fail_naming_the_count_and_the_series(
        prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    prometheus_server.set("kpi_latency", 0.2, region="eu", wait=False)
    prometheus_server.set("kpi_latency", 0.3, region="us")
    reason = await failure(reader, prometheus_server.url, "kpi_latency")
    assert reason.startswith("the query returned 2 samples (kpi_latency{")
    assert 'region="eu"' in reason and 'region="us"' in reason
    assert reason.endswith("; it must return exactly one")


async def test_a_range_vector_fails_as_a_matrix(
        prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    prometheus_server.set("kpi_range", 1.0)
    reason = await failure(reader, prometheus_server.url, "kpi_range[1m]")
    assert reason.startswith("the query returned a matrix; it must return one sample")


async def test_nan_and_infinity_fail(prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    prometheus_server.set("kpi_broken", math.nan)
    reason = await failure(reader, prometheus_server.url, "kpi_broken")
    assert reason.startswith('the series kpi_broken{instance="127.0.0.1:')
    assert reason.endswith(" is NaN; a KPI must be a finite number")
    assert await failure(reader, prometheus_server.url, "1/0") == (
        "the scalar is +Inf; a KPI must be a finite number")


async def test_bad_promql_gives_the_servers_error(
        prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    reason = await failure(reader, prometheus_server.url, "sum(kpi_auc")
    assert reason.startswith("Prometheus answered HTTP 400: bad_data: ")
    assert "parse error" in reason


async def test_a_wrong_path_says_what_came_back(
        prometheus_server: PrometheusServer, reader: PrometheusReader) -> None:
    reason = await failure(reader, prometheus_server.url + "/nothing-here", "up")
    assert reason.startswith("Prometheus answered HTTP 404, not with a query result: ")


async def test_unreachable_names_host_and_port_never_the_password(reader: PrometheusReader) -> None:
    port = free_port()
    reason = await failure(reader, f"http://kpi-reader:hunter2@127.0.0.1:{port}", "up")
    assert reason.startswith(f"cannot reach Prometheus at 127.0.0.1:{port}: ")
    assert "hunter2" not in reason and "kpi-reader" not in reason


async def test_a_server_that_never_answers_times_out(reader: PrometheusReader) -> None:
    release = asyncio.Event()

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()  # accepts the connection, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reason = await failure(reader, f"http://127.0.0.1:{port}", "up", seconds=0.3)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert reason == f"Prometheus at 127.0.0.1:{port} did not answer within 0.3 s"


async def test_not_a_web_url_fails(reader: PrometheusReader) -> None:
    assert await failure(reader, "file:///etc/passwd", "up") == "the Prometheus URL is not an http(s) URL"
