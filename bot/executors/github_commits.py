"""Commits as GitHub's REST API tells them: the commit a workflow run ran on, as a Change (its
time from the commit API, its page), for DORA's lead time and the deployment's card; and the
compare view between two commits, for `/deploy changes`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.domain.change_results import SHOWN, CommitLine, Comparison
from bot.domain.changes import Change, ChangeKind
from bot.domain.kpis import SourceFailure
from bot.domain.safe_text import web_url
from bot.executors._common import clip
from bot.executors.github_api import ApiSettings, GithubApi, GithubFailed, Pace
from bot.executors.webhook import exponential_backoff
from bot.log_events import get_logger

log = get_logger(__name__)

COMPARE_SECONDS = 20.0  # a person waits for the answer (after the acknowledgement)


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
        log.warning("github_commit_unknown", sha=sha[:12], problem=clip(api.mask(str(failed)), 120))
        return Change(ChangeKind.COMMIT, sha, None, commit_page(run_url, sha))
    commit = data.get("commit") if isinstance(data, dict) else None
    people = commit if isinstance(commit, dict) else {}
    committer, author = people.get("committer"), people.get("author")
    at = commit_time(committer.get("date") if isinstance(committer, dict) else None) \
        or commit_time(author.get("date") if isinstance(author, dict) else None)
    url = web_url(data.get("html_url")) if isinstance(data, dict) else None
    return Change(ChangeKind.COMMIT, sha, at, url or commit_page(run_url, sha))


class GithubCompare:
    """GitHub's compare view for `/deploy changes` (bot/services/deploy_changes.py's
    ``CommitHistory``): one short-lived session per question, bounded in time."""

    def __init__(self, api_url: str, token: str, *, seconds: float = COMPARE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._url, self._token, self._seconds, self._clock = api_url, token, seconds, clock

    async def compare(self, repo: str, base: str, head: str) -> Comparison:
        """``base...head`` in ``repo`` ("org/name"): counts, the first commits, the page.
        :class:`SourceFailure` (masked) when GitHub cannot say."""
        owner, _, name = repo.partition("/")
        path = (f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/compare/"
                f"{quote(base, safe='')}...{quote(head, safe='')}?per_page={SHOWN}")
        api = GithubApi(self._url, self._token,
                        ApiSettings(1, exponential_backoff, self._clock, asyncio.sleep))
        try:
            async with asyncio.timeout(self._seconds):
                _, data = await api.call("GET", path, pace=Pace(self._clock() + self._seconds))
        except GithubFailed as failed:
            raise SourceFailure(api.mask(str(failed))) from None
        except TimeoutError:
            raise SourceFailure(f"no answer within {self._seconds:g} s") from None
        finally:
            await api.close()
        if not isinstance(data, dict):
            raise SourceFailure("GitHub answered the comparison with something that is not one")
        return comparison(data)


def comparison(data: dict[str, Any]) -> Comparison:
    """GitHub's ``commit-comparison`` as the bot shows it."""
    commits = data.get("commits")
    lines = tuple(_line(c) for c in commits if isinstance(c, dict))[:SHOWN] \
        if isinstance(commits, list) else ()
    return Comparison(_count(data.get("ahead_by")), _count(data.get("behind_by")), lines,
                      web_url(data.get("html_url")))


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _line(raw: dict[str, Any]) -> CommitLine:
    commit, account = _object(raw.get("commit")), _object(raw.get("author"))
    author = _object(commit.get("author"))
    message, sha = commit.get("message"), raw.get("sha")
    who = account.get("login") or author.get("name") or ""
    title = message.split("\n", 1)[0].strip() if isinstance(message, str) else ""
    return CommitLine(sha if isinstance(sha, str) else "", title, str(who),
                      web_url(raw.get("html_url")), commit_time(author.get("date")))


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
