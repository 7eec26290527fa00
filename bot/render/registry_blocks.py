"""Rendering of the MLflow registry in the channel: a new model version (with its run's key
metrics and a Deploy button), and an alias moved outside the bot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot.domain.metrics import format_number
from bot.domain.mrkdwn import escape
from bot.render.blocks import Message, message, section
from bot.slack import ids

METRICS_SHOWN = 6


def deploy_button(slug: str, version: str) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=f"Deploy v{version}"[:75]),
                         action_id=ids.DEPLOY_VERSION, value=f"{slug}:{version}")


def _metrics(metrics: Mapping[str, float]) -> str:
    shown = sorted(metrics.items())[:METRICS_SHOWN]
    more = len(metrics) - len(shown)
    text = " · ".join(f"{escape(k)} {format_number(v)}" for k, v in shown)
    return text + (f" · and {more} more" if more > 0 else "")


def _tags(tags: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{escape(k)}={escape(v)}" for k, v in tags[:8])


def new_version(slug: str, model: str, version: str, run_id: str,
                metrics: Mapping[str, float], tags: Sequence[tuple[str, str]]) -> Message:
    text = f"🧪 New version *v{escape(version)}* of the model `{escape(model)}` (use case *{slug}*)"
    facts = [f"run `{escape(run_id)}`" if run_id else "not from a run"]
    if metrics:
        facts.append(_metrics(metrics))
    if tags:
        facts.append(f"tags: {_tags(tags)}")
    blocks: list[Block] = [section(text + "\n" + " · ".join(facts)),
                           ActionsBlock(elements=[deploy_button(slug, version)])]
    return message(text.replace("*", ""), blocks)


def alias_moved_outside(slug: str, model: str, alias: str, before: str | None,
                        after: str | None, *, waiting: int | None = None) -> Message:
    """``waiting``: a deployment of the use case waits for approval to move this alias itself."""
    name = f"`{escape(model)}@{escape(alias)}`"
    was = f"v{escape(before)}" if before else "nowhere"
    now = f"v{escape(after)}" if after else "removed"
    text = (f"⚠️ {name} was moved by someone outside the bot: {was} → {now} (use case *{slug}*). "
            + (f"It moved outside the bot while deployment {waiting} waits for approval to "
               "move it." if waiting is not None else "The channel's deployments did not do this."))
    return message(text.replace("*", ""), [section(text)])
