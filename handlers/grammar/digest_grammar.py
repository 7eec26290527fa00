"""The `/digest` grammar."""

from __future__ import annotations

from bot.services.commands import (
    DigestCommand,
    PostDigestNow,
    PreviewDigest,
    ScheduleDigest,
    ShowDigestSchedule,
    StopDigest,
)
from handlers.grammar.parsing import HelpRequested, UsageError, shown, split

CRON_MAX = 120  # the stored schedule's width
TZ_MAX = 64      # and its time zone's

USAGE = {
    "": "/digest",
    "now": "/digest now",
    "schedule": '/digest schedule "<cron>" [tz=<IANA zone>]',
    "off": "/digest off",
    "preview": "/digest preview",
}
HELP = [
    (USAGE[""], "This channel's digest schedule and its next run."),
    (USAGE["now"], "Post a digest here now."),
    (USAGE["preview"], "Show the digest only to you, without posting it."),
    (USAGE["schedule"], 'Schedule it, e.g. `"0 9 * * mon-fri" tz=Europe/Berlin` (5-field cron).'),
    (USAGE["off"], "Stop the scheduled digest here."),
]


# The sub-commands that take nothing more, each its own command.
PLAIN: dict[str, DigestCommand] = {"": ShowDigestSchedule(), "now": PostDigestNow(),
                                   "preview": PreviewDigest(), "off": StopDigest()}


def parse_digest(text: str) -> DigestCommand:
    words = text.strip().split(maxsplit=1)
    verb = words[0].lower() if words else ""
    rest = words[1] if len(words) > 1 else ""
    if verb in ("help", "-h", "--help"):
        raise HelpRequested()
    if verb not in USAGE:
        raise UsageError(f"Unknown sub-command `{shown(verb)}`. Try: now, preview, schedule, off, help.",
                         "/digest help")
    usage = USAGE[verb]
    if verb != "schedule":
        if rest.strip():
            raise UsageError(f"`/digest {verb}` takes nothing more.", usage)
        return PLAIN[verb]
    tokens = split(rest, allowed=frozenset({"tz"}), usage=usage)
    if len(tokens.positional) != 1:
        raise UsageError('Put the cron expression in quotes, e.g. `/digest schedule "0 9 * * mon-fri"`.',
                         usage)
    cron = " ".join(tokens.positional[0].split())  # as it is stored
    if len(cron) > CRON_MAX:
        raise UsageError(f"The schedule is {len(cron)} characters long; at most {CRON_MAX} fit. "
                         "Ranges and steps (`1-5`, `*/15`) say more in less.", usage)
    tz = tokens.options.get("tz")
    if tz is not None and len(tz) > TZ_MAX:  # ZoneInfo even fails with OSError on a long one
        raise UsageError(f"`tz=` is {len(tz)} characters long; a time zone's name is at most {TZ_MAX}, "
                         "e.g. `tz=Europe/Berlin`.", usage)
    return ScheduleDigest(tokens.positional[0], tz)
