"""`bizdevops check-config --online`: ask the outside what the offline check cannot know.

Slack (``auth.test``: does the token work, and does it hold every bot scope the manifest asks
for), the database (reachable, at head), MLflow when configured (one cheap authenticated read)
and GitHub when a pipeline runs the github-actions executor (the token sees each workflow). Each
problem is one line that starts with the variable to fix; nothing raises, nothing waits longer
than :data:`TIMEOUT` seconds, no secret is printed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from bot.config import ConfigError, Settings, load_settings
from bot.masking import mask
from bot.pipelines.loading import WARNING
from bot.sources._http import clip, where

TIMEOUT = 10.0  # seconds a check may take
# What a refused Slack token needs: a fresh copy of the right one.
COPY_TOKEN = "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"


@dataclass
class Found:
    """One check's problems (lines to print) and, when it passed, what it reached."""

    problems: list[str] = field(default_factory=list)
    reached: str = ""


async def check_online(env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(every problem line, what was reached) — nothing when the environment itself is broken:
    the offline check names that variable already."""
    try:
        settings = load_settings(env, mode="other")
    except ConfigError:
        return [], []
    checks: list[tuple[str, Callable[[], Awaitable[Found]]]] = [
        ("SLACK_API_URL", lambda: _slack(settings, env.get("SLACK_BOT_TOKEN", "").strip())),
        ("DATABASE_URL", lambda: _database(settings)),
    ]
    if settings.mlflow_url:
        checks.append(("BIZDEVOPS_MLFLOW_URL", lambda: _mlflow(settings)))
    checks.append(("BIZDEVOPS_GITHUB_API_URL", lambda: _github(settings)))
    found = await asyncio.gather(*(_guarded(name, run, settings) for name, run in checks))
    return [line for f in found for line in f.problems], [f.reached for f in found if f.reached]


async def _guarded(variable: str, run: Callable[[], Awaitable[Found]], settings: Settings) -> Found:
    """A check bounded in time; whatever escapes it is one line naming its variable."""
    try:
        async with asyncio.timeout(TIMEOUT):
            return await run()
    except TimeoutError:
        return Found([f"{variable}: no answer within {TIMEOUT:g} s"])
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        said = mask(clip(str(error), 200), settings.secrets())
        return Found([f"{variable}: the check failed ({type(error).__name__}: {said})"])


async def _slack(settings: Settings, token: str) -> Found:
    import aiohttp
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.manifest import BOT_SCOPES

    if not token:
        return Found(["SLACK_BOT_TOKEN is not set: `serve` and `socket` need it; " + COPY_TOKEN])
    if not token.startswith("xoxb-"):
        return Found(["SLACK_BOT_TOKEN is malformed: it must start with xoxb-; " + COPY_TOKEN])
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=int(TIMEOUT),
                            retry_handlers=[])
    slack = f"Slack at {where(settings.slack_api_url)}"
    try:
        answer = await client.auth_test()
    except SlackApiError as refused:
        error = refused.response.get("error") if isinstance(refused.response.data, dict) else None
        return Found([f"SLACK_BOT_TOKEN: Slack refused it ({clip(str(error), 60)}); " + COPY_TOKEN
                      if error else f"SLACK_API_URL: {slack} answered HTTP "
                      f"{refused.response.status_code}, not the Web API's JSON"])
    except TimeoutError:  # the client's own bound, a hair before the guard's: one wording for both
        return Found([f"SLACK_API_URL: no answer within {TIMEOUT:g} s"])
    except (aiohttp.ClientError, OSError) as unreachable:
        return Found([f"SLACK_API_URL: cannot reach {slack} ({type(unreachable).__name__})"])
    granted = next((v for k, v in answer.headers.items() if k.lower() == "x-oauth-scopes"), None)
    team = f"Slack workspace {clip(str(answer.get('team', '?')), 60)!r}"
    if granted is None:
        return Found([f"{WARNING}SLACK_BOT_TOKEN: Slack did not say which scopes the token has"], team)
    have = {s.strip() for s in str(granted).split(",")}
    missing = [s for s in BOT_SCOPES if s not in have]
    if missing:
        return Found([f"SLACK_BOT_TOKEN: the app lacks the bot scopes {', '.join(missing)}: add them "
                      "(or re-create the app from `bizdevops manifest`) and reinstall it"])
    return Found(reached=f"{team} (every scope the manifest asks for)")


async def _database(settings: Settings) -> Found:
    from sqlalchemy.engine import make_url

    from storage.database import DatabaseUnavailable, connect_check, make_engine
    from storage.migrate import SchemaOutOfDate, check_schema, head_revision

    url = make_url(settings.database_url)
    path = url.database or ""
    if url.get_backend_name() == "sqlite" and not url.query and path not in ("", ":memory:") \
            and not os.path.exists(path):  # noqa: ASYNC240 - one stat; opening would create the file
        return Found([f"DATABASE_URL: there is no database file at {path}: "
                      "`bizdevops migrate` creates it"])
    engine = make_engine(settings.database_url)
    try:
        await connect_check(engine)
        await check_schema(engine)
    except (DatabaseUnavailable, SchemaOutOfDate) as problem:
        await engine.dispose()
        return Found([f"DATABASE_URL: {problem}"])
    except BaseException:
        # Cancelled when the check's time ran out, mid-query: closing would wait on the server
        # again (and SQLAlchemy would log that cancelled close with a traceback). Let go instead.
        await engine.dispose(close=False)
        raise
    await engine.dispose()
    return Found(reached=f"the database (at {head_revision()}, head)")


async def _mlflow(settings: Settings) -> Found:
    from bot.domain.kpis import SourceFailure
    from bot.sources.mlflow_rest import MlflowError, MlflowRest

    mlflow = MlflowRest(settings.mlflow_url, settings.mlflow_token)
    try:
        await mlflow.get("experiments/search", {"max_results": "1"})
    except MlflowError as refused:
        if refused.status in (401, 403):
            fix = "it is refused" if settings.mlflow_token else "MLflow wants one"
            return Found([f"BIZDEVOPS_MLFLOW_TOKEN: {fix} ({refused})"])
        return Found([f"BIZDEVOPS_MLFLOW_URL: {refused}; is it the tracking server's base URL?"])
    except SourceFailure as failure:
        return Found([f"BIZDEVOPS_MLFLOW_URL: {failure}"])
    finally:
        await mlflow.close()
    return Found(reached=f"MLflow at {where(settings.mlflow_url)}")


async def _github(settings: Settings) -> Found:
    """Each (repository, workflow) a github-actions stage names: GitHub's "get a workflow"."""
    from bot.config_files import pipelines_for
    from bot.domain.executor_specs import GithubActionsSpec
    from bot.executors.github_api import ApiSettings, GithubApi, GithubFailed, Pace
    from bot.pipelines.loading import PipelineError

    try:
        pipelines = pipelines_for(settings)
    except (PipelineError, ConfigError):
        return Found()  # the offline check has said what is wrong with the file
    specs = [spec for p in pipelines.pipelines.values() for s in p.stages for spec in (s.run, s.health)
             if isinstance(spec, GithubActionsSpec)]
    targets = sorted({(spec.repo, spec.workflow) for spec in specs})
    if not targets:
        return Found()
    api = GithubApi(settings.github_api_url, settings.github_token,
                    ApiSettings(0, lambda _: 0.0, time.time, asyncio.sleep))
    problems: list[str] = []
    try:
        for repo, workflow in targets:
            owner, _, name = repo.partition("/")
            path = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/actions/workflows/" \
                   f"{quote(workflow, safe='')}"
            try:
                await api.call("GET", path, pace=Pace(time.time() + TIMEOUT))
            except GithubFailed as failed:
                problems.append(_github_problem(settings, repo, workflow, failed))
                if failed.status in (None, 401):  # the same for every repository
                    break
    finally:
        await api.close()
    return Found(problems, "" if problems else f"GitHub ({', '.join(r for r, _ in targets)})")


def _github_problem(settings: Settings, repo: str, workflow: str, failed: Exception) -> str:
    status = getattr(failed, "status", None)
    if status is None:
        return f"BIZDEVOPS_GITHUB_API_URL: {failed}"
    if status == 401:
        return f"BIZDEVOPS_GITHUB_TOKEN: GitHub refused it ({failed})"
    where_named = f"{settings.pipelines_path}: github-actions repo {repo!r}, workflow {workflow!r}"
    if status == 404:
        return (f"BIZDEVOPS_PIPELINES or BIZDEVOPS_GITHUB_TOKEN: {where_named}: GitHub knows no such "
                "repository or workflow, or the token may not see it")
    return f"BIZDEVOPS_GITHUB_TOKEN: {where_named}: {failed} (it needs actions: write)"
