"""Pure parsing of slash-command text: tokens, mentions, options. No Slack, no I/O."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.domain.safe_text import control_character
from bot.domain.usecases import DomainError, validate_slug
from bot.render import refusals
from bot.render.mrkdwn import escape
from bot.services.commands import ChannelRef, UserRef

# Slack sends smart quotes when the user's client autocorrects; treat them as plain ones.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_USER_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL_RE = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SUBTEAM_RE = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL_RE = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_PLAIN_USER_RE = re.compile(r"@([a-z0-9][a-z0-9._-]{0,79})", re.IGNORECASE)
_PLAIN_CHANNEL_RE = re.compile(r"#([a-z0-9][a-z0-9_-]{0,79})")


class HelpRequested(Exception):
    """The user asked for the command's help text."""


HELP_WORDS = ("help", "-h", "--help")
REASON_MAX = 500  # the reason dialog's own limit
SLACK_ID_MAX = 32  # the width of every column that holds a user or channel ID
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns on PostgreSQL: a larger one is no row at all
_ID_RE = re.compile(r"[0-9]{1,10}")
C = TypeVar("C")


def dispatch(text: str, parsers: Mapping[str, Callable[[str, str], C]], usage: Mapping[str, str],
             *, command: str, otherwise: Callable[[str], C] | None = None) -> C:
    """Route ``<verb> <rest>`` to the verb's parser; help words raise HelpRequested.

    ``otherwise`` handles text that starts with no known verb (``/deploy <slug> <version>``).
    """
    words = text.strip().split(maxsplit=1)
    if not words or words[0].lower() in HELP_WORDS:
        raise HelpRequested()
    verb, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    parser = parsers.get(verb)
    if parser is not None:
        return parser(rest, usage[verb])
    if otherwise is not None:
        return otherwise(text)
    raise UsageError(f"Unknown sub-command `{shown(verb)}`. Try one of: {', '.join(parsers)}, help.",
                     f"{command} help")


