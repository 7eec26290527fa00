"""What a version is, when the bot can know: the commit a workflow ran on, the MLflow model version
a stage moved, or what a caller of the deployments API said. DORA's lead time for changes runs from
a change's time to production; "what is not yet in production" compares two of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ChangeKind(StrEnum):
    COMMIT = "commit"                # ref: the commit's full sha
    MODEL_VERSION = "model_version"  # ref: the registered model's version number ("7")


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    ref: str
    at: datetime | None = None   # when the change was made (commit time, model version created)
    url: str | None = None       # where a person reads it (the commit on GitHub, the version in MLflow)
    run_id: str = ""             # MLflow: the run that logged the model version

    @property
    def short(self) -> str:
        """A commit's first 7 characters, as git shows it; a model version's number."""
        return self.ref[:7] if self.kind is ChangeKind.COMMIT else self.ref
