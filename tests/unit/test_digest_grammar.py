"""`/digest` parses into a command of its own for each sub-command, like the other commands."""

from __future__ import annotations

import pytest

from bot.services.commands import (
    DigestCommand,
    PostDigestNow,
    PreviewDigest,
    ScheduleDigest,
    ShowDigestSchedule,
    StopDigest,
)
from handlers.grammar.digest_grammar import parse_digest
from handlers.grammar.parsing import HelpRequested, UsageError


@pytest.mark.parametrize(("text", "command"), [
    ("", ShowDigestSchedule()),
    ("now", PostDigestNow()),
    ("PREVIEW", PreviewDigest()),
    ("off", StopDigest()),
    ('schedule "0 9 * * mon-fri"', ScheduleDigest("0 9 * * mon-fri")),
    ('schedule "0  9 * * *" tz=Europe/Berlin', ScheduleDigest("0  9 * * *", "Europe/Berlin")),
])
def test_each_sub_command_is_its_own_command(text: str, command: DigestCommand) -> None:
    assert parse_digest(text) == command


@pytest.mark.parametrize(("text", "says"), [
    ("weekly", "Unknown sub-command `weekly`"),
    ("now please", "`/digest now` takes nothing more."),
    ("schedule 0 9 * * *", "Put the cron expression in quotes"),
])
def test_what_it_cannot_read_is_refused_saying_how(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        parse_digest(text)
    with pytest.raises(HelpRequested):
        parse_digest("help")
