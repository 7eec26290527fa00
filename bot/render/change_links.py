"""What a deployment's version is, in words: "commit abc1234" or "model v7", a link to it where
there is a safe one (the commit on GitHub, the version in MLflow's UI), plain text where not."""

from __future__ import annotations

from bot.domain.changes import Change, ChangeKind
from bot.render.mrkdwn import escape, link


def change_label(change: Change) -> str:
    """The words alone (plain text: a fallback, a terminal)."""
    if change.kind is ChangeKind.COMMIT:
        return f"commit {change.short}"
    return f"model v{change.short}"


def change_link(change: Change | None) -> str:
    """mrkdwn: the label linked to the change, or escaped when no safe URL is known; "" when
    the version's change is not known."""
    if change is None:
        return ""
    label = change_label(change)
    return link(change.url, label) or escape(label)
