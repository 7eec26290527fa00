"""Refused requests, as facts the renderer words (bot/render/refusals.py).

A refusal is raised where the rule lives and said where the person is: the same ``NotAllowed``
reads the same from a command, a button or a dialog, and whether to add how to configure admins
is decided once, by the renderer, not by each rule.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused request: ``key`` names it and ``facts`` fill in its words, which the renderer
    keeps (``raise Conflict("slug_taken", slug=slug)``). A key with spaces in it is words
    already — the older refusals, until each has moved to bot/render."""

    show_usage = True  # bad input: the reply repeats how to write the command

    def __init__(self, key: str, /, **facts: object) -> None:
        super().__init__(key)
        self.key, self.facts = key, facts

    def __str__(self) -> str:  # for logs and tracebacks; people read bot/render/refusals.py
        return f"{self.key} {self.facts}" if self.facts else self.key


class Conflict(DomainError):
    """A well-formed request that the current state refuses (busy, locked, already done)."""

    show_usage = False


class NotAllowed(DomainError):
    """The actor may not do this (the words say who may). ``admins_may``: an admin could, so
    where no admins are configured the renderer says how to name some."""

    def __init__(self, key: str, /, *, admins_may: bool = False, **facts: object) -> None:
        super().__init__(key, **facts)
        self.admins_may = admins_may
