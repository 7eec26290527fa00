"""Settings from the environment: defaults, per-mode requirements, one clear line per problem."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from bot.config import ConfigError, Settings, load_settings

BOT_TOKEN = "xoxb-1111-2222-SeCrEtBoTtOkEn"
SIGNING_SECRET = "0123456789abcdef-signing-secret"
APP_TOKEN = "xapp-1-A111-2222-SeCrEtApPtOkEn"
WEBHOOK_SECRET = "webhook-hmac-key-value"
SERVE = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
SOCKET = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}


def refused(env: dict[str, str], mode: str = "shell") -> str:
    with pytest.raises(ConfigError) as bad:
        load_settings(env, mode=mode)
    message = str(bad.value)
    assert "\n" not in message  # one clear line
    return message


# ── defaults ─────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("mode", ["shell", "migrate", "manifest", "check-config", "token"])
def test_defaults_with_an_empty_env(mode: str) -> None:
    settings = load_settings({}, mode=mode)
    assert settings == Settings()
    assert settings.slack_bot_token == settings.slack_signing_secret == ""
    assert settings.slack_app_token == settings.webhook_secret == ""
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite+aiosqlite:///./bizdevops.db"
    assert settings.port == 3000
    assert settings.admins == frozenset()
    assert settings.pipelines_path == ""
    assert settings.public_url == "http://localhost:3000"
    assert settings.timezone == "UTC"
    assert (settings.log_level, settings.log_format) == ("INFO", "console")
    assert settings.dev_timebox == timedelta(weeks=6)
    assert settings.secrets() == ()


def test_blank_values_count_as_unset() -> None:
    blank = {name: "  " for name in (
        "SLACK_API_URL", "DATABASE_URL", "PORT", "BIZDEVOPS_ADMINS", "BIZDEVOPS_PUBLIC_URL",
        "BIZDEVOPS_TIMEZONE", "LOG_LEVEL", "LOG_FORMAT", "BIZDEVOPS_PIPELINES")}
    assert load_settings(blank) == Settings()


def test_serve_and_socket_load_their_tokens() -> None:
    serve = load_settings(SERVE, mode="serve")
    assert (serve.slack_bot_token, serve.slack_signing_secret) == (BOT_TOKEN, SIGNING_SECRET)
    socket = load_settings(SOCKET, mode="socket")
    assert (socket.slack_bot_token, socket.slack_app_token) == (BOT_TOKEN, APP_TOKEN)
    assert socket.slack_signing_secret == ""  # not needed for Socket Mode


def test_tokens_are_trimmed() -> None:
    env = {"SLACK_BOT_TOKEN": f"  {BOT_TOKEN}\n", "SLACK_SIGNING_SECRET": f" {SIGNING_SECRET} "}
    settings = load_settings(env, mode="serve")
    assert (settings.slack_bot_token, settings.slack_signing_secret) == (BOT_TOKEN, SIGNING_SECRET)


# ── Slack settings per mode ──────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("mode", "env", "variable", "fragment"),
    [
        ("serve", {"SLACK_SIGNING_SECRET": SIGNING_SECRET}, "SLACK_BOT_TOKEN", "is required"),
        ("serve", {**SERVE, "SLACK_BOT_TOKEN": "  "}, "SLACK_BOT_TOKEN", "is required"),
        ("serve", {**SERVE, "SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN", "xoxb-"),
        ("serve", {**SERVE, "SLACK_BOT_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN", "malformed"),
        ("serve", {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET", "is required"),
        ("serve", {**SERVE, "SLACK_SIGNING_SECRET": " "}, "SLACK_SIGNING_SECRET", "is required"),
        ("socket", {"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN", "is required"),
        ("socket", {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN", "is required"),
        ("socket", {**SOCKET, "SLACK_APP_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN", "xapp-"),
        ("socket", {**SOCKET, "SLACK_APP_TOKEN": "app-token"}, "SLACK_APP_TOKEN", "malformed"),
    ],
)
def test_missing_or_malformed_slack_settings_are_named(
    mode: str, env: dict[str, str], variable: str, fragment: str
) -> None:
    message = refused(env, mode)
    assert message.startswith(variable)
    assert fragment in message
    for value in env.values():  # the message names the variable, never echoes a secret
        if value.strip():
            assert value.strip() not in message


@pytest.mark.parametrize("mode", ["shell", "migrate"])
def test_other_modes_need_no_slack_settings_and_ignore_them(mode: str) -> None:
    settings = load_settings({**SERVE, "SLACK_APP_TOKEN": "not-checked"}, mode=mode)
    assert settings.slack_bot_token == settings.slack_app_token == ""


# ── other settings ───────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("port", ["abc", "0", "70000", "65536", "-1", "80.5", "3e3", "0x50"])
def test_bad_port(port: str) -> None:
    message = refused({"PORT": port})
    assert message.startswith("PORT is malformed") and "1 to 65535" in message


def test_superscript_port_is_a_config_error() -> None:
    refused({"PORT": "²"})


@pytest.mark.parametrize(("port", "expected"), [("1", 1), ("8080", 8080), ("65535", 65535)])
def test_port_and_the_default_public_url(port: str, expected: int) -> None:
    settings = load_settings({"PORT": port})
    assert settings.port == expected
    assert settings.public_url == f"http://localhost:{expected}"


@pytest.mark.parametrize("url", ["mysql://x", "not a url", "postgresql+psycopg2://u@h/db",
                                 "sqlite+pysqlite:///x.db", "://"])
def test_bad_database_url(url: str) -> None:
    assert refused({"DATABASE_URL": url}).startswith("DATABASE_URL is malformed")


@pytest.mark.parametrize(("url", "problem"), [
    ("postgresql://u:pw@localhost:abc/db", "its port is not a number"),
    ("postgresql://u@localhost:-1/db", "port -1 is not from 1 to 65535"),
    ("postgresql+asyncpg://u@localhost:99999/db", "port 99999 is not from 1 to 65535"),
    ("postgresql+asyncpg://u@localhost:0/db", "port 0 is not from 1 to 65535"),
])
def test_a_database_url_with_a_bad_port_is_one_line(url: str, problem: str) -> None:
    message = refused({"DATABASE_URL": url})
    assert message == f"DATABASE_URL is malformed: {problem}"
    assert "pw" not in message


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u:pw@h:5433/db", "postgresql+asyncpg://u:pw@h:5433/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_database_url_gets_the_async_driver(url: str, normalised: str) -> None:
    loaded = load_settings({"DATABASE_URL": url}).database_url
    # compare parsed URLs: SQLAlchemy may percent-encode e.g. ``:memory:`` when rendering
    assert make_url(loaded) == make_url(normalised)
    assert loaded.startswith(normalised.split(":", 1)[0] + "://")


@pytest.mark.parametrize(
    "admins", ["alice", "U012ABC,alice", "u012abc", "U1", "C012ABCDEF", "<@U012ABC>"]
)
def test_bad_admins_entry(admins: str) -> None:
    message = refused({"BIZDEVOPS_ADMINS": admins})
    assert message.startswith("BIZDEVOPS_ADMINS is malformed")


def test_admins_list() -> None:
    settings = load_settings({"BIZDEVOPS_ADMINS": " U012ABCDEF, W0XYZ ,,U012ABCDEF"})
    assert settings.admins == frozenset({"U012ABCDEF", "W0XYZ"})


@pytest.mark.parametrize("zone", ["Mars/Base", "Europe/Berl", "../etc/passwd", "UTC+2", "x" * 300])
def test_unknown_timezone_refused(zone: str) -> None:
    message = refused({"BIZDEVOPS_TIMEZONE": zone})
    assert message.startswith("BIZDEVOPS_TIMEZONE is malformed") and zone in message


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC"])
def test_known_timezone_accepted(zone: str) -> None:
    assert load_settings({"BIZDEVOPS_TIMEZONE": zone}).timezone == zone


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("LOG_FORMAT", "json", "log_format", "json"),
        ("LOG_FORMAT", "JSON", "log_format", "json"),
        ("LOG_FORMAT", "console", "log_format", "console"),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("LOG_LEVEL", "WARNING", "log_level", "WARNING"),
    ],
)
def test_log_settings(name: str, value: str, attribute: str, expected: str) -> None:
    assert getattr(load_settings({name: value}), attribute) == expected


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")])
def test_bad_log_settings(name: str, value: str) -> None:
    assert refused({name: value}).startswith(f"{name} is malformed")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/"),
        ("https://slack.com/api", "https://slack.com/api/"),
    ],
)
def test_slack_api_url_gets_a_trailing_slash(url: str, expected: str) -> None:
    assert load_settings({"SLACK_API_URL": url}).slack_api_url == expected


@pytest.mark.parametrize("url", ["ftp://x/api", "localhost:8080", "http://", "slack.com/api"])
def test_bad_slack_api_url(url: str) -> None:
    assert refused({"SLACK_API_URL": url}).startswith("SLACK_API_URL is malformed")


def test_public_url_loses_its_trailing_slash_and_must_be_http() -> None:
    assert load_settings({"BIZDEVOPS_PUBLIC_URL": "https://bot.example.com/"}).public_url == (
        "https://bot.example.com")
    assert refused({"BIZDEVOPS_PUBLIC_URL": "bot.example.com"}).startswith("BIZDEVOPS_PUBLIC_URL")


@pytest.mark.parametrize(("weeks", "ok"), [("4", True), ("52", True), ("0", False), ("x", False)])
def test_dev_timebox_weeks(weeks: str, ok: bool) -> None:
    env = {"BIZDEVOPS_DEV_TIMEBOX_WEEKS": weeks}
    if ok:
        assert load_settings(env).dev_timebox == timedelta(weeks=int(weeks))
    else:
        assert refused(env).startswith("BIZDEVOPS_DEV_TIMEBOX_WEEKS is malformed")


def test_pipelines_path_is_passed_through() -> None:
    assert load_settings({"BIZDEVOPS_PIPELINES": " ./pipes.toml "}).pipelines_path == "./pipes.toml"


# ── secrets ──────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("mode", "env", "secrets"),
    [
        ("serve", {**SERVE, "BIZDEVOPS_WEBHOOK_SECRET": WEBHOOK_SECRET},
         (BOT_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET)),
        ("socket", SOCKET, (BOT_TOKEN, APP_TOKEN)),
    ],
)
def test_repr_hides_secrets_and_secrets_lists_them(
    mode: str, env: dict[str, str], secrets: tuple[str, ...]
) -> None:
    settings = load_settings(env, mode=mode)
    for text in (repr(settings), str(settings)):
        for secret in secrets:
            assert secret not in text
    assert set(settings.secrets()) == set(secrets)


def test_database_password_is_treated_as_a_secret() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://bot:hunter2@db/bizdevops"})
    assert "hunter2" not in repr(settings)
    assert "hunter2" in settings.secrets()
