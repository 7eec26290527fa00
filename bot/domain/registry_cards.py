"""What a linked use case's channel hears of MLflow's model registry, as facts (cards);
bot/render/registry_blocks.py words them. Posted by bot/services/registry_events.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewModelVersion:
    """A new version of the model linked to ``slug``, with its run's metrics and its tags."""

    slug: str
    model: str
    version: str
    run_id: str                                # "": not from a run
    metrics: tuple[tuple[str, float], ...]
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AliasMovedOutside:
    """Someone outside the bot moved ``model@alias`` from ``before`` to ``after`` (None:
    nowhere, removed); ``waiting``: a deployment of ``slug`` waits for approval to move it."""

    slug: str
    model: str
    alias: str
    before: str | None
    after: str | None
    waiting: int | None = None
