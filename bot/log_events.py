"""Log lines with their facts kept as data: ``log.info("outbox.sent", outbox_id=7, attempts=2)``.

The standard library's ``extra=`` carries the fields on the record (``record.fields``, the action
first), so a formatter never has to take a message apart: the JSON format writes them as typed
fields (ints stay ints, a reason with spaces stays whole), the console format as
``action=outbox.sent outbox_id=7 attempts=2`` for people, a value with spaces or quotes quoted.
No third-party logging library: the handlers, levels and filters (``bot.logs``) stay the
standard ones every library already logs through.

This module imports nothing but the standard library: every layer that logs may use it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum

FIELDS = "fields"  # the record's attribute that holds them (``extra={"fields": ...}``)


def plain(value: object) -> object:
    """A field's value as JSON has it: numbers, booleans, None and text kept; an enum as its
    value; a time in ISO 8601; a duration in seconds; anything else as its text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


def shown(value: object) -> str:
    """A field's value for the console: as is when it is one plain word, else quoted (a line
    break or a quote inside escaped, so one record is always one line)."""
    value = plain(value)
    text = "-" if value is None else str(value)
    if not text or any(c.isspace() or c in '"=\\' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def render(fields: Mapping[str, object]) -> str:
    """``action=x key=value ...``: the console's line for these fields."""
    return " ".join(f"{key}={shown(value)}" for key, value in fields.items())


def fields_of(record: logging.LogRecord) -> dict[str, object] | None:
    found = getattr(record, FIELDS, None)
    return found if isinstance(found, dict) else None


class EventLogger:
    """A :class:`logging.Logger` whose calls name an action and its facts as keywords."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def debug(self, action: str, /, **fields: object) -> None:
        self._log(logging.DEBUG, action, fields)

    def info(self, action: str, /, **fields: object) -> None:
        self._log(logging.INFO, action, fields)

    def warning(self, action: str, /, **fields: object) -> None:
        self._log(logging.WARNING, action, fields)

    def error(self, action: str, /, **fields: object) -> None:
        self._log(logging.ERROR, action, fields)

    def exception(self, action: str, /, **fields: object) -> None:
        """An error with the exception being handled (its traceback goes with the line)."""
        self._log(logging.ERROR, action, {"exc_info": True, **fields})

    def _log(self, level: int, action: str, fields: dict[str, object]) -> None:
        if not self.logger.isEnabledFor(level):
            return
        exc_info = fields.pop("exc_info", None)
        facts = {"action": action, **fields}
        self.logger.log(level, render(facts), exc_info=exc_info,  # type: ignore[arg-type]
                        extra={FIELDS: facts}, stacklevel=3)


def get_logger(name: str) -> EventLogger:
    return EventLogger(name)
