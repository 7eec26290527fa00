"""Logging set-up: console or one JSON object a line, and secrets masked whatever the format.

The bot's own lines carry their facts on the record (``bot.log_events``): JSON writes them as
typed fields, never by taking the message apart. A traceback is part of its record: inside the
JSON object (one line), masked like the rest. Libraries' per-run chatter (APScheduler's
"Running job ...", "... executed successfully") is DEBUG here, not INFO.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from aiohttp.http_exceptions import HttpProcessingError

from bot.log_events import FIELDS, fields_of, plain, render
from bot.masking import mask

_BOLT_TOKEN_NOTE = "As you gave `client` as well, `token` will be unused."
# Loggers whose INFO lines come with every run of something (APScheduler: two a job, each run).
CHATTY = ("apscheduler",)
# The JSON object's own keys; a field of the same name is written with a "_" after it.
RESERVED = frozenset({"time", "level", "logger", "message", "exception", "stack"})
_traceback = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Masks every configured secret in a record: its message, its fields and its traceback
    (formatted here once, so every handler after this one writes the masked text)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(_BOLT_TOKEN_NOTE):
            return False  # bolt reads SLACK_BOT_TOKEN itself; our client carries it on purpose
        facts = fields_of(record)
        if facts is not None:
            facts = {key: self._mask(plain(value)) for key, value in facts.items()}
            setattr(record, FIELDS, facts)
            message = render(facts)
        record.msg, record.args = mask(message, self._secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = mask(record.stack_info, self._secrets)
        return True

    def _mask(self, value: object) -> object:
        return mask(value, self._secrets) if isinstance(value, str) else value


class QuietChatter(logging.Filter):
    """A chatty library's INFO line is DEBUG: written only when ``LOG_LEVEL=DEBUG``."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self._level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.name.startswith(CHATTY):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self._level <= logging.DEBUG
        return True


class OneLineForBadRequests(logging.Filter):
    """aiohttp logs a request it could not even parse (a request line over 8 KiB, a broken
    header) with a traceback at ERROR, before any handler runs; it has answered 400 already.
    Such a record becomes one WARNING line; a handler's crash keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            facts = {"action": "bad_http_request", "error": type(error).__name__, "status": error.code}
            setattr(record, FIELDS, facts)
            record.msg, record.args, record.exc_info, record.exc_text = render(facts), None, None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_bad_requests() -> None:
    """Install :class:`OneLineForBadRequests` on aiohttp's server logger, once."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, OneLineForBadRequests) for f in server.filters):
        server.addFilter(OneLineForBadRequests())


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, then the record's fields as they are typed
    (``message`` is the action), or the message of a line that has none; a traceback inside."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
        }
        facts = fields_of(record)
        if facts is None:
            entry["message"] = record.getMessage()
        else:
            entry["message"] = facts.get("action", "")
            for key, value in facts.items():
                entry[f"{key}_" if key in RESERVED else key] = plain(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, fmt: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.setLevel(level)
    handler.addFilter(QuietChatter(root.level))  # first: a line dropped needs no masking
    handler.addFilter(RedactSecrets(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
