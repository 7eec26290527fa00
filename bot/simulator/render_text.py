"""Renders Slack mrkdwn and Block Kit as terminal text, with numbered buttons to click."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Names = Callable[[str], str | None]

BOLD, ITALIC, STRIKE, DIM, UNDERLINE = ("1", "22"), ("3", "23"), ("9", "29"), ("2", "22"), (
    "4", "24")
_STYLE_COLOR = {"primary": "32", "danger": "31"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
RULE = "─" * 40


@dataclass
class RenderedButton:
    number: int
    text: str
    action_id: str
    block_id: str
    value: str | None
    style: str | None


def _sgr(text: str, codes: tuple[str, str], color: bool) -> str:
    return f"\x1b[{codes[0]}m{text}\x1b[{codes[1]}m" if color and text else text


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


# -- mrkdwn ------------------------------------------------------------------------------
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_TOKEN = re.compile(r"<([^<>\n]+)>")
# Markers count only at word edges, so snake_case and 2*3*4 stay as typed.
_EMPHASIS = [
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), BOLD),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), ITALIC),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), STRIKE),
]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token(inner: str, names: Names) -> str:
    """One `<...>` entity: mention, channel, group, special or link."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (names(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (names(target[1:]) or label or target[1:])
    if target.startswith("!subteam^"):
        gid = target[len("!subteam^"):]
        return "@" + (label.lstrip("@") or names(gid) or gid)
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return "@" + target[1:]
    if target.startswith("mailto:"):
        return label or target[len("mailto:"):]
    return f"{label} ({target})" if label and label != target else target


def _emphasise(match: re.Match[str], *, codes: tuple[str, str], color: bool) -> str:
    return _sgr(match.group(1), codes, color)


def render_mrkdwn(text: str, *, names: Names, color: bool) -> str:
    # Code spans and entities are parked behind placeholders so emphasis never reaches
    # inside them (URLs with underscores, `a_b_c` code).
    parked: list[str] = []

    def park(value: str) -> str:
        parked.append(value)
        return f"\x00{len(parked) - 1}\x00"

    out = _CODE.sub(lambda m: park(_unescape(m.group(0))), text)
    out = _TOKEN.sub(lambda m: park(_unescape(_token(m.group(1), names))), out)
    for pattern, codes in _EMPHASIS:
        if codes is STRIKE and not color:
            continue  # keep ~x~ as typed: dropping the tildes would hide the meaning
        out = pattern.sub(functools.partial(_emphasise, codes=codes, color=color), out)
    out = _unescape(out)
    return re.sub(r"\x00(\d+)\x00", lambda m: parked[int(m.group(1))], out)


