"""`bizdevops` — one console script for every run mode (same as ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Sequence

from bot import cli_migrate, logs
from bot.config import ConfigError, Settings, load_dotenv_file, load_settings
from bot.config_files import kpi_config_for, pipelines_for
from bot.kpis.loading import KpiSourceError
from bot.log_events import get_logger
from bot.pipelines.loading import PipelineError
from bot.render import refusals
from bot.services.ports import ApiToken
from storage.database import DatabaseUnavailable

log = get_logger("bizdevops")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bizdevops",
        description="A Slack chat-ops bot for BizDevOps data-science teams.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="HTTP mode: /slack/events, /healthz on one port")
    serve.add_argument("--port", type=int, help="port to listen on (default: $PORT, else 3000)")
    sub.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN); /healthz on $PORT")
    shell = sub.add_parser("shell", help="the local simulator: no Slack workspace needed")
    shell.add_argument("--script", metavar="FILE", help="run the lines of FILE and print a transcript")
    shell.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    shell.add_argument("--fresh", action="store_true",
                       help="start from an empty database (removes the SQLite file first)")
    shell.add_argument("--strict", action="store_true",
                       help="a script exits non-zero when the bot refuses a line, not only when "
                            "a line cannot run")
    cli_migrate.add_parser(sub)
    manifest = sub.add_parser("manifest", help="print a Slack app manifest (YAML)")
    where = manifest.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the bot's public base URL, https://HOST (Slack takes https only)")
    where.add_argument("--socket-mode", action="store_true",
                       help="for `bizdevops socket`: no request URLs, socket_mode_enabled: true")
    check = sub.add_parser("check-config",
                           help="validate the environment and the pipeline file; exit non-zero on problems")
    check.add_argument("--online", action="store_true",
                       help="also ask Slack (auth.test and its scopes), the database (at head), "
                            "MLflow and GitHub when used")
    backup = sub.add_parser("backup", help="copy the SQLite database, safe while the bot runs "
                                           "(PostgreSQL: prints the pg_dump command)")
    backup.add_argument("file", metavar="FILE", help="where the copy goes")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    token = sub.add_parser("token", help="manage API tokens for /api/v1 (shown once, stored hashed)")
    token.add_argument("action", choices=("create", "list", "revoke"))
    token.add_argument("name", nargs="?", help="the token's name (create, revoke)")
    token.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                       help="what a new token may do, repeated or comma-separated: metrics:write "
                            "(the default), audit:read, deployments:write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    load_dotenv_file()
    if args.command == "check-config":  # reports every problem itself, the environment's too
        return _check_config(args.online)
    mode = args.command if args.command in ("serve", "socket") else "other"
    try:
        settings = load_settings(mode=mode)
        if args.command in ("serve", "socket", "shell"):
            pipelines_for(settings)  # a broken pipeline file stops start-up, every problem listed
            kpi_config_for(settings)  # so does a broken KPI source file
    except ConfigError as problem:
        print(f"bizdevops: configuration error: {problem}", file=sys.stderr)
        return 2
    except PipelineError as problems:
        print(f"bizdevops: the pipeline file has problems:\n{problems}", file=sys.stderr)
        return 2
    except KpiSourceError as problems:
        print(f"bizdevops: the KPI source file has problems:\n{problems}", file=sys.stderr)
        return 2
    if args.command == "serve" and args.port:
        settings = _with_port(settings, args.port)
    # The simulator's terminal is the chat: keep routine logs out of it.
    level = "WARNING" if args.command == "shell" else settings.log_level
    logs.configure(level, settings.log_format, settings.secrets())
    return _run(args, settings)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "manifest":
        try:
            from bot.slack.manifest import manifest_yaml  # YAML only for this command

            print(manifest_yaml(args.url, socket_mode=args.socket_mode), end="")
        except ValueError as bad:
            print(f"bizdevops: {bad}", file=sys.stderr)
            return 2
        return 0
    try:
        if args.command == "token":
            scopes = tuple(s.strip() for given in args.scope for s in given.split(",") if s.strip())
            return asyncio.run(_token(settings, args.action, args.name, scopes))
        if args.command == "migrate":
            return asyncio.run(cli_migrate.run(args, settings))
        if args.command == "backup":
            from bot.backup_cli import backup

            return backup(settings.database_url, args.file, force=args.force)
    except DatabaseUnavailable as down:
        print(f"bizdevops: DATABASE_URL: {down}", file=sys.stderr)
        return 1
    if args.command == "shell":
        return _shell(args, settings)
    # Start-up makes ~160,000 objects that live until exit; collecting while they are made
    # walked them again and again: 0.2-0.5 s of `import bot.app` here. Collection resumes once
    # they are frozen, when the server has started (bot.server._start).
    gc.disable()
    from bot import server

    runner = server.serve if args.command == "serve" else server.socket_mode
    return asyncio.run(_until_signal(runner(settings)))


def _shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.simulator.fresh import NotEmptied, empty_database
    from bot.simulator.shell import read_script, run_shell

    try:
        lines = read_script(args.script)
    except OSError as unreadable:
        print(f"bizdevops: cannot read the script: {unreadable}", file=sys.stderr)
        return 2
    try:
        if args.fresh:
            empty_database(settings.database_url)
    except (NotEmptied, OSError) as refused:
        print(f"bizdevops: --fresh: {refused}", file=sys.stderr)
        return 2
    return asyncio.run(run_shell(settings, lines=lines, color=args.color, strict=args.strict))


def _check_config(online: bool = False) -> int:
    import os

    from bot.pipelines.loading import WARNING, check_config

    lines, reached = check_config(os.environ), list[str]()
    if online:
        from bot.online_checks import check_online

        found, reached = asyncio.run(check_online(os.environ))
        lines += found
    for line in lines:
        print(line)
    problems = [line for line in lines if not line.startswith(WARNING)]
    if problems:
        print(f"bizdevops: {len(problems)} problem(s) found", file=sys.stderr)
        return 1
    checked = ["environment", os.environ.get("BIZDEVOPS_PIPELINES") or "the built-in dry-run pipeline"]
    if kpis := os.environ.get("BIZDEVOPS_KPI_SOURCES", "").strip():
        checked.append(kpis)
    print(f"configuration OK: {', '.join(checked[:-1])} and {checked[-1]}"
          + (f"; online: {', '.join(reached)}" if reached else ""))
    return 0


def _with_port(settings: Settings, port: int) -> Settings:
    from dataclasses import replace

    if not 1 <= port <= 65535:
        raise SystemExit("bizdevops: --port must be from 1 to 65535")
    return replace(settings, port=port)


async def _token(settings: Settings, action: str, name: str | None,
                 scopes: tuple[str, ...] = ()) -> int:
    from bot.clock import SystemClock
    from bot.domain.usecases import DomainError
    from bot.services.tokens import TokenService
    from storage.database import Database, connect_check

    if action != "list" and not name:
        print(f"bizdevops: token {action} needs a NAME", file=sys.stderr)
        return 2
    if scopes and action != "create":
        print("bizdevops: --scope is for `token create`", file=sys.stderr)
        return 2
    db = Database(settings.database_url, SystemClock())
    tokens = TokenService(db.uow, db.clock)
    try:
        await connect_check(db.engine)
        if action == "create":
            secret = await tokens.create(str(name), scopes)
            print(f"token {name} created; it is shown only this once:\n{secret}")
        elif action == "revoke":
            await tokens.revoke(str(name))
            print(f"token {name} revoked")
        else:
            for line in _token_lines(await tokens.list()):
                print(line)
    except DomainError as refused:
        print(f"bizdevops: {refusals.said(refused)}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    return 0


def _token_lines(tokens: Sequence[ApiToken]) -> list[str]:
    """`token list`: one tab-separated line a token — name, live or revoked, scopes, dates."""
    lines = []
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
        used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        lines.append(f"{t.name}\t{state}\t{','.join(t.scopes)}\tcreated {t.created_at:%Y-%m-%d}\t{used}")
    return lines


async def _until_signal(work) -> int:  # type: ignore[no-untyped-def]
    """Run ``work`` until it ends or SIGTERM/SIGINT arrives; then let it shut down cleanly."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        log.info("shutdown", reason="signal")
        return 0
