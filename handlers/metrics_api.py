"""`POST /api/v1/metrics`: pipelines push KPI values with a bearer token.

One JSON object or a list of up to 1000, stored in one transaction — all or nothing. Every
refusal is a 400 with ``{"error": "..."}`` naming the field (``items[3].value: ...``).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.domain import metrics as kpi
from bot.domain.usecases import DomainError, validate_slug
from bot.render import refusals
from bot.services.metrics import MetricService, NewPoint
from bot.services.tokens import TokenService
from handlers.api_tokens import bearer
from handlers.api_values import BadInput, plausible

MAX_BATCH = 1000
# Clocks drift a little; a value from further in the future is a mistake (SPEC: 60 s).



def register(web_app: web.Application, tokens: TokenService, metrics: MetricService,
             clock: Clock) -> None:
    async def push(request: web.Request) -> web.Response:
        token = await bearer(request, tokens, "metrics:write")
        if isinstance(token, web.Response):
            return token
        try:
            body = _json(await request.read())
            items, single = (body, False) if isinstance(body, list) else ([body], True)
            if not 1 <= len(items) <= MAX_BATCH:
                raise BadInput(f"send one object or a list of 1 to {MAX_BATCH}")
            points = [_point(item, f"items[{i}]." if not single else "", clock.now())
                      for i, item in enumerate(items)]
            await metrics.push(points, token.name)
        except BadInput as bad:
            return web.json_response({"error": str(bad)}, status=400)
        except DomainError as refused:
            return web.json_response({"error": refusals.said(refused)}, status=400)
        except LookupError as unknown:
            return web.json_response({"error": f"use_case: no use case {unknown.args[0]!r}"},
                                     status=400)
        stored = [_as_json(p) for p in points]
        return web.json_response(stored[0] if single else stored, status=201)

    web_app.router.add_post("/api/v1/metrics", push)


NOT_FINITE = object()  # what NaN / Infinity in the body become, to be refused with their path


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=lambda _name: NOT_FINITE)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # also: nested too deep
        raise BadInput("the body is not JSON") from None
    except ValueError:  # Python reads integers of at most 4300 digits
        raise BadInput("the body is not JSON we can read: a number has more than 4300 digits") from None


def _point(item: Any, at_path: str, now: datetime) -> NewPoint:
    if not isinstance(item, dict):
        raise BadInput(f"{at_path.rstrip('.') or 'body'}: expected a JSON object")
    unknown = set(item) - {"use_case", "name", "value", "unit", "at"}
    if unknown:
        raise BadInput(f"{at_path}{sorted(unknown)[0]}: unknown field")
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        raise BadInput(f"{at_path}value: must be a finite number")
    return NewPoint(
        use_case=_field(item, "use_case", at_path, validate_slug),
        name=_field(item, "name", at_path, kpi.validate_name),
        value=float(value),
        unit=_field(item, "unit", at_path, kpi.validate_unit, required=False),
        at=_at(item.get("at"), at_path, now),
    )


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))  # a 400-digit integer overflows float()
    except OverflowError:
        return False


def _field(item: dict[str, Any], key: str, at_path: str, check: Any, *, required: bool = True) -> str:
    value = item.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value):
        raise BadInput(f"{at_path}{key}: must be a non-empty string" if required
                       else f"{at_path}{key}: must be a string")
    try:
        return str(check(value))
    except DomainError as bad:
        raise BadInput(f"{at_path}{key}: {refusals.said(bad)}") from None


def _at(raw: Any, at_path: str, now: datetime) -> datetime:
    if raw is None:
        return now
    try:
        at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{at_path}at: expected an ISO 8601 time like 2026-11-27T09:00:00Z") from None
    if at.tzinfo is None:
        raise BadInput(f"{at_path}at: give a time zone, e.g. 2026-11-27T09:00:00Z")
    try:
        at = at.astimezone(UTC)
    except OverflowError:
        raise BadInput(f"{at_path}at: is out of range") from None
    return plausible(at, now, f"{at_path}at")


def _as_json(p: NewPoint) -> dict[str, Any]:
    return {"use_case": p.use_case, "name": p.name, "value": p.value, "unit": p.unit,
            "at": p.at.isoformat()}
