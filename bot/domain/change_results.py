"""What `/deploy changes <slug> [<version>]` finds: the changes between what runs in production and
a version -- commits from GitHub's compare view, model versions from MLflow, or nothing the bot
can know when the versions are plain strings. Facts only; bot/render/change_replies.py words them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.changes import Change
from bot.domain.registry import ModelVersion

SHOWN = 10  # commits or model versions listed; the rest are counted


@dataclass(frozen=True)
class CommitLine:
    sha: str
    title: str             # the message's first line
    author: str            # the GitHub login, else the commit's author name
    url: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Comparison:
    """GitHub's compare view of ``base...head``: ``ahead`` commits in head not in base (the
    first :data:`SHOWN` of them, oldest first, as GitHub lists them), ``behind`` the other way."""

    ahead: int
    behind: int
    commits: tuple[CommitLine, ...]
    url: str | None        # the compare page


@dataclass(frozen=True)
class InProduction:
    """What the changes are counted from: the version running in production (for a rollout
    left in a mix, the oldest one still running), the deployment that put it there, and what
    that version is when known."""

    version: str
    deployment_id: int
    change: Change | None
    mixed: bool = False     # production runs more than one version


@dataclass(frozen=True)
class CommitChanges:
    slug: str
    production: InProduction
    head: str              # what it is compared with: a version, or the branch the pipeline deploys
    repo: str              # "org/name"
    comparison: Comparison


@dataclass(frozen=True)
class ModelChanges:
    slug: str
    production: InProduction
    model: str
    head: str              # the newest version compared with
    versions: tuple[ModelVersion, ...]  # newer than production's, up to head; newest first
    more: int = 0          # beyond those listed


class Unknowable(StrEnum):
    PRODUCTION = "production"  # the production version is a plain string (no change recorded)
    VERSION = "version"        # <version> is a plain string the bot never saw as a change


@dataclass(frozen=True)
class ChangesUnknown:
    """The bot does not know what a version contains."""

    slug: str
    production: InProduction
    version: str | None
    why: Unknowable


ChangesAnswer = CommitChanges | ModelChanges | ChangesUnknown
