"""The words of refused KPI, target, KPI source and digest requests, and of schedules that can't
be used (bot/domain/metrics.py, bot/domain/schedule.py and their services): merged into
bot/render/refusals.py. Facts are raw text; shown here, escaped and clipped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.render.durations import humanize
from bot.render.mrkdwn import escape

if TYPE_CHECKING:  # refusals.py imports this table
    from bot.render.refusals import Words

NUMBER_EXAMPLE = "write it like `0.87`, `-3` or `1.5e6`"
CRON_EXAMPLE = "Example: `0 9 * * mon-fri` = 09:00 on weekdays."
ZONE_EXAMPLE = " Use an IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`."
# A cron's fields in words, and what each takes; the weekday is refused on its own.
CRON_FIELDS = {"minute": ("minute", "0–59"), "hour": ("hour", "0–23"),
               "day": ("day of the month", "1–31"), "month": ("month", "1–12 or jan–dec")}
# What a schedule is called in the refusal that counts its fields.
SCHEDULE_SUBJECTS = {"digest": "a digest schedule", "cron": "a cron"}


def _shown(text: str) -> str:
    """Text a person typed, quoted in a refusal: at most 60 characters, escaped."""
    return escape(text if len(text) <= 60 else text[:59] + "…")


def _names(names: tuple[str, ...], none: str) -> str:
    return ", ".join(f"`{n}`" for n in names) or none


def _metric_name(f: dict[str, Any]) -> str:
    hint = f" Did you mean `{escape(f['suggestion'])}`?" if f["suggestion"] else ""
    return (f"`{escape(f['name'])}` is not a valid metric name: use 1–64 lowercase letters, digits "
            f"and `_ . -`, starting with a letter or digit, e.g. `accuracy` or `p95_latency_ms`."
            f"{hint}")


def _field_count(f: dict[str, Any]) -> str:
    count = f["count"]
    extra = " Seconds and years are not supported." if count in (6, 7) else ""
    return (f"`{_shown(f['cron'])}` has {count} field{'s' if count != 1 else ''}; "
            f"{SCHEDULE_SUBJECTS[f['subject']]} has 5: minute hour day month weekday.{extra} "
            f"{CRON_EXAMPLE}")


def _bad_field(f: dict[str, Any]) -> str:
    label, allowed = CRON_FIELDS[f["field"]]
    return (f"`{_shown(f['value'])}` is not a valid {label} ({allowed}) in `{_shown(f['cron'])}`. "
            f"{CRON_EXAMPLE}")


REFUSALS: dict[str, Words] = {
    # values and targets (bot/domain/metrics.py)
    "metric_name_invalid": _metric_name,
    "metric_value_missing": f"A value is needed: {NUMBER_EXAMPLE}.",
    "metric_value_too_large": lambda f: f"`{escape(f['raw'])}` is too large to store; {NUMBER_EXAMPLE}.",
    "metric_value_percent": lambda f: f"Give the unit separately: `{escape(f['raw'][:-1])} unit=%`.",
    "metric_value_separators": lambda f: (f"`{escape(f['raw'])}`: write numbers without separators, "
                                          f"with `.` for decimals; {NUMBER_EXAMPLE}."),
    "metric_value_not_finite": lambda f: f"`{escape(f['raw'])}` is not a finite number; {NUMBER_EXAMPLE}.",
    "metric_value_not_number": lambda f: f"`{escape(f['raw'])}` is not a number; {NUMBER_EXAMPLE}.",
    "metric_unit_too_long": "The unit is {length} characters long; at most {most} are allowed.",
    "metric_unit_not_one_line": "The unit must be one line of plain text, e.g. `unit=ms` or `unit=%`.",
    "metric_not_a_comparison": lambda f: (f"`{escape(f['text'])}` is not a comparison: use `>=`, "
                                          "`<=`, `>` or `<`."),
    "metric_not_a_target": lambda f: (f"`{escape(f['text'].strip()[:40])}` is not a target: write a "
                                      "comparison and a number, e.g. `>= 0.83`."),
    # `/metric` (bot/services/metrics.py, bot/services/kpis.py)
    "metric_record_not_allowed": ("Only the owner <@{owner}>, the team of `{slug}` or an admin may "
                                  "record its KPIs."),
    "metric_target_not_allowed": "Only the owner <@{owner}> or an admin may set targets of `{slug}`.",
    "metric_unknown_kpi": lambda f: (f"`{f['slug']}` has no KPI `{f['name']}` "
                                     f"(known: {_names(f['known'], 'none yet')})."),
    "kpi_pull_not_allowed": ("Only the owner <@{owner}>, the team of `{slug}` or an admin may pull "
                             "its KPIs."),
    "kpi_without_source": lambda f: (f"`{f['slug']}` has no KPI `{f['name']}` with a source (with a "
                                     f"source: {_names(f['known'], 'none')}). Sources are declared "
                                     "in the KPI source file."),
    # `/digest` (bot/services/digests.py)
    "digest_schedule_not_allowed": lambda f: (
        "Only admins and the owners of use cases homed in this channel "
        f"({', '.join(f'<@{o}>' for o in f['owners']) or 'nobody yet'}) may schedule its digest."),
    # schedules (bot/domain/schedule.py)
    "schedule_never_fires": "`{cron}` never fires: no date matches it. " + CRON_EXAMPLE,
    "schedule_zone_empty": "The time zone is empty." + ZONE_EXAMPLE,
    "schedule_zone_unknown": lambda f: f"`{_shown(f['zone'])}` is not a time zone I know.{ZONE_EXAMPLE}",
    "schedule_empty": f"The schedule is empty. {CRON_EXAMPLE}",
    "schedule_field_count": _field_count,
    "schedule_bad_field": _bad_field,
    "schedule_bad_weekday": lambda f: (f"`{_shown(f['item'])}` is not a day of the week: use mon, "
                                       f"tue, … sun or 0–7 (0 and 7 are Sunday). {CRON_EXAMPLE}"),
    "schedule_too_often": lambda f: (f"`{f['cron']}` would post a digest every {humanize(f['gap'])}; "
                                     f"digests come at most once an hour. {CRON_EXAMPLE}"),
}
