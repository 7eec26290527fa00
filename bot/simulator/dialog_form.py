"""Filling in a dialog as Slack's client would: `submit field=value ...` in the shell.

Slack itself refuses a submission that leaves a required input empty, picks something that is
not among a select's options or is longer than an input's ``max_length``: so does this, before
anything is sent. Untouched inputs keep their initial value, as in Slack's ``state.values``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

Find = Callable[[str], Any]  # a name -> the fake's user or channel (with .id), or None

_FIELD_RE = re.compile(r"([a-z_][a-z0-9_]*)=(.*)", re.S)


def as_fields(text: str, view: dict[str, Any]) -> dict[str, str] | None:
    """``field=value ...`` naming the dialog's inputs, or None (then the text fills the first)."""
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    matches = [_FIELD_RE.fullmatch(w) for w in words]
    if not words or not all(matches):
        return None  # not field=value: the text fills the first input (a reason, a note)
    unknown = [m.group(1) for m in matches if m and m.group(1) not in inputs]
    if unknown:  # a typo must not end up as a slug: say which fields there are
        raise LookupError(f"this dialog has no field {', '.join(map(repr, unknown))}; its fields: "
                          + ", ".join(str(i) for i in inputs))
    return {m.group(1): m.group(2) for m in matches if m}


def first_input(view: dict[str, Any], text: str) -> dict[str, Any]:
    """The old `submit TEXT`: the text goes into the dialog's first input."""
    inputs = [b for b in view.get("blocks", []) if b.get("type") == "input"]
    if not inputs:
        raise LookupError("the dialog has no input")
    first = inputs[0]
    return {first["block_id"]: {first["element"]["action_id"]: {
        "type": first["element"]["type"], "value": text}}}


def state_values(view: dict[str, Any], fields: dict[str, str], *, user: Find,
                 channel: Find) -> dict[str, Any]:
    """``state.values`` for a submission with ``fields`` filled in, or LookupError saying what
    Slack would have refused."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        el = block.get("element") or {}
        label = (block.get("label") or {}).get("text", block.get("block_id"))
        given = fields.get(block["block_id"])
        state = _state(el, given, label, user=user, channel=channel)
        empty = all(v in (None, "") for k, v in state.items() if k != "type")
        if empty and not block.get("optional"):
            raise LookupError(f"{label} is required: add {block['block_id']}=…")
        values[block["block_id"]] = {el.get("action_id", block["block_id"]): state}
    return values


def _state(el: dict[str, Any], given: str | None, label: str, *, user: Find,
           channel: Find) -> dict[str, Any]:
    kind = el.get("type", "")
    if kind == "plain_text_input":
        value = given if given is not None else el.get("initial_value")
        if value and el.get("max_length") and len(value) > el["max_length"]:
            raise LookupError(f"{label}: at most {el['max_length']} characters")
        return {"type": kind, "value": value or None}
    if kind == "users_select":
        return {"type": kind, "selected_user": _pick(given, "@", user) or el.get("initial_user")}
    if kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        initial = el.get("initial_conversation") or el.get("initial_channel")
        return {"type": kind, key: _pick(given, "#", channel) or initial}
    if kind == "static_select":
        return {"type": kind, "selected_option": _option(el, given, label)}
    raise LookupError(f"{label}: the simulator can't fill a {kind}")


def _pick(given: str | None, sigil: str, find: Find) -> str | None:
    if not given:
        return None
    found = find(given.lstrip(sigil).lower())
    if found is None:
        raise LookupError(f"there is no {sigil}{given.lstrip(sigil)}")
    return str(found.id)


def _option(el: dict[str, Any], given: str | None, label: str) -> dict[str, Any] | None:
    options = el.get("options") or []
    if given is None:
        return el.get("initial_option")
    if not given:
        return None
    for option in options:
        if given in (option.get("value"), (option.get("text") or {}).get("text")):
            return {"text": option["text"], "value": option["value"]}
    shown = ", ".join(str(o.get("value")) for o in options[:10])
    raise LookupError(f"{label}: {given!r} is not one of the options ({shown})")