class UsageError(Exception):
    """Bad input; ``usage`` is the line that shows how to write it."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Tokens:
    positional: list[str]
    options: dict[str, str]
    flags: set[str]


@dataclass(frozen=True)
class Word:
    text: str
    quote_at: int | None = None  # where in ``text`` the first quoted part began

    def option(self) -> tuple[str, str] | None:
        """``key=value`` when the ``=`` came before any quote: ``"ratio=2"`` is just text."""
        key, eq, value = self.text.partition("=")
        if not eq or not re.fullmatch(r"[a-z_]+", key):
            return None
        if self.quote_at is not None and self.quote_at <= len(key):
            return None
        return key, value


def tokenize(text: str, *, usage: str = "") -> list[Word]:
    """Split on whitespace; double-quoted strings (also after ``key=``) stay one word."""
    text = text.translate(_QUOTES)
    words: list[Word] = []
    current: list[str] = []
    quote_at: int | None = None
    in_quote = started = False
    for char in text:
        if char == '"':
            if quote_at is None:
                quote_at = len(current)
            in_quote, started = not in_quote, True
        elif char.isspace() and not in_quote:
            if started:
                words.append(Word("".join(current), quote_at))
            current, started, quote_at = [], False, None
        else:
            current.append(char)
            started = True
    if in_quote:
        raise UsageError("A quote is not closed: put the text between two `\"`.", usage)
    if started:
        words.append(Word("".join(current), quote_at))
    return words


def split(
    text: str, *, allowed: frozenset[str], flags: frozenset[str] = frozenset(), usage: str = ""
) -> Tokens:
    """Positional words, then ``key=value`` options in any order, and bare flag words."""
    positional: list[str] = []
    options: dict[str, str] = {}
    found: set[str] = set()
    for word in tokenize(text, usage=usage):
        if option := word.option():
            key, value = option
            if key not in allowed:
                known = ", ".join(f"`{k}=`" for k in sorted(allowed)) or "none"
                raise UsageError(f"Unknown option `{key}=` (known: {known}).", usage)
            if key in options:
                raise UsageError(f"The option `{key}=` is given twice.", usage)
            options[key] = value
        elif word.text in flags and word.quote_at is None:
            found.add(word.text)
        else:
            positional.append(word.text)
    return Tokens(positional, options, found)


def shown(token: str) -> str:
    """User input quoted back in an error message: readable, and unable to ping or link."""
    return escape(plain_text(token))


def parse_id(text: str) -> int | None:
    """A row id as typed or as it comes in a URL: 1 to MAX_ID in plain digits; else None."""
    if not _ID_RE.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_slug(token: str, usage: str = "") -> str:
    try:
        return validate_slug(token)
    except DomainError as bad:
        raise UsageError(refusals.said(bad), usage) from None


def parse_user(token: str, *, usage: str = "") -> UserRef:
    if match := _USER_RE.fullmatch(token):
        return UserRef(_slack_id(match.group(1), token, "user", usage), match.group(2) or "")
    if match := _PLAIN_USER_RE.fullmatch(token):
        return UserRef(None, match.group(1).lower())
    raise UsageError(f"`{shown(token)}` is not a user: mention them like @alice.", usage)


def parse_channel(token: str, *, usage: str = "") -> ChannelRef:
    if match := _CHANNEL_RE.fullmatch(token):
        return ChannelRef(_slack_id(match.group(1), token, "channel", usage), match.group(2) or "")
    if match := _PLAIN_CHANNEL_RE.fullmatch(token):
        return ChannelRef(None, match.group(1))
    raise UsageError(f"`{shown(token)}` is not a channel: name it like #ops.", usage)


def _slack_id(found: str, token: str, what: str, usage: str) -> str:
    if len(found) > SLACK_ID_MAX:
        raise UsageError(f"`{shown(token)}` is not a Slack {what}: its ID is {len(found)} characters "
                         f"long, and Slack's are at most {SLACK_ID_MAX}.", usage)
    return found


def plain_text(text: str) -> str:
    """Free text (titles, notes) as the user saw it: mentions become inert ``@name`` words."""
    text = _USER_RE.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _CHANNEL_RE.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SUBTEAM_RE.sub(lambda m: m.group(2) or "@" + m.group(1), text)
    text = _SPECIAL_RE.sub(lambda m: "@" + m.group(1), text)
    text = _LINK_RE.sub(lambda m: m.group(2) or m.group(1), text)
    return html.unescape(text).strip()


def control_problem(text: str, what: str) -> str | None:
    """A refusal naming the first control character in ``text`` (a NUL cannot even be stored),
    or None when there is none."""
    found = control_character(text)
    if found is None:
        return None
    return (f"{what} contains an invisible control character (U+{ord(found):04X}); "
            "type it again without it.")


def input_value(view: Mapping[str, Any], block_id: str) -> str:
    """What was typed into a dialog's input (its block and its element share ``block_id``);
    "" when the submission carries nothing for it."""
    node: Any = view
    for key in ("state", "values", block_id, block_id, "value"):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, str) else ""


class FieldErrors(Exception):
    """Bad fields of a dialog: the message for each, by its block_id (``response_action: errors``)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


_SELECTED = ("selected_user", "selected_conversation", "selected_channel")


def field_values(view: Mapping[str, Any]) -> dict[str, str]:
    """Every input of a submitted dialog by its block_id: the text typed, the user, channel or
    conversation picked, or the picked option's value; "" for what was left empty."""
    found: dict[str, str] = {}
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items() if isinstance(values, Mapping) else ():
        state = actions.get(block_id) if isinstance(actions, Mapping) else None
        if not isinstance(state, Mapping):
            continue
        picked = state.get("selected_option")
        value = picked.get("value") if isinstance(picked, Mapping) else state.get("value")
        for key in _SELECTED:
            value = value or state.get(key)
        found[block_id] = value if isinstance(value, str) else ""
    return found


def reason_problem(reason: str) -> str | None:
    """Why a reason typed into a dialog can't be taken, or None."""
    if not reason.strip():
        return "Say why, so the team knows."
    if len(reason) > REASON_MAX:
        return f"Keep it to {REASON_MAX} characters."
    return control_problem(reason, "The reason")
