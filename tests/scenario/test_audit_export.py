"""`GET /api/v1/audit`: who did what, when — one row per audit event, CSV or JSON Lines, filtered
by time and use case, for a token with `audit:read` (SPEC "Audit export"). On SQLite and
PostgreSQL, through the running app."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from bot.domain.audit import AuditEvent, AuditFilter
from bot.render.audit_words import csv_lines, json_lines
from bot.services.audit import AuditExport
from bot.services.tokens import TokenService
from bot.simulator.simulator import Simulator
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.test_private_use_cases import SECRET, with_deals

COLUMNS = ["at", "actor", "use_case", "deployment_id", "action", "detail"]


async def token(sim: Simulator, *scopes: str) -> str:
    return await TokenService(sim.app.db.uow, sim.clock).create("-".join(scopes).replace(":", "-"),
                                                                 scopes)


async def get(sim: Simulator, query: str, secret: str | None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    async with sim.http.get(f"{sim.base_url}/api/v1/audit{query}", headers=headers) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def released(sim: Simulator) -> None:
    """erin deploys churn 1.0.0; alice approves it three minutes later; fraud is only created."""
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command('/usecase new fraud "Spot fraud"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")
    sim.clock.advance(timedelta(minutes=3))
    await press(sim, latest(sim), "deploy_approve")
    await sim.app.settle()


def ids(sim: Simulator, *names: str) -> list[str]:
    found = [sim.fake.user(name) for name in names]
    return [u.id for u in found if u is not None]


async def test_who_approved_what_when_as_json_lines_and_csv(sim: Simulator) -> None:
    await released(sim)
    secret = await token(sim, "audit:read")
    status, kind, body = await get(sim, "?format=json", secret)
    assert (status, kind.split(";")[0]) == (200, "application/x-ndjson")
    every: list[dict[str, Any]] = [json.loads(line) for line in body.splitlines()]
    erin, alice = ids(sim, "erin", "alice")
    created = [r for r in every if r["action"] == "phase_changed"]
    assert [(r["use_case"], r["actor"], r["deployment_id"], r["detail"]) for r in created] == [
        ("churn", alice, None, "created in Biz"), ("fraud", alice, None, "created in Biz")]
    rows = [r for r in every if r["deployment_id"] is not None]
    assert rows[0]["action"] == "requested" and rows[0]["actor"] == erin
    assert rows[0]["detail"] == "requested: 1.0.0 via default" and rows[0]["use_case"] == "churn"
    [approved] = [r for r in rows if r["action"] == "approved"]
    assert (approved["actor"], approved["detail"]) == (alice, "deploy")
    assert rows[-1]["action"] == "succeeded" and rows[-1]["detail"] == "dry run: nothing was deployed"
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows) and rows[0]["at"].endswith("Z")
    assert {r["deployment_id"] for r in rows} == {rows[0]["deployment_id"]}

    status, kind, body = await get(sim, "", secret)  # CSV by default, with a header
    table = list(csv.reader(io.StringIO(body)))
    assert (status, kind.split(";")[0], table[0]) == (200, "text/csv", COLUMNS)
    assert [row[4] for row in table[1:]] == [r["action"] for r in every]
    assert table[1][3] == ""  # a phase change belongs to no deployment


async def test_filters_by_use_case_and_time(sim: Simulator) -> None:
    await released(sim)
    secret = await token(sim, "audit:read")
    _, _, body = await get(sim, "?format=json&use_case=fraud", secret)
    assert [json.loads(line)["action"] for line in body.splitlines()] == ["phase_changed"]
    _, _, churn = await get(sim, "?format=json&use_case=churn", secret)
    _, _, everything = await get(sim, "?format=json", secret)
    rows = [json.loads(line) for line in everything.splitlines()]
    requested_at = next(r["at"] for r in rows if r["action"] == "requested")
    _, _, later = await get(sim, f"?format=json&since={requested_at}", secret)
    _, _, until = await get(sim, f"?format=json&until={requested_at}", secret)
    after = [json.loads(line) for line in later.splitlines()]
    before = [json.loads(line) for line in until.splitlines()]
    assert {json.loads(line)["use_case"] for line in churn.splitlines()} == {"churn"}
    assert after[0]["action"] == "approved" and all(r["at"] > requested_at for r in after)
    assert "requested" in [r["action"] for r in before]
    assert all(r["at"] <= requested_at for r in before)
    assert before + after == rows  # since is exclusive, until inclusive: nothing lost, nothing twice
    _, _, empty_csv = await get(sim, "?use_case=fraud&since=2030-01-01T00:00:00Z", secret)
    assert empty_csv.splitlines() == [",".join(COLUMNS)]


async def test_who_may_read_it_and_what_a_bad_query_hears(sim: Simulator) -> None:
    await released(sim)
    assert (await get(sim, "", None))[0] == 401
    status, _, body = await get(sim, "", await token(sim, "metrics:write"))
    assert status == 403 and "audit:read" in json.loads(body)["error"]
    secret = await token(sim, "audit:read")
    for query, says in (("?format=xml", "format: expected csv or json"),
                        ("?since=yesterday", "since: expected an RFC 3339 time"),
                        ("?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until: must be after"),
                        ("?use_case=Not%20a%20slug", "use_case:"),
                        ("?who=me", "unknown parameter 'who'")):
        status, _, body = await get(sim, query, secret)
        assert status == 400 and says in json.loads(body)["error"], (query, body)


async def test_an_export_is_read_a_page_at_a_time_and_misses_nothing(sim: Simulator) -> None:
    await released(sim)
    sim.switch_user("erin")  # alice's own could never pass its gate: refused up front
    for deployment, version in ((2, "1.1.0"), (3, "1.2.0")):
        await sim.command(f"/deploy churn {version}")
        await sim.command(f'/deploy cancel {deployment} "wrong model"')
    whole = AuditExport(sim.app.db.reads, page=1000)
    paged = AuditExport(sim.app.db.reads, page=3)
    everything = [e for page in [p async for p in whole.pages(AuditFilter())] for e in page]
    pages = [p async for p in paged.pages(AuditFilter())]
    assert all(len(p) <= 3 for p in pages) and len(pages) > 2
    assert [e.id for p in pages for e in p] == [e.id for e in everything]
    assert len({e.deployment_id for e in everything if e.deployment_id}) == 3
    assert [e.detail for e in everything if e.action == "cancelled"] == ["wrong model"] * 2


async def test_a_token_exports_no_use_case_of_a_private_channel(sim: Simulator) -> None:
    """Only a private channel's members see its use cases (SPEC "Guarantees"): a token is no
    member; a signed-in member exports them (tests/scenario/test_web_sign_in.py)."""
    await with_deals(sim)
    secret = await token(sim, "audit:read")
    _, _, body = await get(sim, "?format=json", secret)
    rows = [json.loads(line) for line in body.splitlines()]
    assert {r["use_case"] for r in rows} == {"churn"} and SECRET not in body
    _, _, none = await get(sim, "?format=json&use_case=pricing", secret)
    assert none == ""


async def test_a_reason_typed_like_a_formula_stays_text_in_a_spreadsheet(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")  # waits at the gate for alice
    await sim.command('/deploy cancel 1 "=HYPERLINK(""http://evil.example"",""x"")"')
    secret = await token(sim, "audit:read")
    _, _, body = await get(sim, "", secret)
    assert "deploy: =HYPERLINK(" in body  # after the stage's name: text already
    # A reason with no stage before it (an override's, a cancel before any stage ran) comes
    # first in its cell: the apostrophe keeps it text.
    typed = AuditEvent(1, sim.clock.now(), "UERIN", "churn", 1, "cancelled", None, None,
                       '=HYPERLINK("http://evil.example","x")')
    [_, row] = list(csv.reader(io.StringIO(csv_lines([typed], "UTC", header=True))))
    assert row[5] == """'=HYPERLINK("http://evil.example","x")"""
    assert json.loads(json_lines([typed], "UTC"))["detail"].startswith("=HYPERLINK(")  # data


async def test_empty_parameters_are_no_filter_and_no_one_caches_the_export(sim: Simulator) -> None:
    await released(sim)
    secret = await token(sim, "audit:read")
    status, kind, body = await get(sim, "?since=&until=&use_case=&format=", secret)
    assert (status, kind.split(";")[0]) == (200, "text/csv")
    assert body == (await get(sim, "", secret))[2]
    headers = {"Authorization": f"Bearer {secret}"}
    async with sim.http.get(f"{sim.base_url}/api/v1/audit", headers=headers) as response:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
