"""The digest: what a program manager wants to read on Monday morning, within Slack's limits.

Part of the one renderer (helpers from ``bot.render.blocks``); a pure function of
:class:`bot.domain.digest_data.DigestData`, which the digest service fills from the database. Most
urgent first -- freeze windows open now, approvals waiting, Dev work over its time box -- then
what moved: phase changes, deployments, targets, KPIs, DORA. Sections with nothing to say are
left out. Long lists end with "and N more": every non-empty section keeps at least its title
line, whatever the volume, and nothing is cut silently.

All strings in the input are plain text and are escaped here (titles, notes, metric names, the
preformatted KPI strings, KPI names and units, freeze reasons); ``actor_id``/``owner_id``/``requested_by``
are Slack user ids and render as mentions; ``permalink`` is a Slack URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.domain.deployment_model import DeploymentState
from bot.domain.digest_data import (
    MAX_LINES,
    DeploymentLine,
    DigestData,
    KpiMovement,
    OverdueWork,
    PhaseCount,
    PhaseMove,
    WaitingApproval,
)
from bot.domain.metrics import format_number, with_unit
from bot.domain.usecases import Phase
from bot.render.blocks import (
    MAX_BLOCKS,
    MAX_SECTION,
    PHASE_ICONS,
    Message,
    clip,
    context,
    header,
    message,
    section,
)
from bot.render.dashboard_links import NO_LINKS, DashboardLinks, dashboard_link
from bot.render.deploy_blocks import STATE_LABELS
from bot.render.deploy_words import attention_line
from bot.render.durations import humanize
from bot.render.freeze_blocks import MAX_FREEZE_LINES, frozen_line
from bot.render.metric_blocks import crossing_line, dora_line, target_status
from bot.render.mrkdwn import escape, link
from bot.render.production_words import production_line

MAX_LINE = 400  # characters; long titles and notes are clipped before escaping
TITLE_CHARS, NOTE_CHARS = 80, 140


@dataclass(frozen=True)
class _Part:
    title: str
    lines: list[str]
    more: str  # what the hidden lines are: "and 12 more <more>"
    total: int  # lines in all, shown or not (the data may hold only the first ones)
    urgent: bool = False


def render_digest(data: DigestData, links: DashboardLinks = NO_LINKS) -> Message:
    """Header, period (and what it covers in the dashboard); phase counts; urgent sections; the
    quiet line or what moved; DORA."""
    parts = [p for p in _parts(data) if p.lines]
    page = links.portfolio(None if data.workspace else data.channel_id)
    period = " · ".join(filter(None, [_period(data), dashboard_link(page)]))
    top: list[Block] = [header(f"📋 BizDevOps digest — {_day(data.now, data.tz)}"), context(period)]
    if phases := phase_summary(data.phases):
        top.append(section(phases))
    quiet = [section(_quiet_line(data))] if _quiet(data) else []
    dora = [section(f"*📊 DORA*\n{escape(clip(dora_line(data.dora), MAX_LINE))}")] if data.dora else []
    budget = _budget([_need(p) for p in parts], MAX_BLOCKS - len(top) - len(quiet) - len(dora))
    packed = [(p.urgent, _packed(p, room)) for p, room in zip(parts, budget, strict=True)]
    urgent = [b for is_urgent, blocks in packed if is_urgent for b in blocks]
    moved = [b for is_urgent, blocks in packed if not is_urgent for b in blocks]
    return message(fallback(data), [*top, *urgent, *quiet, *moved, *dora], more="digest lines")


# ── sections ───────────────────────────────────────────────────────────────────────────────

def _parts(data: DigestData) -> list[_Part]:
    tz = data.tz
    approvals = sorted(data.approvals, key=lambda a: a.waiting_since)
    overdue = sorted(data.overdue, key=lambda o: -o.weeks_in_dev)
    moves = sorted(data.moves, key=lambda m: m.at)
    total = data.total
    return [
        # First: production left in a mix is somebody's to fix now.
        _Part(f"⚠️ Needs attention ({total('attention')})",
              [clip(f"• {attention_line(a.slug, a.production, a.lock, tz)}", MAX_LINE)
               for a in data.attention], "use cases", total("attention"),
              urgent=True),
        # Then: whether deployments may start at all this week matters for planning the rest.
        _Part(f"❄️ Frozen now ({total('freezes')})",
              [f"• {frozen_line(w, tz)}" for w in data.freezes[:MAX_FREEZE_LINES]], "freeze windows",
              total("freezes"), urgent=True),
        _Part(f"✋ Approvals waiting ({total('approvals')})",
              [approval_line(a, data.now) for a in approvals], "approvals", total("approvals"),
              urgent=True),
        _Part(f"⏰ Over the Dev time box ({total('overdue')})", [overdue_line(o) for o in overdue],
              "use cases", total("overdue"), urgent=True),
        _Part(f"🔀 Phase changes ({total('moves')})", [move_line(m, tz) for m in moves], "phase changes",
              total("moves")),
        _Part(_deploy_title(data), [deployment_line(d) for d in data.deployments], "deployments",
              total("deployments")),
        _Part(f"🎯 Targets crossed ({total('crossings')})",
              [f"• {escape(clip(crossing_line(c), MAX_LINE))}" for c in data.crossings], "crossings",
              total("crossings")),
        _Part(f"📈 KPI movements ({total('kpis')})", [kpi_line(k) for k in data.kpis], "KPIs",
              total("kpis")),
        _Part(f"🎯 In production ({total('production')})",
              [f"• *{escape(slug)}*: {production_line(p, tz)}" for slug, p in data.production],
              "use cases", total("production")),
    ]


def phase_summary(phases: Sequence[PhaseCount]) -> str:
    """One compact line: "*12 use cases* · 💼 Biz 3 · 🛠️ Dev 5 · ⚙️ Ops 2 · ♾️ Continuous 1"."""
    order = {p.value: i for i, p in enumerate(Phase)}
    counts = sorted((p for p in phases if p.count), key=lambda p: order.get(p.phase, len(order)))
    if not counts:
        return ""
    total = sum(p.count for p in counts if p.phase != Phase.ARCHIVED)
    return f"*{_plural(total, 'use case')}* · " + " · ".join(
        f"{_phase(p.phase)} {p.count}" for p in counts)


def approval_line(a: WaitingApproval, now: datetime) -> str:
    n = a.approvals_missing
    missing = f"needs {n} more approval{'s' if n != 1 else ''}" if n > 0 else "approved, continuing"
    opened = link(a.permalink, "open")
    return (f"• *{escape(a.slug)}* {escape(a.version)} → {escape(a.stage)} · waiting "
            f"{humanize(now - a.waiting_since, parts=1)} · {missing}{' · ' + opened if opened else ''}")


def overdue_line(o: OverdueWork) -> str:
    return (f"• *{escape(o.slug)}* — {escape(clip(o.title, TITLE_CHARS))} · <@{o.owner_id}> · "
            f"{_weeks(o.weeks_in_dev)} in Dev")


def move_line(m: PhaseMove, tz: str) -> str:
    note = f" — _{escape(clip(m.note, NOTE_CHARS))}_" if m.note.strip() else ""
    at = m.at.astimezone(ZoneInfo(tz))
    return (f"• *{escape(m.slug)}* — {escape(clip(m.title, TITLE_CHARS))}: {_phase(m.from_phase)} → "
            f"{_phase(m.to_phase)} · <@{m.actor_id}> · {at:%a} {at.day} {at:%b}{note}")


def deployment_line(d: DeploymentLine) -> str:
    label = _state(d.state)
    took = f" in {humanize(d.duration)}" if d.duration is not None else ""
    dry = " · _dry run_" if d.dry_run else ""
    return (f"• {label}{took} · *{escape(d.slug)}* {escape(d.version)} (#{d.deployment_id}) · "
            f"<@{d.requested_by}>{dry}")


def kpi_line(k: KpiMovement) -> str:
    latest = with_unit(format_number(k.latest), k.unit)
    note = target_status(k.target, k.latest, k.unit) if k.target else ""
    bits = [f"• *{escape(k.slug)}* {escape(k.name)}: {escape(latest)}",
            escape(k.change), f"`{escape(k.sparkline)}`" if k.sparkline else "", escape(note)]
    return clip(" · ".join(b for b in bits if b), MAX_LINE)


def fallback(data: DigestData) -> str:
    """Plain text for notifications: "Weekly digest: 12 use cases, 2 approvals waiting, …"."""
    total = sum(p.count for p in data.phases if p.phase != Phase.ARCHIVED)
    counts = [
        (data.total("attention"), "needs attention", "need attention"),
        (data.total("freezes"), "freeze window open", "freeze windows open"),
        (data.total("approvals"), "approval waiting", "approvals waiting"),
        (data.total("overdue"), "over the time box", "over the time box"),
        (data.total("moves"), "phase change", "phase changes"),
        (data.total("deployments"), "deployment", "deployments"),
        (data.total("crossings"), "target crossed", "targets crossed"),
        (data.total("kpis"), "KPI movement", "KPI movements"),
    ]
    shown = [_plural(total, "use case"), *(f"{n} {one if n == 1 else many}" for n, one, many in counts if n)]
    if _quiet(data):
        shown.append(f"a quiet {_period_word(data)}")
    name = {"day": "Daily digest", "week": "Weekly digest", "month": "Monthly digest"}
    return f"{name.get(_period_word(data), 'BizDevOps digest')}: " + ", ".join(shown)


# ── packing within Slack's limits ──────────────────────────────────────────────────────────

def _chunks(lines: Sequence[str]) -> list[str]:
    """Lines joined into texts of at most MAX_SECTION characters (each line fits on its own)."""
    out: list[str] = []
    for line in lines:
        if out and len(out[-1]) + 1 + len(line) <= MAX_SECTION:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def _texts(part: _Part, shown: int) -> list[str]:
    hidden = max(part.total, len(part.lines)) - shown
    more = [f"_… and {hidden} more {part.more}_"] if hidden else []
    return _chunks([f"*{part.title}*", *[clip(x, MAX_LINE) for x in part.lines[:shown]], *more])


def _need(part: _Part) -> int:
    return len(_texts(part, min(len(part.lines), MAX_LINES)))


def _packed(part: _Part, room: int) -> list[Block]:
    """As many lines as fit in ``room`` sections (and MAX_LINES), the rest counted."""
    shown = min(len(part.lines), MAX_LINES)
    while len(texts := _texts(part, shown)) > room:
        shown -= 1
    return [section(text) for text in texts]


def _budget(needs: Sequence[int], room: int) -> list[int]:
    """One block per section first, then round-robin in urgency order while there is room."""
    alloc = [1] * len(needs)
    room -= len(needs)
    while room > 0 and any(a < n for a, n in zip(alloc, needs, strict=True)):
        for i, n in enumerate(needs):
            if room > 0 and alloc[i] < n:
                alloc[i] += 1
                room -= 1
    return alloc


# ── small helpers ──────────────────────────────────────────────────────────────────────────

def _quiet(data: DigestData) -> bool:
    return not (data.moves or data.deployments or data.kpis or data.crossings)


def _quiet_line(data: DigestData) -> str:
    since = f"since {_day(data.since, data.tz)}" if data.since else "so far"
    return (f"😌 A quiet {_period_word(data)}: no phase changes, deployments or KPI movements "
            f"{since}.")


def _period_word(data: DigestData) -> str:
    if data.since is None:
        return "period"
    span = data.now - data.since
    return ("day" if span <= timedelta(days=1, hours=12) else "week" if span <= timedelta(days=8)
            else "month" if span <= timedelta(days=32) else "period")


def _period(data: DigestData) -> str:
    since = f"Since {_day(data.since, data.tz)}, {_clock(data.since, data.tz)}" if data.since \
        else "First digest here"
    covers = " · the use cases of every public channel (none is homed here)" if data.workspace else ""
    return f"{since} · <#{data.channel_id}>{covers} · times in {data.tz}"


def _day(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b %Y}"


def _clock(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _phase(name: str) -> str:
    try:
        phase = Phase(name)
    except ValueError:
        return escape(name)
    return f"{PHASE_ICONS[phase]} {phase.label}"


def _state(state: str) -> str:
    try:
        return STATE_LABELS[DeploymentState(state)]
    except (ValueError, KeyError):
        return escape(state)


def _deploy_title(data: DigestData) -> str:
    ok = data.deployments_in(DeploymentState.SUCCEEDED)
    bad = data.deployments_in(DeploymentState.FAILED, DeploymentState.EXPIRED)
    detail = ", ".join(x for x in (f"{ok} ✅" if ok else "", f"{bad} ❌" if bad else "") if x)
    return f"🚀 Deployments ({data.total('deployments')}{': ' + detail if detail else ''})"


def _weeks(value: float) -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} week{'' if text == '1' else 's'}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
