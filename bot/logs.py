"""Logging set-up: console or one JSON object a line, and secrets masked whatever the format."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from aiohttp.http_exceptions import HttpProcessingError

_BOLT_TOKEN_NOTE = "As you gave `client` as well, `token` will be unused."


class RedactSecrets(logging.Filter):
    """Replaces any configured secret in a record's final message with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(_BOLT_TOKEN_NOTE):
            return False  # bolt reads SLACK_BOT_TOKEN itself; our client carries it on purpose
        for secret in self._secrets:
            message = message.replace(secret, "[redacted]")
        record.msg, record.args = message, None
        return True


class OneLineForBadRequests(logging.Filter):
    """aiohttp logs a request it could not even parse (a request line over 8 KiB, a broken
    header) with a traceback at ERROR, before any handler runs; it has answered 400 already.
    Such a record becomes one WARNING line; a handler's crash keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg = f"action=bad_http_request error={type(error).__name__} status={error.code}"
            record.args, record.exc_info, record.exc_text = None, None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_bad_requests() -> None:
    """Install :class:`OneLineForBadRequests` on aiohttp's server logger, once."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, OneLineForBadRequests) for f in server.filters):
        server.addFilter(OneLineForBadRequests())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # "action=x key=y" pairs become fields too, so log search can filter on them.
        for word in entry["message"].split():
            key, eq, value = word.partition("=")
            if eq and key.isidentifier():
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: str, fmt: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
