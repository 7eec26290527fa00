"""`POST /api/v1/deployments` and `GET /api/v1/deployments/<id>`: CI starts and follows a
deployment with a ``deployments:write`` token, acting for a Slack user (SPEC "Deployments API").

A start goes through exactly what `/deploy <slug> <version> [pipeline=<name>]` goes through, as
``requested_by`` (who sees the use case, who may start its pipeline, archived, locked, one still
active, freezes, a gate nobody else could pass): the same service, and its refusals in the
command's own words as plain text — 403 for who, 409 for the state, 404 for an unknown use case
or pipeline, 400 for the shape. A retried POST starts nothing twice while the first is active: it is refused
(409) naming the active deployment. The shapes are handlers/openapi.yaml's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.domain.changes import Change, ChangeKind
from bot.domain.deploy_results import DeploymentShown
from bot.domain.deployment_model import Deployment
from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.domain.safe_text import control_character, web_url
from bot.domain.usecases import SLUG_RE
from bot.log_events import get_logger
from bot.pipelines.checks import NAME_RE as PIPELINE_RE
from bot.render import refusals
from bot.services.commands import Actor, DeploymentStatus, StartDeployment
from bot.services.deployments import DeploymentService
from bot.services.tokens import TokenService
from bot.services.use_case_lookup import UnknownUseCase
from bot.services.usecases import UseCaseService
from handlers.api_tokens import bearer
from handlers.api_values import BadInput, plausible, rfc3339
from handlers.grammar.deploy_grammar import VERSION_RE
from handlers.grammar.parsing import parse_id

log = get_logger(__name__)

SCOPE = "deployments:write"
FIELDS = ("use_case", "version", "pipeline", "commit", "changed_at", "url", "requested_by")
USER_RE = re.compile(r"[UW][A-Z0-9]{2,30}")      # a Slack user ID, as Slack writes them
SHA_RE = re.compile(r"[0-9a-fA-F]{7,40}")        # a commit: its full sha, or at least 7 of it



def register(web_app: web.Application, tokens: TokenService, deployments: DeploymentService,
             use_cases: UseCaseService, public_url: str, clock: Clock) -> None:
    api = DeploymentsApi(tokens, deployments, use_cases, public_url.rstrip("/"), clock)
    web_app.router.add_post("/api/v1/deployments", api.start)
    web_app.router.add_get("/api/v1/deployments/{id}", api.show)


@dataclass(frozen=True)
class DeploymentsApi:
    tokens: TokenService
    deployments: DeploymentService
    use_cases: UseCaseService
    base: str  # the public URL status_url starts with ("": the request's own origin)
    clock: Clock

    async def start(self, request: web.Request) -> web.Response:
        token = await bearer(request, self.tokens, SCOPE)
        if isinstance(token, web.Response):
            return token
        try:
            command, requested_by = _start(await request.read(), token.name, self.clock.now())
        except BadInput as bad:
            return _refused(request, 400, str(bad))
        actor = Actor(requested_by, "", requested_by in self.deployments.admins)
        try:
            await self.use_cases.ensure_seen(command.slug, actor)  # as `/deploy` asks first
            started = await self.deployments.start(command, actor)
        except DomainError as refused:
            words = refusals.plain(refused, admins_configured=self.deployments.admins_configured)
            return _refused(request, _status(refused), words)
        log.info("api_deploy", token=token.name, requested_by=requested_by, use_case=command.slug,
                 deployment_id=started.deployment_id)
        where = self.status_url(request, started.deployment_id)
        return web.json_response({"id": started.deployment_id, "status_url": where}, status=201,
                                 headers={"Location": where})

    async def show(self, request: web.Request) -> web.Response:
        token = await bearer(request, self.tokens, SCOPE)
        if isinstance(token, web.Response):
            return token
        deployment_id = parse_id(request.match_info["id"])
        if deployment_id is None:
            return _refused(request, 404, f"There is no deployment {request.match_info['id'][:40]!r}.")
        try:
            shown = await self.deployments.status(DeploymentStatus(deployment_id=deployment_id))
        except DomainError as refused:
            return _refused(request, 404, refusals.plain(refused))
        assert isinstance(shown, DeploymentShown)  # asked by id: that deployment
        return web.json_response(as_json(shown.deployment, self.status_url(request, deployment_id)))

    def status_url(self, request: web.Request, deployment_id: int) -> str:
        return f"{self.base or request.url.origin()}/api/v1/deployments/{deployment_id}"


def _status(refused: DomainError) -> int:
    """Who (403), the state (409), a use case or pipeline there is none of (404), else the
    shape (400)."""
    if isinstance(refused, NotAllowed):
        return 403
    if isinstance(refused, Conflict):
        return 409
    return 404 if isinstance(refused, UnknownUseCase) or refused.key == "unknown_pipeline" else 400


def _refused(request: web.Request, status: int, error: str) -> web.Response:
    log.info("api_refused", status=status, path=request.path[:200])
    return web.json_response({"error": error}, status=status)


# ── the request ────────────────────────────────────────────────────────────────────────────

def _start(raw: bytes, token: str, now: datetime) -> tuple[StartDeployment, str]:
    """The command a body asks for and the user it acts for; BadInput names the field."""
    body = _object(raw)
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadInput(f"{unknown[0][:40]}: unknown field; the fields are {', '.join(FIELDS)}")
    slug = _text(body, "use_case", SLUG_RE, "a use case's slug, e.g. churn-model")
    version = _text(body, "version", VERSION_RE, "up to 64 letters, digits and ._+-, e.g. 1.4.0")
    requested_by = _text(body, "requested_by", USER_RE, "a Slack user ID, e.g. U0123ABCD")
    pipeline = _text(body, "pipeline", PIPELINE_RE, "a pipeline's name", required=False)
    return StartDeployment(slug, version, pipeline or None, change=_change(body, now),
                           api_token=token), requested_by


def _object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, NaN, too deep, a huge number
        raise BadInput("the body is not JSON: send a JSON object with use_case, version and "
                       "requested_by") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object with use_case, version and requested_by")
    return body


def _no_constant(name: str) -> None:
    raise ValueError(name)


def _text(body: dict[str, Any], key: str, pattern: re.Pattern[str], what: str, *,
          required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadInput(f"{key}: {'required, ' if value is None else ''}expected {what}")
    return value


def _change(body: dict[str, Any], now: datetime) -> Change | None:
    """``commit`` (with its time and link, when given) as what the version is."""
    commit, at, url = body.get("commit"), body.get("changed_at"), body.get("url")
    if commit is None:  # absent or null; changed_at and url (even null) come only with it
        if at is not None or url is not None or {"changed_at", "url"} & body.keys():
            raise BadInput("commit: required with changed_at or url (they are the commit's)")
        return None
    if not isinstance(commit, str) or not SHA_RE.fullmatch(commit):
        raise BadInput("commit: expected a commit's sha, 7 to 40 hexadecimal digits")
    if url is not None and (web_url(url) is None or control_character(url)):
        raise BadInput("url: expected an http(s) URL without spaces, control characters, <, > or |")
    return Change(ChangeKind.COMMIT, commit.lower(), _changed_at(at, now), url)


def _changed_at(raw: object, now: datetime) -> datetime | None:
    return None if raw is None else plausible(rfc3339(raw, "changed_at"), now, "changed_at")


# ── the answer ─────────────────────────────────────────────────────────────────────────────

def _time(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_json(d: Deployment, status_url: str) -> dict[str, Any]:
    """A deployment as `GET /api/v1/deployments/<id>` answers (handlers/openapi.yaml)."""
    change = d.change
    return {
        "id": d.id, "use_case": d.use_case, "version": d.version, "pipeline": d.pipeline,
        "kind": d.kind, "state": d.state.value, "dry_run": d.dry_run,
        "requested_by": d.requested_by, "requested_at": _time(d.requested_at),
        "finished_at": _time(d.finished_at),
        "change": None if change is None else {
            "kind": change.kind.value, "ref": change.ref, "short": change.short,
            "at": _time(change.at), "url": web_url(change.url)},
        "stages": [{"name": s.name, "state": s.state.value, "started_at": _time(s.started_at),
                    "finished_at": _time(s.finished_at), "url": web_url(s.url)} for s in d.stages],
        "versions": [{"version": r.version, "targets": len(r.targets), "since": _time(r.since)}
                     for r in d.production],
        "links": {"self": status_url},
    }
