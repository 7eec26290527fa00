"""Settings from the environment (and ``.env``), validated once at start-up.

Each run mode says which settings it requires; a missing or malformed one stops start-up with
one line naming the variable (:class:`ConfigError`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./bizdevops.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
USER_ID_RE = re.compile(r"[UW][A-Z0-9]{2,}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """One bad setting; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    port: int = 3000
    admins: frozenset[str] = frozenset()
    pipelines_path: str = ""
    webhook_secret: str = field(default="", repr=False)
    public_url: str = "http://localhost:3000"
    timezone: str = "UTC"
    log_level: str = "INFO"
    log_format: str = "console"
    dev_timebox: timedelta = timedelta(weeks=6)
    lock_reminder: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(seconds=60)
    outbox_poll_seconds: float = 1.0
    kpi_sources_path: str = ""
    mlflow_url: str = ""
    mlflow_token: str = field(default="", repr=False)
    mlflow_webhook_secret: str = field(default="", repr=False)
    github_api_url: str = "https://api.github.com"
    github_token: str = field(default="", repr=False)
    github_poll_seconds: float = 5.0  # between looks at a workflow run (tests shorten it)
    metrics_token: str = field(default="", repr=False)  # GET /metrics wants it as a bearer token
    # The web dashboard: Sign in with Slack is on when the app's OAuth credentials are set.
    slack_client_id: str = ""
    slack_client_secret: str = field(default="", repr=False)
    slack_url: str = "https://slack.com"  # where browsers sign in (a local fake in tests)
    session_secret: str = field(default="", repr=False)  # "": derived from the signing secret
    links: bool = False  # BIZDEVOPS_PUBLIC_URL was set: messages link to the dashboard's pages

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in logs or messages."""
        candidates = (self.slack_bot_token, self.slack_signing_secret, self.slack_app_token,
                      self.webhook_secret, self.mlflow_token, self.metrics_token,
                      self.mlflow_webhook_secret, self.github_token, self.slack_client_secret,
                      self.session_secret, make_url(self.database_url).password)
        return tuple(str(s) for s in candidates if s)


def load_dotenv_file(path: str | Path = ".env") -> None:
    """Read ``.env`` into the environment without overriding what is already set."""
    from dotenv import load_dotenv

    load_dotenv(path, override=False)


def _require(env: Mapping[str, str], name: str, prefix: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required {what} (a token starting with {prefix})")
    if prefix and not value.startswith(prefix):
        raise ConfigError(f"{name} is malformed: it must start with {prefix}")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} is malformed: expected an http(s) URL, got {value!r}")
    return value


def _database_url(env: Mapping[str, str]) -> str:
    return async_database_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL, "DATABASE_URL")


def async_database_url(value: str, name: str) -> str:
    """``value`` as a SQLAlchemy URL with an async driver we ship; a ConfigError naming the
    variable ``name`` (never its value: it may hold a password) when it is not one."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(f"{name} is malformed: expected a SQLAlchemy URL") from None
    except ValueError:  # make_url reads the port with int()
        raise ConfigError(f"{name} is malformed: its port is not a number") from None
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ConfigError(f"{name} is malformed: port {url.port} is not from 1 to 65535")
    # Heroku-style URLs name no async driver; pick the one we ship.
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+asyncpg")
    elif url.drivername == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    if url.drivername not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise ConfigError(
            f"{name} is malformed: use postgresql+asyncpg://... or sqlite+aiosqlite:///..."
        )
    return url.render_as_string(hide_password=False)


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ConfigError(f"{name} is malformed: expected a whole number from {low} to {high}")
    return int(raw)


