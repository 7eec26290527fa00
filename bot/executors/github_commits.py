"""Commits as GitHub's REST API tells them: the commit a workflow run ran on, as a Change (its
time from the commit API, its page), for DORA's lead time and the deployment's card."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import quote

from bot.domain.changes import Change, ChangeKind
from bot.domain.mrkdwn import web_url
from bot.executors._common import clip
from bot.executors.github_api import GithubApi, GithubFailed, Pace

log = logging.getLogger(__name__)


def commit_time(value: object) -> datetime | None:
    """GitHub's ISO 8601 time ("2026-11-30T09:00:00Z") as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def commit_page(run_url: str | None, sha: str) -> str | None:
    """The commit's page beside the run's (``https://github.com/o/r/actions/runs/7`` →
    ``https://github.com/o/r/commit/<sha>``): the link when the commit API cannot be asked."""
    head, found, _ = (run_url or "").partition("/actions/runs/")
    return web_url(f"{head}/commit/{sha}") if found else None


async def commit_change(api: GithubApi, repo: str, sha: str, run_url: str | None,
                        pace: Pace) -> Change:
    """The commit ``sha`` of ``repo`` ("/repos/o/r"): its committer's time and its page. When
    GitHub cannot say, the commit is still known, without its time (DORA then measures the
    deployment from its request)."""
    try:
        _, data = await api.call("GET", f"{repo}/commits/{quote(sha, safe='')}", pace=pace, retries=1)
    except GithubFailed as failed:
        log.warning("action=github_commit_unknown sha=%s problem=%s", sha[:12],
                    clip(api.mask(str(failed)), 120))
        return Change(ChangeKind.COMMIT, sha, None, commit_page(run_url, sha))
    commit = data.get("commit") if isinstance(data, dict) else None
    people = commit if isinstance(commit, dict) else {}
    committer, author = people.get("committer"), people.get("author")
    at = commit_time(committer.get("date") if isinstance(committer, dict) else None) \
        or commit_time(author.get("date") if isinstance(author, dict) else None)
    url = web_url(data.get("html_url")) if isinstance(data, dict) else None
    return Change(ChangeKind.COMMIT, sha, at, url or commit_page(run_url, sha))
