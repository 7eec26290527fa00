"""A KPI from Prometheus: an instant query (``GET /api/v1/query``) that gives exactly one number."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.domain.kpis import PrometheusSource, SourceFailure
from bot.masking import mask, url_secrets
from bot.sources._http import Answer, clip, finite, is_web_url, obj, request_json, where

SHOWN_SERIES = 3  # a failure lists a few of the series that came back, not thousands


class PrometheusReader:
    """Reads :class:`PrometheusSource`; one HTTP session, opened on first use, for all servers."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def read(self, source: PrometheusSource, timeout: float) -> float:
        """The query's one value; :class:`SourceFailure` with a reason (no secret) otherwise."""
        secrets = url_secrets(source.url)
        try:
            async with asyncio.timeout(timeout):
                return await self._read(source)
        except TimeoutError:
            raise SourceFailure(f"Prometheus at {where(source.url)} did not answer within "
                                f"{timeout:g} s") from None
        except SourceFailure as failure:
            raise SourceFailure(mask(str(failure), secrets)) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _read(self, source: PrometheusSource) -> float:
        if not is_web_url(source.url):
            raise SourceFailure("the Prometheus URL is not an http(s) URL")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        url = source.url.rstrip("/") + "/api/v1/query"
        answer = await request_json(self._session, "GET", url, what="Prometheus",
                                    params={"query": source.query})
        return value_of(answer)


def value_of(answer: Answer) -> float:
    """The one finite number in a query's answer, or why there is none."""
    data = answer.data
    if not isinstance(data, dict) or "status" not in data:
        raise SourceFailure(f"Prometheus answered HTTP {answer.status}, not with a query result: "
                            f"{answer.text}")
    if data["status"] != "success" or answer.status >= 400:
        kind = data.get("errorType") or "error"
        raise SourceFailure(f"Prometheus answered HTTP {answer.status}: {kind}: "
                            f"{clip(str(data.get('error', '')))}")
    result = obj(data.get("data"))
    kind, found = result.get("resultType"), result.get("result")
    if kind == "vector" and isinstance(found, list):
        return _one_sample(found)
    if kind == "scalar" and isinstance(found, list) and len(found) == 2:
        return finite(found[1], "the scalar")
    if kind in ("matrix", "string"):
        raise SourceFailure(f"the query returned a {kind}; it must return one sample "
                            f"(an instant vector of one series, or a scalar)")
    raise SourceFailure(f"Prometheus answered an unknown result type {clip(str(kind), 40)!r}")


def _one_sample(samples: list[Any]) -> float:
    if len(samples) != 1:
        shown = ", ".join(_series(s) for s in samples[:SHOWN_SERIES])
        more = f" and {len(samples) - SHOWN_SERIES} more" if len(samples) > SHOWN_SERIES else ""
        listed = f" ({shown}{more})" if samples else ""
        raise SourceFailure(f"the query returned {len(samples)} samples{listed}; it must return exactly one")
    sample = obj(samples[0])
    pair = sample.get("value")
    if not isinstance(pair, list) or len(pair) != 2:
        raise SourceFailure("the query returned a sample without a value (a native histogram?)")
    return finite(pair[1], f"the series {_series(sample)}")


def _series(sample: object) -> str:
    labels = sample.get("metric") if isinstance(sample, dict) else None
    if not isinstance(labels, dict) or not labels:
        return "{}"
    name = str(labels.get("__name__", ""))
    pairs = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return clip(f"{name}{{{pairs}}}" if pairs else name, 120)
