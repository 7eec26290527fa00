"""Reading a TOML configuration file and typed values out of it: each problem is collected with
its key path (``pipelines.x.stages[3].timeout``) and a hint, instead of stopping at the first.

The generic half of checking a configuration file, shared by the pipeline file
(``bot.pipelines.checks``) and the KPI source file (``bot.kpis.checks``), which know the schemas.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

_DURATION_RE = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_TOML_AT_RE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


# What tomllib's terse messages mean, for a person fixing the file.
_VALUE = "a string in quotes, a number, true or false, a date, an [array] or an {inline table}"
_EXPECTED = {"Invalid value": f": expected a value here — {_VALUE}"}
_UNFINISHED = {
    "Invalid value": f"a key's value: `key =` needs one, {_VALUE}",
    "Unterminated string": "a string: its closing quote is missing",
    "Unclosed array": "an array: its closing `]` is missing",
    "Unclosed inline table": "an inline table: its closing `}` is missing",
    "Expected ']' at the end of a table declaration": "a [table] header: its `]` is missing",
}


@dataclass(frozen=True)
class PipelineProblem:
    path: str  # key path in the file, or the file itself (with :line:column for syntax errors)
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def read_toml(path: str, what: str) -> tuple[dict[str, Any], PipelineProblem | None]:
    """The parsed file at ``path`` (``what`` it is, for the message), or why it cannot be read."""
    try:
        with open(path, "rb") as file:
            text = file.read().decode("utf-8")
        return tomllib.loads(text), None
    except OSError as bad:
        return {}, PipelineProblem(path, f"cannot read the {what}: {bad.strerror or bad}")
    except UnicodeDecodeError:
        return {}, PipelineProblem(path, "invalid TOML: the file is not UTF-8 text")
    except tomllib.TOMLDecodeError as bad:
        # Python 3.11 puts the position only in the message: move it into the path.
        at = _TOML_AT_RE.search(str(bad))
        message = _TOML_AT_RE.sub("", str(bad))
        if at and at[1]:
            return {}, PipelineProblem(f"{path}:{at[1]}:{at[2]}", f"invalid TOML: {message}"
                                       + _EXPECTED.get(message, ""))
        lines = text.split("\n")  # it ended too soon: say where, and what it was in the middle of
        where = f"{path}:{len(lines)}:{len(lines[-1]) + 1}"
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        return {}, PipelineProblem(where, f"invalid TOML: {message} — the file ends in the middle "
                                          f"of {_UNFINISHED.get(message, 'a value')}"
                                          + (f" (its last line: `{last[:80]}`)" if last else ""))


def parse_duration(value: object) -> timedelta:
    """``"90s"``, ``"20m"``, ``"2h"``, ``"1d"``, combinations like ``"1h30m"``, or whole seconds."""
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return timedelta(seconds=value)
        match = _DURATION_RE.fullmatch(value.replace(" ", "")) if isinstance(value, str) else None
        if match and any(match.groups()):
            d, h, m, s = (int(g or 0) for g in match.groups())
            return timedelta(days=d, hours=h, minutes=m, seconds=s)
    except OverflowError:
        raise ValueError("is too long") from None
    raise ValueError('expected a duration like "90s", "20m", "2h", "1d" or "1h30m", or whole seconds')


class TomlReader:
    """Collects problems in ``problems``; each method reports what is wrong and returns a fallback."""

    def __init__(self) -> None:
        self.problems: list[PipelineProblem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(PipelineProblem(path, message))

    def table(self, value: Any, path: str, allowed: Sequence[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {kind_of(value)}")
            return None
        for key in value:
            if key not in allowed:
                self.fail(join(path, key), f"unknown key; {did_you_mean(key, allowed, code)}")
        return value

    def keys_of_kind(self, table: dict[str, Any], path: str, allowed: Sequence[str],
                     every_key: Sequence[str], unused: str | None) -> None:
        """A table whose keys depend on its kind: a key of another kind gets ``unused`` (None:
        the kind is unknown, so no key is "of another kind"), an unknown one a did-you-mean."""
        for key in table:
            if unused is not None and key not in allowed and key in every_key:
                self.fail(join(path, key), unused)
            elif key not in allowed:
                self.fail(join(path, key), f"unknown key; {did_you_mean(key, allowed, code)}")

    def string(self, table: dict[str, Any], key: str, path: str, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None and required:
            self.fail(join(path, key), "missing")
        elif value is not None and not isinstance(value, str):
            self.fail(join(path, key), f"expected a string, got {kind_of(value)}")
            return None
        return value

    def url(self, table: dict[str, Any], path: str) -> str | None:
        """``table["url"]``, required: an http(s) URL with a host."""
        url = self.string(table, "url", path, required=True)
        if url is None:
            return None
        try:
            parsed = urlparse(url)
            ok = parsed.scheme in ("http", "https") and bool(parsed.hostname)
        except ValueError:
            ok = False
        if not ok:
            self.fail(join(path, "url"), f"expected an http(s) URL, got {quote(url)}")
        return url if ok else None

    def duration(self, table: dict[str, Any], key: str, path: str, default: timedelta,
                 cap: timedelta) -> timedelta:
        if key not in table:
            return default
        try:
            value = parse_duration(table[key])
        except ValueError as bad:
            self.fail(join(path, key), str(bad))
            return default
        if value <= timedelta():
            self.fail(join(path, key), "must be longer than 0")
        elif value > cap:
            self.fail(join(path, key), f"must be at most {short(cap)}")
        return value

    def unique_strings(self, items: list[Any], path: str, valid: Callable[[str], bool],
                       bad: str) -> tuple[str, ...]:
        """``items`` if each is a valid string listed once; else () after reporting each offender."""
        count = len(self.problems)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{path}[{i}]", f"expected a string, got {kind_of(item)}")
            elif not valid(item):
                self.fail(f"{path}[{i}]", f"{quote(item)} {bad}")
            elif item in items[:i]:
                self.fail(f"{path}[{i}]", f"{quote(item)} is listed twice")
        return tuple(items) if len(self.problems) == count else ()


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def kind_of(value: Any) -> str:
    kinds = ((bool, "a boolean"), (str, "a string"), (int, "an integer"), (float, "a float"),
             (list, "an array"), (dict, "a table"))
    return next((name for t, name in kinds if isinstance(value, t)), "a date/time")


def join(path: str, key: str) -> str:
    part = key if _BARE_KEY_RE.fullmatch(key) else quote(key)
    return f"{path}.{part}" if path else part


def did_you_mean(word: str, options: Sequence[str], show: Callable[[str], str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    if close:
        return f"did you mean {show(close[0])}?"
    return "expected one of " + ", ".join(show(o) for o in options)


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def quoted(names: Sequence[str]) -> str:
    return ", ".join(quote(n) for n in names)


def code(key: str) -> str:
    return f"`{key}`"


def short(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    # "24h" reads better than "1d": use days only beyond one.
    unit, size = next((u, n) for u, n in units if seconds % n == 0 and (u != "d" or seconds > n))
    return f"{seconds // size}{unit}"
