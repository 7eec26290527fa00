"""Refused requests, as facts the renderer words (bot/render/refusals.py).

A refusal is raised where the rule lives and said where the person is: the same ``NotAllowed``
reads the same from a command, a button or a dialog, and whether to add how to configure admins
is decided once, by the renderer, not by each rule.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused request; the message is shown to the user as it is."""

    show_usage = True  # bad input: the reply repeats how to write the command


class Conflict(DomainError):
    """A well-formed request that the current state refuses (busy, locked, already done)."""

    show_usage = False


class NotAllowed(DomainError):
    """The actor may not do this. Given ``who_may`` and ``action``, the refusal reads "Only
    {who_may} may {action}."; ``admins_may``: an admin could do it, so where no admins are
    configured the renderer says how to name some."""

    def __init__(self, message: str = "", *, who_may: str = "", action: str = "",
                 admins_may: bool = False) -> None:
        super().__init__(message or f"Only {who_may} may {action}.")
        self.who_may, self.action, self.admins_may = who_may, action, admins_may
