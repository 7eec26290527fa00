"""The answer to `/deploy changes <slug> [<version>]`, from what the service found
(bot/domain/change_results.py): "3 changes not yet in production", the first commits or model
versions, and where to read the rest."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.domain.change_results import (
    ChangesAnswer,
    ChangesUnknown,
    CommitChanges,
    CommitLine,
    InProduction,
    ModelChanges,
    Unknowable,
)
from bot.domain.registry import ModelVersion
from bot.render.blocks import Message, context, message, section
from bot.render.change_links import change_link
from bot.render.mrkdwn import escape, one_line

TITLE_LIMIT = 100  # a commit's title as listed


def reply(found: ChangesAnswer) -> Message:
    match found:
        case CommitChanges():
            return _commits(found)
        case ModelChanges():
            return _model_versions(found)
        case ChangesUnknown():
            return _unknown(found)
    raise AssertionError(f"no words for {found!r}")


def _changes(count: int, *, noun: str = "change") -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _base(p: InProduction) -> str:
    what = f" ({shown})" if (shown := change_link(p.change)) else ""
    mixed = " — the oldest version still running; production runs more than one" if p.mixed else ""
    return f"Production runs `{escape(p.version)}`{what}, from deployment {p.deployment_id}{mixed}."


def _commits(found: CommitChanges) -> Message:
    c, head = found.comparison, escape(found.head)
    if c.ahead == 0:
        headline = f"✅ *{found.slug}*: nothing in `{head}` is missing from production."
    else:
        headline = f"📦 *{found.slug}*: {_changes(c.ahead)} not yet in production (up to `{head}`)."
    lines = [_commit_line(line) for line in c.commits]
    more = c.ahead - len(c.commits)
    if more > 0:
        lines.append(f"… and {more} more")
    notes = [_base(found.production)]
    if c.behind:
        notes.append(f"`{head}` lacks {_changes(c.behind, noun='commit')} that production has.")
    if c.url:
        notes.append(f"<{c.url}|Compare on GitHub> ({escape(found.repo)})")
    return _answer(headline, lines, notes)


def _commit_line(line: CommitLine) -> str:
    sha = f"<{line.url}|`{line.sha[:7]}`>" if line.url else f"`{line.sha[:7]}`"
    title = escape(one_line(line.title, TITLE_LIMIT)) or "(no title)"
    return f"• {sha} {title} — {escape(line.author) or 'unknown author'}"


def _model_versions(found: ModelChanges) -> Message:
    count = len(found.versions) + found.more
    model, head = escape(found.model), escape(found.head)
    if count == 0:
        headline = f"✅ *{found.slug}*: no version of `{model}` up to v{head} is missing from production."
    else:
        headline = (f"📦 *{found.slug}*: {_changes(count)} not yet in production — "
                    f"versions of `{model}` up to v{head}.")
    lines = [_version_line(v) for v in found.versions]
    if found.more:
        lines.append(f"… and {found.more} more")
    return _answer(headline, lines, [_base(found.production)])


def _version_line(v: ModelVersion) -> str:
    made = f", registered {_day(v.created)}" if v.created else ""
    aliases = f" ({', '.join('@' + escape(a) for a in v.aliases)})" if v.aliases else ""
    status = "" if v.status == "READY" else f" — {escape(v.status)}"
    run = f", run `{escape(v.run_id[:12])}`" if v.run_id else ""
    return f"• v{escape(v.version)}{aliases}{made}{run}{status}"


def _day(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def _unknown(found: ChangesUnknown) -> Message:
    if found.why is Unknowable.PRODUCTION:
        what = f"production's `{escape(found.production.version)}`"
        how = ("Versions point at changes when a `github-actions` or `mlflow` stage deploys them, "
               "or when the deployments API is given the commit.")
    else:
        what = f"`{escape(found.version or '')}`"
        how = ("Name a version deployed before, a commit sha, or leave the version out to compare "
               "with the newest.")
    headline = f"🤷 *{found.slug}*: the bot does not know what {what} contains."
    return _answer(headline, [], [_base(found.production), how])


def _answer(headline: str, lines: list[str], notes: list[str]) -> Message:
    blocks: list[Block] = [section(headline)]
    if lines:
        blocks.append(section("\n".join(lines)))
    blocks.append(context(*notes))
    text = "\n".join([headline, *lines, *notes])
    return message(text, blocks)
