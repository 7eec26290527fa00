"""The repository side of the fake GitHub: one branch of commits, its compare view, and the
Deployments API (deployments and their statuses).

Answers are GitHub's own examples from the OpenAPI description, made this repository's; the
fake in tests/servers/fake_github.py validates every request and answer against the description
before any of this is reached.

History is one straight line (``commits``, oldest first); ``head`` is the newest commit, and a
workflow run runs on the head at its dispatch. ``push`` adds a commit.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

GITHUB = "https://api.github.com"
WEB = "https://github.com"
REPO = "/repos/{owner}/{repo}"
PATHS = (f"{REPO}/deployments", f"{REPO}/deployments/{{deployment_id}}/statuses",
         f"{REPO}/commits/{{ref}}", f"{REPO}/compare/{{basehead}}")
OPERATIONS = ("deployments", "statuses", "commit", "compare")
EPOCH = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass
class FakeCommit:
    sha: str
    message: str
    login: str       # the GitHub account of its author
    at: datetime     # its committer date


@dataclass
class FakeDeployment:
    id: int
    owner: str
    repo: str
    sha: str
    ref: str
    environment: str
    body: dict[str, Any]                      # as the bot sent it
    statuses: list[dict[str, Any]] = field(default_factory=list)  # oldest first, as sent

    @property
    def states(self) -> list[str]:
        return [s["state"] for s in self.statuses]


def sha_of(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@dataclass
class FakeRepo:
    examples: dict[str, Any]
    commits: list[FakeCommit] = field(default_factory=list)
    deployments: dict[int, FakeDeployment] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900))

    def __post_init__(self) -> None:
        if not self.commits:
            self.push("Initial import", "octocat")

    def push(self, message: str, login: str = "octocat") -> FakeCommit:
        commit = FakeCommit(sha_of(f"{len(self.commits)} {message}"), message, login,
                            EPOCH + timedelta(hours=len(self.commits)))
        self.commits.append(commit)
        return commit

    @property
    def head(self) -> FakeCommit:
        return self.commits[-1]

    def find(self, ref: str) -> FakeCommit | None:
        """A commit by its sha (or a prefix of 7 or more), or the branch's head by any name."""
        if len(ref) >= 7 and all(c in "0123456789abcdef" for c in ref):
            return next((c for c in self.commits if c.sha.startswith(ref)), None)
        return self.head

    def statuses_posted(self, state: str) -> list[tuple[int, str]]:
        return [(d.id, s["state"]) for d in self.deployments.values() for s in d.statuses
                if s["state"] == state]

    def routes(self, app: web.Application) -> None:
        app.router.add_post(f"{REPO}/deployments", self._create_deployment)
        app.router.add_get(f"{REPO}/deployments", self._list_deployments)
        app.router.add_post(f"{REPO}/deployments/{{deployment_id}}/statuses", self._create_status)
        app.router.add_get(f"{REPO}/deployments/{{deployment_id}}/statuses", self._list_statuses)
        app.router.add_get(f"{REPO}/commits/{{ref}}", self._get_commit)
        app.router.add_get(f"{REPO}/compare/{{basehead}}", self._compare)

    # ── deployments ────────────────────────────────────────────────────────────────────────

    async def _create_deployment(self, request: web.Request) -> web.Response:
        body = await request.json()
        commit = self.find(body["ref"])
        if commit is None:
            return _error(422, "No ref found for: " + body["ref"])
        d = FakeDeployment(next(self._ids), request.match_info["owner"], request.match_info["repo"],
                           commit.sha, body["ref"], body.get("environment", "production"), body)
        self.deployments[d.id] = d
        return web.json_response(self._deployment(d), status=201)

    async def _list_deployments(self, request: web.Request) -> web.Response:
        wanted = {k: request.query[k] for k in ("environment", "ref", "sha", "task") if k in request.query}
        found = [d for d in reversed(self.deployments.values())  # newest first, as GitHub lists
                 if all(_field(d, k) == v for k, v in wanted.items())]
        return web.json_response([self._deployment(d) for d in _page(found, request)])

    async def _create_status(self, request: web.Request) -> web.Response:
        d = self.deployments.get(int(request.match_info["deployment_id"]))
        if d is None:
            return _error(404, "Not Found")
        body = await request.json()
        d.statuses.append(body)
        return web.json_response(self._status(d, len(d.statuses), body), status=201)

    async def _list_statuses(self, request: web.Request) -> web.Response:
        d = self.deployments.get(int(request.match_info["deployment_id"]))
        if d is None:
            return _error(404, "Not Found")
        newest_first = list(reversed(list(enumerate(d.statuses, 1))))
        return web.json_response([self._status(d, n, s) for n, s in _page(newest_first, request)])

    def _deployment(self, d: FakeDeployment) -> dict[str, Any]:
        answer = copy.deepcopy(self.examples["deployment-simple-example"]["value"])
        api = f"{GITHUB}/repos/{d.owner}/{d.repo}"
        answer.update(id=d.id, sha=d.sha, ref=d.ref, environment=d.environment,
                      original_environment=d.environment, task=d.body.get("task", "deploy"),
                      payload=d.body.get("payload", {}), description=d.body.get("description"),
                      production_environment=d.body.get("production_environment", False),
                      url=f"{api}/deployments/{d.id}", statuses_url=f"{api}/deployments/{d.id}/statuses",
                      repository_url=api)
        return answer

    def _status(self, d: FakeDeployment, number: int, body: dict[str, Any]) -> dict[str, Any]:
        answer = copy.deepcopy(self.examples["deployment-status"]["value"])
        api = f"{GITHUB}/repos/{d.owner}/{d.repo}"
        answer.update(id=number, state=body["state"], description=body.get("description", ""),
                      environment=d.environment, log_url=body.get("log_url", ""),
                      target_url=body.get("log_url", ""),
                      url=f"{api}/deployments/{d.id}/statuses/{number}",
                      deployment_url=f"{api}/deployments/{d.id}", repository_url=api)
        return answer

    # ── commits ────────────────────────────────────────────────────────────────────────────

    async def _get_commit(self, request: web.Request) -> web.Response:
        commit = self.find(request.match_info["ref"])
        if commit is None:
            return _error(422, f"No commit found for SHA: {request.match_info['ref']}")
        return web.json_response(self._commit(request, commit))

    async def _compare(self, request: web.Request) -> web.Response:
        base_ref, dots, head_ref = request.match_info["basehead"].partition("...")
        base, head = self.find(base_ref), self.find(head_ref)
        if not dots or base is None or head is None:
            return _error(404, "Not Found")
        b, h = self.commits.index(base), self.commits.index(head)
        ahead = self.commits[b + 1:h + 1]
        status = "identical" if b == h else "ahead" if h > b else "behind"
        answer = copy.deepcopy(self.examples["commit-comparison"]["value"])
        owner, repo = request.match_info["owner"], request.match_info["repo"]
        page = f"{WEB}/{owner}/{repo}/compare/{base_ref}...{head_ref}"
        answer.update(url=f"{GITHUB}/repos/{owner}/{repo}/compare/{base_ref}...{head_ref}",
                      html_url=page, permalink_url=page, diff_url=page + ".diff",
                      patch_url=page + ".patch", status=status, ahead_by=len(ahead),
                      behind_by=max(0, b - h), total_commits=len(ahead),
                      base_commit=self._commit(request, base),
                      merge_base_commit=self._commit(request, min(base, head, key=self.commits.index)),
                      commits=[self._commit(request, c) for c in _page(ahead, request, 250)],
                      files=[])
        return web.json_response(answer)

    def _commit(self, request: web.Request, commit: FakeCommit) -> dict[str, Any]:
        answer = copy.deepcopy(self.examples["commit"]["value"])
        owner, repo = request.match_info["owner"], request.match_info["repo"]
        at = commit.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        answer.update(sha=commit.sha, url=f"{GITHUB}/repos/{owner}/{repo}/commits/{commit.sha}",
                      html_url=f"{WEB}/{owner}/{repo}/commit/{commit.sha}", files=[])
        answer["commit"]["message"] = commit.message
        answer["commit"]["author"]["date"] = answer["commit"]["committer"]["date"] = at
        answer["author"]["login"] = commit.login
        return answer


def _field(d: FakeDeployment, name: str) -> str:
    return {"environment": d.environment, "ref": d.ref, "sha": d.sha,
            "task": str(d.body.get("task", "deploy"))}[name]


def _page(items: list[Any], request: web.Request, per_page: int = 30) -> list[Any]:
    """One page of ``items``, as ``per_page`` and ``page`` ask (GitHub's default page size:
    30; the compare view's commits: 250)."""
    per_page, page = int(request.query.get("per_page", per_page)), int(request.query.get("page", 1))
    return items[(page - 1) * per_page:page * per_page]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message, "documentation_url": "https://docs.github.com/rest"},
                             status=status)
