"""``bizdevops check-config`` reports the KPI source file too: in the same run as the
environment and the pipeline file, every problem on its own line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import cli
from bot.kpis.loading import MLFLOW_URL_MISSING
from bot.pipelines.loading import WEBHOOK_SECRET_MISSING, check_config

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
KPIS = """\
[connections.warehouse]
url_env = "WAREHOUSE_URL"

[[kpis]]
use_case = "churn"
name = "auc"
evry = "1h"
source = { kind = "sql", connection = "warehose", query = "SELECT 1" }

[[kpis]]
use_case = "churn"
name = "recall"
every = "1h"
source = { kind = "mlflow", experiment = "churn", metric = "recall" }
"""
PIPELINE = """\
[[pipelines.p.stages]]
name = "ship"
run = { executor = "webhook", url = "https://deployer.example/hook" }
timout = "1m"
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_one_run_reports_the_environment_the_pipeline_file_and_the_kpi_file(tmp_path: Path) -> None:
    kpis, pipelines = write(tmp_path, "kpis.toml", KPIS), write(tmp_path, "pipelines.toml", PIPELINE)
    env = {"PORT": "0", "BIZDEVOPS_PIPELINES": pipelines, "BIZDEVOPS_KPI_SOURCES": kpis,
           "WAREHOUSE_URL": "postgresql://kpi:s3cret-pw@warehouse/analytics"}
    assert check_config(env) == [
        "PORT is malformed: expected a whole number from 1 to 65535",
        f"{pipelines}: pipelines.p.stages[0].timout: unknown key; did you mean `timeout`?",
        WEBHOOK_SECRET_MISSING,
        f"{kpis}: kpis[0].evry: unknown key; did you mean `every`?",
        f'{kpis}: kpis[0]: missing a schedule: every = "1h", or cron = "0 * * * *" (with tz)',
        f'{kpis}: kpis[0].source.connection: no connection named "warehose"; did you mean "warehouse"?',
        MLFLOW_URL_MISSING,
    ]


def test_the_examples_pass_with_the_variables_they_name() -> None:
    env = {"BIZDEVOPS_PIPELINES": str(EXAMPLES / "pipelines.toml"), "BIZDEVOPS_WEBHOOK_SECRET": "s3cret",
           "BIZDEVOPS_KPI_SOURCES": str(EXAMPLES / "kpis.toml"),
           "WAREHOUSE_URL": "postgresql://kpi:pw@warehouse/analytics",
           "BIZDEVOPS_MLFLOW_URL": "http://mlflow.internal:5000", "BIZDEVOPS_GITHUB_TOKEN": "ghp_x"}
    assert check_config(env) == []
    assert check_config({k: v for k, v in env.items() if k != "WAREHOUSE_URL"}) == [
        f"{EXAMPLES / 'kpis.toml'}: connections.warehouse.url_env: WAREHOUSE_URL is not set: it must "
        'hold the SQLAlchemy URL of "warehouse", e.g. postgresql://user:password@host/db or '
        "sqlite:///path/to/file.db"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """The CLI reads os.environ (and .env in the working directory): start from neither."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("BIZDEVOPS_", "SLACK_")) or name in ("DATABASE_URL", "PORT", "WAREHOUSE_URL"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_cli_prints_the_kpi_file_problems(clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    kpis = write(tmp_path, "kpis.toml", KPIS)
    clean_env.setenv("BIZDEVOPS_KPI_SOURCES", kpis)
    clean_env.setenv("WAREHOUSE_URL", "postgresql://kpi:s3cret-pw@warehouse/analytics")

    assert cli.main(["check-config"]) == 1

    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{kpis}: kpis[0].evry: unknown key; did you mean `every`?",
        f'{kpis}: kpis[0]: missing a schedule: every = "1h", or cron = "0 * * * *" (with tz)',
        f'{kpis}: kpis[0].source.connection: no connection named "warehose"; did you mean "warehouse"?',
        MLFLOW_URL_MISSING,
    ]
    assert "4 problem(s)" in err and "s3cret-pw" not in out + err


def test_the_cli_names_the_kpi_file_when_all_is_well(clean_env: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    example = str(EXAMPLES / "kpis.toml")
    clean_env.setenv("BIZDEVOPS_KPI_SOURCES", example)
    clean_env.setenv("WAREHOUSE_URL", "sqlite:///warehouse.db")
    clean_env.setenv("BIZDEVOPS_MLFLOW_URL", "http://mlflow.internal:5000")

    assert cli.main(["check-config"]) == 0

    assert capsys.readouterr().out.strip() == (
        f"configuration OK: environment, the built-in dry-run pipeline and {example}")