# -- blocks ------------------------------------------------------------------------------
class _Renderer:
    def __init__(self, names: Names, color: bool, first_button: int) -> None:
        self.names = names
        self.color = color
        self.next_number = first_button
        self.buttons: list[RenderedButton] = []

    def text(self, obj: dict[str, Any] | None) -> str:
        if not obj:
            return ""
        if obj.get("type") == "mrkdwn":
            return render_mrkdwn(obj.get("text", ""), names=self.names, color=self.color)
        return str(obj.get("text", ""))

    def element(self, el: dict[str, Any], block_id: str) -> str:
        kind = el.get("type")
        if kind == "button":
            return self.button(el, block_id)
        if kind in ("mrkdwn", "plain_text"):
            return self.text(el)
        if kind == "image":
            return f"[image: {el.get('alt_text', '')}]"
        placeholder = self.text(el.get("placeholder")) or self.text(el.get("initial_option", {})
                                                                     .get("text"))
        return f"[{kind}{': ' + placeholder if placeholder else ''}]"

    def button(self, el: dict[str, Any], block_id: str) -> str:
        label = self.text(el.get("text"))
        btn = RenderedButton(self.next_number, label, el.get("action_id", ""), block_id,
                             el.get("value"), el.get("style"))
        self.buttons.append(btn)
        self.next_number += 1
        shown = f"[{btn.number} {label}]"
        return _sgr(shown, (_STYLE_COLOR[btn.style], "39"), self.color) if (
            btn.style in _STYLE_COLOR) else shown

    def block(self, block: dict[str, Any]) -> str | None:
        kind = block.get("type")
        block_id = block.get("block_id", "")
        if kind == "header":
            title = self.text(block.get("text"))
            rule = "═" * min(visible_len(title), 100)
            return f"{_sgr(title, BOLD, self.color)}\n{rule}"
        if kind == "section":
            return self.section(block, block_id)
        if kind == "context":
            parts = [self.element(el, block_id) for el in block.get("elements", [])]
            return _sgr(" · ".join(p for p in parts if p), DIM, self.color)
        if kind == "divider":
            return RULE
        if kind == "actions":
            return " ".join(self.element(el, block_id) for el in block.get("elements", []))
        if kind == "rich_text":
            return "\n".join(_rich(el, self.names, self.color) for el in block.get("elements", []))
        if kind == "input":
            return self.input(block)
        if kind == "image":
            return f"[image: {block.get('alt_text', '')}]"
        return None  # unknown block types are not worth a line in a terminal

    def input(self, block: dict[str, Any]) -> str:
        """A dialog's field: its label, the name `submit` fills (``field=``), what it holds."""
        el, hint = block.get("element") or {}, self.text(block.get("hint"))
        key = f" ({block['block_id']}=)" if block.get("block_id") else ""
        optional = " (optional)" if block.get("optional") else ""
        line = f"{self.text(block.get('label'))}{key}{optional}: [{self._filled(el) or ' '}]"
        options = [str(o.get("value", "")) for o in el.get("options") or []]
        if options:
            line += " one of: " + ", ".join(options[:10]) + (" …" if len(options) > 10 else "")
        return line + (f" ({hint})" if hint else "")

    def _filled(self, el: dict[str, Any]) -> str:
        if el.get("initial_user"):
            return "@" + (self.names(el["initial_user"]) or el["initial_user"])
        found = el.get("initial_conversation") or el.get("initial_channel")
        if found:
            return "#" + (self.names(found) or found)
        return str((el.get("initial_option") or {}).get("value") or el.get("initial_value") or "")

    def section(self, block: dict[str, Any], block_id: str) -> str:
        lines = [self.text(block["text"])] if block.get("text") else []
        fields = [self.text(f).replace("\n", " ") for f in block.get("fields", [])]
        width = min(max((visible_len(f) for f in fields[::2]), default=0), 48)
        rights = fields[1::2] + [""] * (len(fields) % 2)
        for left, right in zip(fields[::2], rights, strict=True):
            pad = " " * (width - visible_len(left) + 4) if right else ""
            lines.append(f"{left}{pad}{right}".rstrip())
        accessory = block.get("accessory")
        if accessory:
            shown = self.element(accessory, block_id)
            if lines:
                lines[-1] = f"{lines[-1]}  {shown}"
            else:
                lines.append(shown)
        return "\n".join(lines)


def _rich(el: dict[str, Any], names: Names, color: bool) -> str:
    """Best effort for rich_text sections, lists, quotes and preformatted text."""
    kind = el.get("type")
    if kind == "rich_text_list":
        bullet = "1." if el.get("style") == "ordered" else "•"
        return "\n".join(f"{bullet} {_rich(item, names, color)}" for item in el.get("elements", []))
    inner = "".join(_rich_leaf(leaf, names, color) for leaf in el.get("elements", []))
    if kind == "rich_text_quote":
        return "\n".join("> " + line for line in inner.split("\n"))
    if kind == "rich_text_preformatted":
        return f"```{inner}```"
    return inner


def _rich_leaf(leaf: dict[str, Any], names: Names, color: bool) -> str:
    kind = leaf.get("type")
    if kind == "text":
        text, style = leaf.get("text", ""), leaf.get("style") or {}
        if style.get("code"):
            return f"`{text}`"
        for key, codes in (("bold", BOLD), ("italic", ITALIC), ("strike", STRIKE)):
            if style.get(key):
                text = _sgr(text, codes, color)
        return text
    if kind == "link":
        return _token(f"{leaf.get('url', '')}|{leaf.get('text', '')}", names)
    if kind == "user":
        return _token("@" + leaf.get("user_id", ""), names)
    if kind == "channel":
        return _token("#" + leaf.get("channel_id", ""), names)
    if kind == "usergroup":
        return _token("!subteam^" + leaf.get("usergroup_id", ""), names)
    if kind == "broadcast":
        return "@" + leaf.get("range", "here")
    if kind == "emoji":
        return f":{leaf.get('name', '')}:"
    return ""


def render_blocks(
    blocks: list[dict] | None,
    fallback_text: str,
    *,
    names: Names,
    color: bool,
    first_button: int = 1,
) -> tuple[str, list[RenderedButton]]:
    """Text for a message plus its buttons, numbered from `first_button` in reading order."""
    if not blocks:
        return render_mrkdwn(fallback_text or "", names=names, color=color), []
    renderer = _Renderer(names, color, first_button)
    parts = [renderer.block(block) for block in blocks]
    return "\n".join(p for p in parts if p is not None), renderer.buttons
