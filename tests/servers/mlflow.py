"""A real MLflow tracking server (``mlflow==3.17.2``, SQLite backend) and small REST helpers.

``mlflow_server`` (session-scoped) runs ``mlflow server`` from the venv that
``scripts/tools.py mlflow`` keeps outside ``.venv``, with one worker, on a free loopback port,
and stops it at the end of the session. Webhooks are allowed to loopback over http (for the
model-registry tests). Tests share the server: each names its experiments and models with
:func:`unique`.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts import tools
from tests.servers import free_port, http_json, stop, unavailable, wait_for

REQUIRE = "BIZDEVOPS_REQUIRE_MLFLOW"
API = "/api/2.0/mlflow/"
SERVER_ENV = {
    # The model-registry tests register webhooks that call back to 127.0.0.1 over http.
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_CACHE_TTL": "1",
    # The job runner (7 huey processes, ~1 GB) serves MLflow's GenAI jobs, which no test uses;
    # webhooks are delivered by the server's own thread pool.
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}


def unique(prefix: str) -> str:
    """A name no other test on the shared server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class MlflowServer:
    url: str                     # http://127.0.0.1:<port>, what the bot's BIZDEVOPS_MLFLOW_URL is

    def call(self, method: str, endpoint: str, body: Mapping[str, object] | None = None,
             params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """One REST call (``endpoint`` like ``"runs/create"``); fails the test on an error."""
        status, answer = http_json(method, self.url + API + endpoint, params=params, body=body)
        assert status == 200 and isinstance(answer, dict), f"{method} {endpoint}: HTTP {status} {answer}"
        return answer

    def create_experiment(self, name: str) -> str:
        return str(self.call("POST", "experiments/create", {"name": name})["experiment_id"])

    def create_run(self, experiment_id: str, *, start_time: int | None = None, name: str = "") -> str:
        body: dict[str, object] = {"experiment_id": experiment_id,
                                   "start_time": now_ms() if start_time is None else start_time}
        if name:
            body["run_name"] = name
        return str(self.call("POST", "runs/create", body)["run"]["info"]["run_id"])

    def log_metric(self, run_id: str, key: str, value: float, *, step: int = 0,
                   timestamp: int | None = None) -> None:
        self.call("POST", "runs/log-metric", {"run_id": run_id, "key": key, "value": value, "step": step,
                                              "timestamp": now_ms() if timestamp is None else timestamp})

    def finish_run(self, run_id: str, status: str = "FINISHED") -> None:
        self.call("POST", "runs/update", {"run_id": run_id, "status": status, "end_time": now_ms()})

    def create_registered_model(self, name: str) -> None:
        self.call("POST", "registered-models/create", {"name": name})

    def create_model_version(self, name: str, *, run_id: str = "", source: str = "") -> str:
        """A version from ``run_id`` (source ``runs:/<id>/model``) or, without a run, ``source``."""
        body = {"name": name, "source": source or f"runs:/{run_id}/model"}
        if run_id:
            body["run_id"] = run_id
        return str(self.call("POST", "model-versions/create", body)["model_version"]["version"])

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.call("POST", "registered-models/alias", {"name": name, "alias": alias, "version": version})


def mlflow_python() -> Path:
    """The MLflow venv's python; skip or fail (when required) if it is not built."""
    root = tools.mlflow_venv()
    if not tools.ready(root):
        unavailable(f"no MLflow {tools.MLFLOW_VERSION} venv at {root}; create it (minutes) with "
                    f"`python3 scripts/tools.py mlflow`", REQUIRE)
    return tools.venv_python(root)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    python = mlflow_python()
    home = tmp_path_factory.mktemp("mlflow")
    port, log = free_port(), home / "mlflow.log"
    command = [str(python.with_name("mlflow")), "server",
               "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
               "--default-artifact-root", str(home / "artifacts"),
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # Nothing of the project's venv may leak into MLflow's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=home, env={**env, **SERVER_ENV}, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_json("GET", f"{url}/health")[0] == 200 or None, timeout=120,
                 what=f"MLflow answering /health on {url}", process=process, log=log)
        yield MlflowServer(url)
    finally:
        stop(process)
