"""Rendering of the MLflow registry in the channel: a new model version (with its run's key
metrics and a Deploy button), and an alias moved outside the bot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot.domain.metrics import format_number
from bot.domain.registry import BadDelivery, IgnoredEvent
from bot.domain.registry_cards import AliasMovedOutside, NewModelVersion
from bot.render.blocks import Message, message, section
from bot.render.mrkdwn import escape
from bot.slack import ids

METRICS_SHOWN = 6


def deploy_button(slug: str, version: str) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=f"Deploy v{version}"[:75]),
                         action_id=ids.DEPLOY_VERSION, value=f"{slug}:{version}")


def _metrics(metrics: Sequence[tuple[str, float]]) -> str:
    shown = sorted(metrics)[:METRICS_SHOWN]
    more = len(metrics) - len(shown)
    text = " · ".join(f"{escape(k)} {format_number(v)}" for k, v in shown)
    return text + (f" · and {more} more" if more > 0 else "")


def _tags(tags: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{escape(k)}={escape(v)}" for k, v in tags[:8])


def new_version(c: NewModelVersion) -> Message:
    text = f"🧪 New version *v{escape(c.version)}* of the model `{escape(c.model)}` (use case *{c.slug}*)"
    facts = [f"run `{escape(c.run_id)}`" if c.run_id else "not from a run"]
    if c.metrics:
        facts.append(_metrics(c.metrics))
    if c.tags:
        facts.append(f"tags: {_tags(c.tags)}")
    blocks: list[Block] = [section(text + "\n" + " · ".join(facts)),
                           ActionsBlock(elements=[deploy_button(c.slug, c.version)])]
    return message(text.replace("*", ""), blocks)


def alias_moved_outside(c: AliasMovedOutside) -> Message:
    name = f"`{escape(c.model)}@{escape(c.alias)}`"
    was = f"v{escape(c.before)}" if c.before else "nowhere"
    now = f"v{escape(c.after)}" if c.after else "removed"
    text = (f"⚠️ {name} was moved by someone outside the bot: {was} → {now} (use case *{c.slug}*). "
            + (f"It moved outside the bot while deployment {c.waiting} waits for approval to "
               "move it." if c.waiting is not None else "The channel's deployments did not do this."))
    return message(text.replace("*", ""), [section(text)])


# ── what MLflow's deliveries are answered (handlers/mlflow_hooks.py) ────────────────────────

MUST = {  # what a field of a delivery must be (BadDelivery.must)
    "json_object": "a JSON object",
    "event_name": 'an MLflow event {field} like "model_version"',
    "version": 'a model version number like "7"',
    "strings": "an object of strings",
    "alias": "an MLflow alias (letters, digits, `_`, `-`; at most 255 characters)",
    "non_empty_string": "a non-empty string",
    "string": "a string",
}


def bad_delivery(bad: BadDelivery) -> str:
    """E.g. 'data.version: must be a model version number like "7"'."""
    must = MUST[bad.must].format(field=bad.field)
    return f"{bad.field}: must be {must}" if bad.field else f"the body must be {must}"


def ignored(event: IgnoredEvent) -> str:
    """E.g. "prompt.created events are not acted on"."""
    unlinkable = " of a model named unlike any the bot links" if event.unlinkable else ""
    return f"{event.kind}{unlinkable} events are not acted on"


CARDS: dict[type, Callable[[Any], Message]] = {
    NewModelVersion: new_version,
    AliasMovedOutside: alias_moved_outside,
}
