"""A change taken back, as the fact its deployment's thread hears (bot/services/change_undo.py);
bot/render/undo_notes.py words it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChangeUndone:
    """One change of a deployment taken back, or why it could not be: the executor's ``line``."""

    line: str
