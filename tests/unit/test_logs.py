"""The app's logging (bot/logs.py, bot/log_events.py) as its handler writes it: facts kept as
typed fields (never taken back out of the message), one JSON object a line with its traceback
inside, secrets masked in every part of a line whatever the format, and APScheduler's per-run
lines below INFO."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.log_events import get_logger
from bot.logs import configure
from bot.masking import MASK

TOKEN = "xoxb-1234567890-abcdefghij"  # noqa: S105 - a made-up secret the logs must mask
log = get_logger("bot.test_logs")
Install = Callable[..., io.StringIO]


class Colour(Enum):
    RED = "red"


@pytest.fixture
def install() -> Iterator[Install]:
    """``configure`` as the app calls it, writing to a buffer; everything put back after."""
    root = logging.getLogger()
    names = ("aiohttp.access", "alembic")
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in names})

    def installing(fmt: str, level: str = "INFO") -> io.StringIO:
        configure(level, fmt, [TOKEN])
        out = io.StringIO()
        [handler] = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(out)  # type: ignore[arg-type]
        return out

    yield installing
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_fields_keep_their_types_and_their_spaces(install: Install) -> None:
    out = install("json")
    log.info("slack_refused", status=401, reason="bad or missing signature", ok=False, wait_s=2.5,
             gone=None, colour=Colour.RED, at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
             took=timedelta(minutes=2))
    [line] = _lines(out)
    assert line["message"] == line["action"] == "slack_refused"
    assert line["level"] == "INFO" and line["logger"] == "bot.test_logs"
    assert line["status"] == 401 and line["ok"] is False and line["wait_s"] == 2.5
    assert line["reason"] == "bad or missing signature", "a value with spaces survives whole"
    assert line["gone"] is None and line["colour"] == "red" and line["took"] == 120.0
    assert line["at"] == "2030-01-02T03:04:00+00:00"


def test_a_field_named_like_the_lines_own_keys_does_not_replace_them(install: Install) -> None:
    out = install("json")
    log.warning("odd", message="mine", level=3)
    [line] = _lines(out)
    assert (line["message"], line["message_"], line["level"], line["level_"]) == ("odd", "mine", "WARNING", 3)


def test_a_librarys_message_is_left_whole(install: Install) -> None:
    out = install("json")
    logging.getLogger("somelib").warning("status=%s reason=%s", 503, "went away")
    [line] = _lines(out)
    assert line["message"] == "status=503 reason=went away"
    assert "status" not in line and "reason" not in line, "no fields read out of a message"


def test_the_console_line_reads_as_before_and_quotes_what_has_spaces(install: Install) -> None:
    out = install("console")
    log.info("slack_refused", status=401, reason="bad or missing signature", note='say "hi"\nbye')
    [line] = out.getvalue().splitlines()  # a line break inside a value stays inside the line
    assert line.endswith('bot.test_logs: action=slack_refused status=401 '
                         'reason="bad or missing signature" note="say \\"hi\\"\\nbye"')


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secrets_are_masked_in_fields_and_messages(install: Install, fmt: str) -> None:
    out = install(fmt)
    log.warning("mlflow.alias_unread", reason=f"401 for token {TOKEN}", url=f"https://u:{TOKEN}@h/")
    logging.getLogger("somelib").error("sent %s", TOKEN)
    written = out.getvalue()
    assert TOKEN not in written
    assert written.count(MASK) == 3


def _fail() -> None:
    raise RuntimeError(f"Slack said no to {TOKEN}")


def test_a_traceback_is_one_masked_json_line(install: Install) -> None:
    out = install("json")
    try:
        _fail()
    except RuntimeError:
        log.exception("handler_error", user="UALICE", token_len=len(TOKEN))
    written = out.getvalue()
    assert written.count("\n") == 1, "one record, one line"
    [line] = _lines(out)
    assert line["level"] == "ERROR" and line["action"] == "handler_error" and line["token_len"] == 26
    trace = str(line["exception"])
    assert trace.startswith("Traceback") and "in _fail" in trace
    assert f"RuntimeError: Slack said no to {MASK}" in trace
    assert TOKEN not in written


def test_a_console_traceback_is_masked_too(install: Install, caplog: pytest.LogCaptureFixture) -> None:
    out = install("console")
    logging.getLogger().addHandler(caplog.handler)  # after the app's: sees the record as written
    try:
        _fail()
    except RuntimeError:
        logging.getLogger("somelib").exception("it broke")
    assert "Traceback" in out.getvalue() and MASK in out.getvalue()
    assert TOKEN not in out.getvalue()
    assert [r for r in caplog.records if r.exc_text and TOKEN not in r.exc_text and MASK in r.exc_text]


async def _run_jobs(times: int) -> None:
    """A real APScheduler running a job ``times`` times, as the bot's scheduler does."""
    ran = asyncio.Event()
    count = 0

    def job() -> None:
        nonlocal count
        count += 1
        if count == times:
            ran.set()

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    try:
        for _ in range(times):
            scheduler.add_job(job, "date", run_date=datetime.now(UTC))
        await asyncio.wait_for(ran.wait(), 10)
        await asyncio.sleep(0.05)  # "executed successfully" comes after the job returns
    finally:
        scheduler.shutdown(wait=False)


async def test_apscheduler_logs_nothing_at_info_per_run(install: Install) -> None:
    out = install("json")
    await _run_jobs(3)
    assert not [line for line in _lines(out) if str(line["logger"]).startswith("apscheduler")
                and line["level"] == "INFO"]


async def test_apscheduler_runs_are_there_at_debug(install: Install) -> None:
    out = install("json", "DEBUG")
    await _run_jobs(2)
    runs = [line for line in _lines(out) if line["logger"] == "apscheduler.executors.default"
            and str(line["message"]).startswith("Running job")]
    assert len(runs) == 2 and {line["level"] for line in runs} == {"DEBUG"}