def _admins(env: Mapping[str, str]) -> frozenset[str]:
    ids = [a.strip() for a in env.get("BIZDEVOPS_ADMINS", "").split(",") if a.strip()]
    for admin in ids:
        if not USER_ID_RE.fullmatch(admin):
            raise ConfigError(
                f"BIZDEVOPS_ADMINS is malformed: {admin!r} is not a Slack user ID like U012ABCDEF"
            )
    return frozenset(ids)


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or default
    if value.upper() in choices:
        return value.upper()
    if value.lower() in choices:
        return value.lower()
    raise ConfigError(f"{name} is malformed: use one of {', '.join(choices)}")


def _timezone(env: Mapping[str, str]) -> str:
    value = env.get("BIZDEVOPS_TIMEZONE", "").strip() or "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ConfigError(
            f"BIZDEVOPS_TIMEZONE is malformed: {value!r} is not an IANA zone like Europe/Berlin"
        ) from None
    return value


def load_settings(env: Mapping[str, str] | None = None, *, mode: str = "shell") -> Settings:
    """Build settings for a run mode: ``serve``, ``socket``, or anything else (no Slack needed)."""
    env = os.environ if env is None else env
    bot_token = signing_secret = app_token = ""
    if mode in ("serve", "socket"):
        bot_token = _require(env, "SLACK_BOT_TOKEN", "xoxb-", f"for `bizdevops {mode}`")
    if mode == "serve":
        signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip()
        if not signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is required for `bizdevops serve`")
    if mode == "socket":
        app_token = _require(env, "SLACK_APP_TOKEN", "xapp-", "for `bizdevops socket`")
    port = _int(env, "PORT", 3000, 1, 65535)
    api_url = _url(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL)
    return Settings(
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        database_url=_database_url(env),
        port=port,
        admins=_admins(env),
        pipelines_path=env.get("BIZDEVOPS_PIPELINES", "").strip(),
        webhook_secret=env.get("BIZDEVOPS_WEBHOOK_SECRET", "").strip(),
        public_url=_url(env, "BIZDEVOPS_PUBLIC_URL", f"http://localhost:{port}").rstrip("/"),
        timezone=_timezone(env),
        log_level=_choice(env, "LOG_LEVEL", "INFO", LOG_LEVELS),
        log_format=_choice(env, "LOG_FORMAT", "console", ("console", "json")),
        dev_timebox=timedelta(weeks=_int(env, "BIZDEVOPS_DEV_TIMEBOX_WEEKS", 6, 1, 52)),
        lock_reminder=timedelta(hours=_int(env, "BIZDEVOPS_LOCK_REMINDER_HOURS", 24, 1, 24 * 30)),
        lease=timedelta(seconds=_int(env, "BIZDEVOPS_LEASE_SECONDS", 60, 5, 3600)),
        kpi_sources_path=env.get("BIZDEVOPS_KPI_SOURCES", "").strip(),
        mlflow_url=_url(env, "BIZDEVOPS_MLFLOW_URL", "") if env.get("BIZDEVOPS_MLFLOW_URL", "").strip()
        else "",
        mlflow_token=env.get("BIZDEVOPS_MLFLOW_TOKEN", "").strip(),
        mlflow_webhook_secret=env.get("BIZDEVOPS_MLFLOW_WEBHOOK_SECRET", "").strip(),
        github_api_url=_url(env, "BIZDEVOPS_GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        github_token=env.get("BIZDEVOPS_GITHUB_TOKEN", "").strip(),
        metrics_token=env.get("BIZDEVOPS_METRICS_TOKEN", "").strip(), **_dashboard(env))


def _dashboard(env: Mapping[str, str]) -> dict[str, Any]:
    """Sign in with Slack, and whether messages link to the dashboard."""
    return {"slack_client_id": env.get("SLACK_CLIENT_ID", "").strip(),
            "slack_client_secret": env.get("SLACK_CLIENT_SECRET", "").strip(),
            "slack_url": _url(env, "BIZDEVOPS_SLACK_URL", "https://slack.com").rstrip("/"),
            "session_secret": env.get("BIZDEVOPS_SESSION_SECRET", "").strip(),
            "links": bool(env.get("BIZDEVOPS_PUBLIC_URL", "").strip())}
