"""`bizdevops check-config --online` against the fake Slack Web API (a real aiohttp server that
names the token's scopes in ``x-oauth-scopes``), SQLite and PostgreSQL, a real MLflow and the
fake GitHub held to GitHub's OpenAPI description: one line per problem, naming the variable to
fix, a non-zero exit status, never a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import cli, online_checks
from bot.simulator.fake_slack import FakeSlack
from bot.slack.manifest import BOT_SCOPES
from storage.database import make_engine
from storage.migrate import downgrade, head_revision
from tests.servers import free_port
from tests.servers.fake_github import FakeGithub, fake_github, github_validator  # noqa: F401
from tests.servers.mlflow import MlflowServer

TOKEN = "xoxb-123-the-bots-token"
GITHUB_TOKEN = "ghp_s3cretTokenThatMustNeverShow0000000000"
PIPELINES = """
[pipelines.actions]
description = "the repository's deploy workflow"

[[pipelines.actions.stages]]
name = "production"
run = { executor = "github-actions", repo = "acme/churn", workflow = "deploy.yml" }
"""
TIMEOUT = 0.5  # the checks' patience in these tests


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(bot_token=TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, database_url: str,
                tmp_path: Path) -> pytest.MonkeyPatch:
    """Everything right: the fake Slack, a migrated database, no MLflow, no pipeline file."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("BIZDEVOPS_PIPELINES", "BIZDEVOPS_KPI_SOURCES", "BIZDEVOPS_MLFLOW_URL",
                 "BIZDEVOPS_MLFLOW_TOKEN", "BIZDEVOPS_GITHUB_TOKEN", "BIZDEVOPS_GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(online_checks, "TIMEOUT", TIMEOUT)
    return monkeypatch


