"""A fake GitHub REST API for the github-actions executor, held to GitHub's own OpenAPI description.

The Actions endpoints: dispatch a workflow (``return_run_details``), get a run, cancel a run, get
a workflow (``check-config --online``);
and, in tests/servers/fake_github_repo.py, the repository's commits, its compare view and the
Deployments API (``repository``: one branch, its deployments and their statuses). Each run
goes queued → in_progress → completed (one step per GET) with the test's scripted conclusion,
or stays in progress while ``hold`` is set. ``limit`` answers the next requests 403/429 with
rate-limit headers; ``fail`` answers the next requests (to one operation, if named) with an
error status, or drops their connection unanswered.

Every request and every answer is checked against ``api.github.com.json`` of npm's
``@octokit/openapi`` (installed by ``scripts/tools.py github-openapi``) with openapi-core. A
request that breaks it is answered 500 with the reason; every problem is kept in ``errors``,
which the fixture asserts is empty at the end of each test.

openapi-core takes ~11 s to build the full 13 MB description, ~0.1 s for the few paths used
here with the components they reference (extracted once per session, unchanged).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from scripts import tools
from tests.servers import fake_github_repo, free_port, unavailable
from tests.servers.fake_github_repo import FakeRepo

REQUIRE = "BIZDEVOPS_REQUIRE_GITHUB_SPEC"
GITHUB = "https://api.github.com"  # the server the description names: requests are checked as if sent there
API_VERSION = "2022-11-28"
REPO = "/repos/{owner}/{repo}/actions"
PATHS = (f"{REPO}/workflows/{{workflow_id}}/dispatches", f"{REPO}/runs/{{run_id}}",
         f"{REPO}/runs/{{run_id}}/cancel", f"{REPO}/workflows/{{workflow_id}}", *fake_github_repo.PATHS)
# the names ``fail`` and ``limit`` take, in PATHS order
OPERATIONS = ("dispatch", "run", "cancel", "workflow", *fake_github_repo.OPERATIONS)
DROP = 0  # a fault's status that means: close the connection without an answer
LOST = -1  # ... that means: do what was asked, then close the connection without an answer
_REF = re.compile(r'"#/components/([^/"]+)/([^"]+)"')


def spec_path() -> Path:
    root = tools.github_openapi_dir()
    if not tools.github_openapi_ready(root):
        unavailable(f"no GitHub OpenAPI description at {root}; install it (seconds, npm) with "
                    "`python3 scripts/tools.py github-openapi`", REQUIRE)
    return tools.github_openapi_json(root)


@functools.cache
def load_spec(path: Path) -> tuple[dict[str, Any], Any]:
    """(the extracted description, openapi-core's OpenAPI of it): once per session."""
    try:
        from openapi_core import OpenAPI
    except ImportError:
        unavailable("openapi-core is not installed (pip install -e '.[test]')", REQUIRE)
    full = json.loads(path.read_text())
    return (sub := extract(full, PATHS)), OpenAPI.from_dict(copy.deepcopy(sub))


def extract(full: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """The description cut down to ``paths`` and every component they reach, as published."""
    sub: dict[str, Any] = {key: full[key] for key in ("openapi", "info", "servers")}
    sub["paths"] = {p: full["paths"][p] for p in paths}
    sub["components"] = {}
    todo, seen = [json.dumps(sub["paths"])], set()
    while todo:
        for kind, name in _REF.findall(todo.pop()):
            if (kind, name) not in seen:
                seen.add((kind, name))
                node = full["components"][kind][name]
                sub["components"].setdefault(kind, {})[name] = node
                todo.append(json.dumps(node))
    return sub


@dataclass
class _Request:
    """What openapi-core reads of a request (its ``Request`` protocol)."""

    method: str
    path: str
    body: bytes | None
    content_type: str
    parameters: Any
    host_url: str = GITHUB


@dataclass
class _Response:
    data: bytes
    status_code: int
    headers: Any
    content_type: str


class Validator:
    def __init__(self, path: Path) -> None:
        self.spec, self.api = load_spec(path)
        self.basic_error = self.spec["components"]["schemas"]["basic-error"]

    def request_problem(self, request: _Request, headers: Any) -> str:
        """"" when the request is one GitHub documents (and carries the headers it wants)."""
        from openapi_core.exceptions import OpenAPIError

        try:
            self.api.validate_request(request)
        except OpenAPIError as exc:
            return f"request {request.method.upper()} {request.path}: {_explain(exc)}"
        for name, wanted in (("Accept", "application/vnd.github+json"),
                             ("X-GitHub-Api-Version", API_VERSION)):
            if headers.get(name) != wanted:
                return f"request {request.path}: header {name} is {headers.get(name)!r}, not {wanted!r}"
        if not headers.get("Authorization", "").startswith("Bearer "):
            return f"request {request.path}: no Authorization: Bearer header"
        return ""

    def response_problem(self, request: _Request, response: _Response) -> str:
        """"" when the answer matches the operation's; an undocumented error status must at
        least be GitHub's ``basic-error`` (the description lists no 403/429 for these paths)."""
        from jsonschema import ValidationError
        from openapi_core.exceptions import OpenAPIError
        from openapi_schema_validator import OAS30Validator

        template = next(p for p in PATHS if _matches(p, request.path))
        documented = self.spec["paths"][template][request.method]["responses"]
        try:
            if str(response.status_code) in documented:
                self.api.validate_response(request, response)
            else:
                OAS30Validator(self.basic_error).validate(json.loads(response.data))
        except (OpenAPIError, ValueError, ValidationError) as exc:
            return f"answer {response.status_code} to {request.path}: {_explain(exc)}"
        return ""


def _matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


def _explain(exc: BaseException | None) -> str:
    """openapi-core keeps the useful part in the cause chain; jsonschema's last, in ``message``."""
    parts: list[str] = []
    while exc is not None and len(parts) < 4:
        text = getattr(exc, "message", None)
        parts.append(text if isinstance(text, str) else f"{type(exc).__name__}: {exc}")
        errors = getattr(exc, "schema_errors", None)
        exc = exc.__cause__ or (errors[0] if errors else None)
    return " <- ".join(parts)


@dataclass(frozen=True)
class _Fault:
    status: int | None         # DROP: no answer at all; None: answered as usual (``after``)
    headers: dict[str, str]
    message: str
    on: str                    # an operation of OPERATIONS, or "" for whichever comes next


def _operation(path: str) -> str:
    return next((name for name, template in zip(OPERATIONS, PATHS, strict=True)
                 if _matches(template, path)), "")


@dataclass
class FakeRun:
    id: int
    owner: str
    repo: str
    workflow: str
    ref: str
    inputs: dict[str, Any]
    head_sha: str
    status: str = "queued"
    conclusion: str | None = None
    gets: int = 0


@dataclass
class FakeGithub:
    validator: Validator
    url: str = ""
    conclusion: str = "success"      # what every run ends with
    hold: bool = False               # runs stay in progress (until cancelled)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runs: dict[int, FakeRun] = field(default_factory=dict)
    cancels: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)  # every status sent, in order
    _faults: list[_Fault] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(4242))
    repository: FakeRepo = field(init=False)

    def __post_init__(self) -> None:
        self.repository = FakeRepo(self.validator.spec["components"]["examples"])

    def limit(self, count: int, status: int, headers: dict[str, str],
              message: str = "API rate limit exceeded for user ID 1.", *, on: str = "") -> None:
        """The next ``count`` requests get ``status`` with ``headers`` (after validation)."""
        self.fail(count, status, message, headers=headers, on=on)

    def fail(self, count: int, status: int, message: str = "Server Error", *,
             headers: dict[str, str] | None = None, on: str = "", after: int = 0) -> None:
        """The next ``count`` requests (to the operation ``on`` names, one of
        :data:`OPERATIONS`; any when "") are answered ``status`` with GitHub's error body, or dropped
        unanswered when ``status`` is :data:`DROP` (:data:`LOST`: done, but its answer
        dropped); ``after`` requests are answered as usual
        first (a run seen in progress, then GitHub in trouble)."""
        assert on in ("", *OPERATIONS), on
        self._faults.extend([_Fault(None, {}, "", on)] * after)
        self._faults.extend([_Fault(status, headers or {}, message, on)] * count)

    def _fault_for(self, path: str) -> _Fault | None:
        operation = _operation(path)
        found = next((f for f in self._faults if f.on in ("", operation)), None)
        if found is None:
            return None
        self._faults.remove(found)
        return found if found.status is not None else None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._validated])
        app.router.add_post(f"{REPO}/workflows/{{workflow_id}}/dispatches", self._dispatch)
        app.router.add_get(f"{REPO}/runs/{{run_id}}", self._get_run)
        app.router.add_post(f"{REPO}/runs/{{run_id}}/cancel", self._cancel)
        app.router.add_get(f"{REPO}/workflows/{{workflow_id}}", self._get_workflow)
        self.repository.routes(app)
        return app

    @web.middleware
    async def _validated(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((request.method, request.path, dict(request.headers), _json(body)))
        seen = _Request(request.method.lower(), request.path, body or None, request.content_type,
                        _parameters(request))
        if problem := self.validator.request_problem(seen, request.headers):
            return self._broken(problem)
        fault = self._fault_for(request.path)
        if fault is not None and fault.status == DROP:
            self.answered.append(DROP)
            assert request.transport is not None
            request.transport.abort()  # what a reset connection looks like to the client
            return web.Response()
        if fault is not None and fault.status is not None and fault.status != LOST:
            answer = web.json_response({"message": fault.message,
                                        "documentation_url": "https://docs.github.com/rest"},
                                       status=fault.status, headers=fault.headers)
        else:
            answer = await handler(request)
        assert isinstance(answer, web.Response)
        sent = _Response(answer.body if isinstance(answer.body, bytes) else b"", answer.status,
                         answer.headers, answer.content_type or "")
        if problem := self.validator.response_problem(seen, sent):
            return self._broken(problem)
        if fault is not None and fault.status == LOST:
            self.answered.append(LOST)
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        self.answered.append(answer.status)
        return answer

    def _broken(self, problem: str) -> web.Response:
        self.errors.append(problem)
        self.answered.append(500)
        return web.json_response({"message": f"fake GitHub: not per the OpenAPI description: {problem}"},
                                 status=500)

    async def _dispatch(self, request: web.Request) -> web.Response:
        body = await request.json()
        owner, repo = request.match_info["owner"], request.match_info["repo"]
        run = FakeRun(next(self._ids), owner, repo, request.match_info["workflow_id"], body["ref"],
                      body.get("inputs") or {}, self.repository.head.sha)
        self.runs[run.id] = run
        if not body.get("return_run_details"):
            return web.Response(status=204)
        return web.json_response({"workflow_run_id": run.id, "run_url": self._api_url(run),
                                  "html_url": _html_url(run)})

    async def _get_run(self, request: web.Request) -> web.Response:
        run = self.runs.get(int(request.match_info["run_id"]))
        if run is None:
            return web.json_response({"message": "Not Found", "status": "404"}, status=404)
        run.gets += 1
        if run.status == "queued":
            run.status = "in_progress"
        elif run.status == "in_progress" and not self.hold:
            run.status, run.conclusion = "completed", self.conclusion
        return web.json_response(self._workflow_run(run))

    async def _cancel(self, request: web.Request) -> web.Response:
        run = self.runs.get(int(request.match_info["run_id"]))
        if run is None:
            return web.json_response({"message": "Not Found", "status": "404"}, status=404)
        self.cancels.append(run.id)
        if run.status == "completed":
            return web.json_response({"message": "Cannot cancel a workflow run that is completed."},
                                     status=409)
        run.status, run.conclusion = "completed", "cancelled"
        return web.json_response({}, status=202)

    async def _get_workflow(self, request: web.Request) -> web.Response:
        """Every repository has every workflow (``fail(..., on="workflow")`` says otherwise)."""
        answer = copy.deepcopy(self.validator.spec["components"]["examples"]["workflow"]["value"])
        owner, repo = request.match_info["owner"], request.match_info["repo"]
        workflow = request.match_info["workflow_id"]
        answer.update(path=f".github/workflows/{workflow}", state="active",
                      html_url=f"https://github.com/{owner}/{repo}/blob/main/.github/workflows/{workflow}")
        return web.json_response(answer)

    def _api_url(self, run: FakeRun) -> str:
        return f"{GITHUB}/repos/{run.owner}/{run.repo}/actions/runs/{run.id}"

    def _workflow_run(self, run: FakeRun) -> dict[str, Any]:
        """GitHub's own example run, made this run."""
        answer = copy.deepcopy(self.validator.spec["components"]["examples"]["workflow-run"]["value"])
        answer.update(id=run.id, status=run.status, conclusion=run.conclusion, event="workflow_dispatch",
                      head_branch=run.ref, head_sha=run.head_sha, url=self._api_url(run),
                      html_url=_html_url(run), path=f".github/workflows/{run.workflow}@{run.ref}")
        return answer


def _html_url(run: FakeRun) -> str:
    return f"https://github.com/{run.owner}/{run.repo}/actions/runs/{run.id}"


def _parameters(request: web.Request) -> Any:
    from openapi_core.datatypes import RequestParameters

    return RequestParameters(query=request.query, header=request.headers, cookie=request.cookies)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


@pytest.fixture(scope="session")
def github_validator() -> Validator:
    return Validator(spec_path())


@pytest.fixture
async def fake_github(github_validator: Validator) -> AsyncIterator[FakeGithub]:
    """A fake GitHub on a free port for one test; the test fails if anything broke the description."""
    fake = FakeGithub(github_validator)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
    problems = "\n".join(fake.errors)
    assert not problems, f"requests or answers not per GitHub's OpenAPI description:\n{problems}"
