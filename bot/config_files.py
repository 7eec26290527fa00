"""The files the settings name, read and checked: the pipeline file and the KPI source file.

Start-up and the composition root use these; a broken file stops start-up with every problem.
"""

from __future__ import annotations

import os

from bot.config import ConfigError, Settings
from bot.domain.pipeline import ExecutorKind, PipelineSet
from bot.kpis.loading import KpiConfig, load_kpi_sources
from bot.pipelines.loading import kinds_used, load_pipelines, setting_missing


def pipelines_for(settings: Settings) -> PipelineSet:
    """The pipeline file, checked; raises PipelineError or ConfigError with every problem."""
    pipelines = load_pipelines(settings.pipelines_path or None)
    given = {ExecutorKind.WEBHOOK: settings.webhook_secret, ExecutorKind.MLFLOW: settings.mlflow_url,
             ExecutorKind.GITHUB_ACTIONS: settings.github_token}
    for kind in sorted(kinds_used(pipelines) & given.keys()):
        if not given[kind]:
            raise ConfigError(setting_missing(kind))
    return pipelines


def kpi_config_for(settings: Settings) -> KpiConfig:
    """The KPI source file, checked; raises KpiSourceError with every problem."""
    return load_kpi_sources(settings.kpi_sources_path or None, os.environ,
                            timezone=settings.timezone, mlflow_url=settings.mlflow_url)
