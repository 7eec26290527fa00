"""An audit event's detail in words — in the `/deploy status` trail (mrkdwn) and in the audit
export (plain text, one row per event: ``bot.domain.audit``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from bot.domain.audit import AuditEvent
from bot.domain.deployment_model import PEOPLE_ASKED
from bot.domain.usecases import Phase
from bot.render.deploy_stop_words import stop_reason
from bot.render.freeze_blocks import kept_passage
from bot.render.mrkdwn import escape
from bot.render.plain_text import plain_text

COLUMNS = ("at", "actor", "use_case", "deployment_id", "action", "detail")


def said_of(kind: str, version: str, pipeline: str, *, dry_run: bool, rollback: bool) -> str:
    """What a requested or succeeded event says: the deployment's own facts (older versions
    kept these words in the event)."""
    if kind == "requested":
        what = "rollback requested" if rollback else "requested"
        return escape(f"{what}: {version} via {pipeline}")
    if kind == "succeeded":
        return "dry run: nothing was deployed" if dry_run else escape(f"{version} is out")
    return ""


def event_words(kind: str, detail: str, tz: str, *, said: str = "") -> str:
    """An event's detail in mrkdwn, whole; ``said`` when it kept none."""
    if not detail:
        return said
    if kind in PEOPLE_ASKED:  # the people asked: user IDs
        return ", ".join(f"<@{who}>" for who in detail.split())
    if kind in ("override", "held"):  # the freeze windows met, kept as facts
        return kept_passage(detail, tz)
    if kind in ("failed", "timed_out"):  # why it stopped, kept as facts
        return stop_reason(detail)
    return escape(detail)


def moved_words(moved: tuple[str | None, str], note: str) -> str:
    """A phase change: "created in Biz", "Biz → Dev: the data is in" (plain text)."""
    before, after = (None if p is None else Phase(p).label for p in moved)
    if before is None:  # its note is the domain's own marker ("created")
        return f"created in {after}"
    return f"{before} → {after}: {note}" if note else f"{before} → {after}"


def export_fields(e: AuditEvent, tz: str, *,
                  say: Callable[[str], str] = plain_text) -> dict[str, object]:
    """``say``: the detail's mrkdwn as the reader reads it (plain text, user IDs kept)."""
    if e.moved is not None:
        where, detail = "", moved_words(e.moved, e.detail)
    else:
        said = said_of(e.action, e.version, e.pipeline, dry_run=e.dry_run, rollback=e.rollback)
        where = " · ".join(x for x in (e.stage or "", f"wave {e.wave}" if e.wave else "") if x)
        detail = say(event_words(e.action, e.detail, tz, said=said))
    return {"at": e.at.isoformat().replace("+00:00", "Z"), "actor": e.actor or "",
            "use_case": e.use_case, "deployment_id": e.deployment_id, "action": e.action,
            "detail": f"{where}: {detail}" if where and detail else where or detail}


def csv_lines(events: list[AuditEvent], tz: str, *, header: bool) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    if header:
        writer.writeheader()
    writer.writerows({k: _inert(v) for k, v in export_fields(e, tz).items()} for e in events)
    return out.getvalue()


# What a spreadsheet takes for the start of a formula: a cell starting so (a reason someone
# typed) gets a leading apostrophe, which the spreadsheet shows as text (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: object) -> object:
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


def json_lines(events: list[AuditEvent], tz: str) -> str:
    return "".join(json.dumps(export_fields(e, tz), ensure_ascii=False) + "\n" for e in events)
