"""`/deploy changes <slug> [<version>]`: what is not yet in production.

Counted from the version production runs (for a rollout left in a mix, the oldest one still
running) to ``<version>`` -- by default the newest known: the head of the branch a
`github-actions` production stage deploys, or the linked model's newest version. Commits come
from GitHub's compare view, model versions from MLflow; a version that is a plain string (no
change recorded for it) is answered as such. Anyone who may see the use case may ask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.domain.change_results import (
    SHOWN,
    ChangesAnswer,
    ChangesUnknown,
    CommitChanges,
    Comparison,
    InProduction,
    ModelChanges,
    Unknowable,
)
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import Deployment
from bot.domain.errors import Conflict
from bot.domain.executor_specs import ExecutorSpec, GithubActionsSpec, MlflowSpec
from bot.domain.kpis import SourceFailure
from bot.domain.pipeline import production_index
from bot.domain.production import Production
from bot.domain.usecases import UseCase
from bot.services.commands import Actor, ShowChanges
from bot.services.ports import UnitOfWork
from bot.services.registry_ports import ModelRegistry
from bot.services.use_case_lookup import load_use_case

SHA = re.compile(r"[0-9a-f]{7,40}")
COMMIT_PAGE = re.compile(r"https?://[^/]+/([^/]+)/([^/]+)/commit/[0-9a-f]{7,40}")
SEARCHED = 100       # deployments searched for a named version's change
MODEL_VERSIONS = 500  # a model's newest versions searched for those between two


class CommitHistory(Protocol):
    async def compare(self, repo: str, base: str, head: str) -> Comparison:
        """GitHub's compare view of ``base...head`` in ``repo`` ("org/name");
        :class:`SourceFailure` (its words safe to show) when GitHub cannot say."""
        ...


@dataclass(frozen=True)
class _Known:
    """What the bot read for the question, before asking outside."""

    use_case: UseCase
    production: InProduction
    spec: ExecutorSpec
    named: Change | None   # the change a deployment of the named version recorded


@dataclass
class ChangeService:
    uow: Callable[[], UnitOfWork]
    commits: CommitHistory | None      # None: no GitHub token configured
    registry: ModelRegistry | None     # None: no MLflow configured

    async def changes(self, cmd: ShowChanges, actor: Actor) -> ChangesAnswer:
        known = await self._read(cmd)
        base = known.production
        if base.change is None:
            return ChangesUnknown(cmd.slug, base, cmd.version, Unknowable.PRODUCTION)
        if base.change.kind is ChangeKind.COMMIT:
            return await self._commits(cmd, known, base.change)
        return await self._model_versions(cmd, known, base.change)

    async def _read(self, cmd: ShowChanges) -> _Known:
        async with self.uow() as uow:
            uc = await load_use_case(uow, cmd.slug)
            production = await uow.deployments.production(uc.slug)
            running = _oldest_running(production)
            d = None if running is None else await uow.deployments.get(running[1])
            if running is None or d is None:
                raise Conflict("changes_nothing_in_production", slug=uc.slug)
            named = None
            if cmd.version is not None:
                named = next((past.change for past in await uow.deployments.history(
                    uc.slug, limit=SEARCHED) if past.version == cmd.version and past.change), None)
        return _Known(uc, InProduction(running[0], running[1], d.change, running[2]),
                      _production_spec(d), named)

    async def _commits(self, cmd: ShowChanges, known: _Known, base: Change) -> ChangesAnswer:
        spec = known.spec
        repo = spec.repo if isinstance(spec, GithubActionsSpec) else _repo_of(base.url)
        if repo is None:
            raise Conflict("changes_no_repository", slug=cmd.slug, commit=base.short)
        if cmd.version is None:
            head = (spec.ref or "main") if isinstance(spec, GithubActionsSpec) else None
        elif known.named is not None and known.named.kind is ChangeKind.COMMIT:
            head = known.named.ref
        else:
            head = cmd.version if SHA.fullmatch(cmd.version) else None
        if head is None:
            return ChangesUnknown(cmd.slug, known.production, cmd.version, Unknowable.VERSION)
        if self.commits is None:
            raise Conflict("changes_github_not_configured", slug=cmd.slug)
        try:
            comparison = await self.commits.compare(repo, base.ref, head)
        except SourceFailure as failure:
            raise Conflict("changes_github_unreachable", slug=cmd.slug, repo=repo,
                           problem=str(failure)) from None
        shown = cmd.version or head
        return CommitChanges(cmd.slug, known.production, shown, repo, comparison)

    async def _model_versions(self, cmd: ShowChanges, known: _Known, base: Change) -> ChangesAnswer:
        spec = known.spec
        model = (spec.model if isinstance(spec, MlflowSpec) else "") or known.use_case.model
        if cmd.version is not None and not cmd.version.isdigit():
            named = known.named
            if named is None or named.kind is not ChangeKind.MODEL_VERSION:
                return ChangesUnknown(cmd.slug, known.production, cmd.version, Unknowable.VERSION)
        if not model or not base.ref.isdigit():
            return ChangesUnknown(cmd.slug, known.production, cmd.version, Unknowable.PRODUCTION)
        if self.registry is None:
            raise Conflict("changes_mlflow_not_configured", slug=cmd.slug)
        try:
            versions = await self.registry.recent_versions(model, MODEL_VERSIONS)
        except SourceFailure as failure:
            raise Conflict("changes_mlflow_unreachable", slug=cmd.slug, model=model,
                           problem=str(failure)) from None
        numbers = [int(v.version) for v in versions if v.version.isdigit()]
        head = _model_head(cmd.version, known.named, numbers, int(base.ref))
        between = tuple(v for v in versions if v.version.isdigit()
                        and int(base.ref) < int(v.version) <= head)
        return ModelChanges(cmd.slug, known.production, model, str(head), between[:SHOWN],
                            max(0, len(between) - SHOWN))


def _model_head(version: str | None, named: Change | None, numbers: list[int], base: int) -> int:
    """The model version compared with: the one named (as a number, or as a version deployed
    before), else the newest MLflow knows."""
    if version is not None and version.isdigit():
        return int(version)
    if version is not None and named is not None:
        return int(named.ref) if named.ref.isdigit() else base
    return max(numbers, default=base)


def _oldest_running(production: Production | None) -> tuple[str, int, bool] | None:
    """(version, the deployment that put it there, whether production runs several): the oldest
    known version still running, so what is not everywhere yet counts as not in production."""
    if production is None:
        return None
    known = [g for g in production.placement if g.known and g.deployment_id is not None]
    if not known:
        return None
    oldest = known[-1]  # a placement lists the most recent change first
    assert oldest.deployment_id is not None
    return oldest.version, oldest.deployment_id, len({g.version for g in known}) > 1


def _production_spec(d: Deployment) -> ExecutorSpec:
    return d.stages[production_index(tuple(s.spec for s in d.stages))].spec.run


def _repo_of(url: str | None) -> str | None:
    """"org/name" of a commit's page on GitHub (a change given through the API)."""
    found = COMMIT_PAGE.fullmatch(url or "")
    return f"{found.group(1)}/{found.group(2)}" if found else None