async def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """(exit status, stdout's lines, stderr) of `bizdevops check-config --online`."""
    capsys.readouterr()
    status = await asyncio.to_thread(cli.main, ["check-config", "--online"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert TOKEN not in out + err and GITHUB_TOKEN not in out + err
    return status, out.splitlines(), err


async def test_all_right_says_what_it_reached(environment: pytest.MonkeyPatch, slack: FakeSlack,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, err = await check(capsys)

    assert (status, err) == (0, "")
    assert lines == [
        "configuration OK: environment and the built-in dry-run pipeline; online: Slack workspace "
        f"'Simulated Workspace' (every scope the manifest asks for), the database (at {head_revision()}, "
        "head)"]
    [asked] = slack.calls_to("auth.test")
    assert asked.status == 200


async def test_a_refused_or_malformed_token_names_slack_bot_token(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    status, lines, err = await check(capsys)
    assert (status, err) == (1, "bizdevops: 1 problem(s) found\n")
    assert lines == ["SLACK_BOT_TOKEN: Slack refused it (invalid_auth); copy the Bot User OAuth "
                     "Token (xoxb-…) from the app's OAuth & Permissions page"]

    environment.setenv("SLACK_BOT_TOKEN", "bad")
    status, lines, _ = await check(capsys)
    assert status == 1
    assert lines[0].startswith("SLACK_BOT_TOKEN is malformed: it must start with xoxb-")


async def test_scopes_the_manifest_asks_for_and_the_token_lacks_are_named(
    environment: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.scopes = tuple(s for s in BOT_SCOPES if s not in ("im:write", "im:history"))

    status, lines, _ = await check(capsys)

    assert status == 1
    assert lines == ["SLACK_BOT_TOKEN: the app lacks the bot scopes im:write, im:history: add them "
                     "(or re-create the app from `bizdevops manifest`) and reinstall it"]


async def test_a_slack_out_of_reach_or_silent_names_slack_api_url(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    environment.setenv("SLACK_API_URL", f"http://127.0.0.1:{port}/api/")
    status, lines, _ = await check(capsys)
    assert status == 1
    assert lines == [f"SLACK_API_URL: cannot reach Slack at 127.0.0.1:{port} (ClientConnectorError)"]

    heard = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(65536)  # and then nothing: the client waits
        heard.set()

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    silent_port = silent.sockets[0].getsockname()[1]
    environment.setenv("SLACK_API_URL", f"http://127.0.0.1:{silent_port}/api/")
    patience = 3.0  # the database's check, run meanwhile, must not run out too on a busy machine
    environment.setattr(online_checks, "TIMEOUT", patience)
    try:
        status, lines, _ = await check(capsys)
    finally:
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        silent.close()
        await silent.wait_closed()
    assert heard.is_set()
    assert status == 1
    [line] = lines  # the guard's patience or the client's own timeout, whichever ends first
    assert line in (f"SLACK_API_URL: no answer within {patience:g} s",
                    f"SLACK_API_URL: cannot reach Slack at 127.0.0.1:{silent_port} (TimeoutError)")


async def test_a_database_that_keeps_the_check_waiting_is_one_line_and_no_traceback(
    environment: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check's time runs out mid-query (a lock held elsewhere): one line, and the connection
    is let go rather than closed (a cancelled close logs a traceback)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's readers are not kept waiting by a writer (WAL)")
    import asyncpg  # type: ignore[import-untyped]

    holder = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        status, lines, err = await check(capsys)
        await transaction.rollback()
    finally:
        await holder.close()
    assert status == 1
    assert lines == [f"DATABASE_URL: no answer within {TIMEOUT:g} s"]


async def test_a_database_behind_or_out_of_reach_names_database_url(
    environment: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(database_url)
    try:
        await downgrade(engine, "-1")
    finally:
        await engine.dispose()
    status, lines, _ = await check(capsys)
    assert status == 1
    assert lines == [f"DATABASE_URL: the database schema is at revision {int(head_revision()) - 1:04d} "
                     f"but this code needs {head_revision()}: run `bizdevops migrate`"]

    environment.setenv("DATABASE_URL", "postgresql+asyncpg://bot@127.0.0.1:9/bizdevops")
    status, lines, _ = await check(capsys)
    assert lines == ["DATABASE_URL: cannot connect to 127.0.0.1:9: connection refused (is the "
                     "server running?)"]


async def test_a_missing_sqlite_file_is_reported_not_created(
    environment: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("DATABASE_URL", "sqlite+aiosqlite:///./nowhere.db")

    status, lines, _ = await check(capsys)

    assert status == 1
    assert lines == ["DATABASE_URL: there is no database file at ./nowhere.db: `bizdevops migrate` "
                     "creates it"]
    assert not (tmp_path / "nowhere.db").exists()


@pytest.mark.mlflow
async def test_mlflow_answers_or_its_url_is_named(
    environment: pytest.MonkeyPatch, mlflow_server: MlflowServer, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("BIZDEVOPS_MLFLOW_URL", mlflow_server.url)
    status, lines, _ = await check(capsys)
    assert status == 0
    assert lines[0].endswith(f", MLflow at {mlflow_server.url.removeprefix('http://')}")

    environment.setenv("BIZDEVOPS_MLFLOW_URL", mlflow_server.url + "/not-mlflow")
    status, lines, _ = await check(capsys)
    assert status == 1
    assert len(lines) == 1  # MLflow's own 404 page, clipped, then the hint
    assert lines[0].startswith("BIZDEVOPS_MLFLOW_URL: MLflow answered HTTP 404: ")
    assert lines[0].endswith("; is it the tracking server's base URL?")


@pytest.mark.github_spec
async def test_github_sees_each_workflow_or_the_token_or_file_is_named(
    environment: pytest.MonkeyPatch, fake_github: FakeGithub, tmp_path: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pipelines.toml").write_text(PIPELINES)
    environment.setenv("BIZDEVOPS_PIPELINES", "pipelines.toml")
    environment.setenv("BIZDEVOPS_GITHUB_API_URL", fake_github.url)
    environment.setenv("BIZDEVOPS_GITHUB_TOKEN", GITHUB_TOKEN)

    status, lines, _ = await check(capsys)
    assert status == 0
    assert lines[0].endswith(", GitHub (acme/churn)")
    [(method, path, headers, _body)] = fake_github.requests
    assert (method, path) == ("GET", "/repos/acme/churn/actions/workflows/deploy.yml")
    assert headers["Authorization"] == f"Bearer {GITHUB_TOKEN}"

    fake_github.fail(1, 401, "Bad credentials", on="workflow")
    status, lines, _ = await check(capsys)
    assert status == 1
    assert lines == ["BIZDEVOPS_GITHUB_TOKEN: GitHub refused it (GitHub API answered HTTP 401: Bad "
                     "credentials)"]

    fake_github.fail(1, 404, "Not Found", on="workflow")
    status, lines, _ = await check(capsys)
    assert lines == ["BIZDEVOPS_PIPELINES or BIZDEVOPS_GITHUB_TOKEN: pipelines.toml: github-actions "
                     "repo 'acme/churn', workflow 'deploy.yml': GitHub knows no such repository or "
                     "workflow, or the token may not see it"]

    environment.setenv("BIZDEVOPS_GITHUB_API_URL", f"http://127.0.0.1:{free_port()}")
    status, lines, _ = await check(capsys)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("BIZDEVOPS_GITHUB_API_URL: GitHub API GET failed: cannot connect to "
                               "127.0.0.1:")
