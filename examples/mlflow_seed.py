"""Register a model with two versions in an MLflow tracking server, for the README's recipe.

    python3 examples/mlflow_seed.py http://127.0.0.1:5055 churn-xgb

Version 1 is tagged validation=passed, version 2 is not (the `model` pipeline refuses it).
Standard library only; it talks to MLflow's REST API like the bot does.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request


def call(base: str, endpoint: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(f"{base.rstrip('/')}/api/2.0/mlflow/{endpoint}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"{}")


def main(base: str, model: str) -> None:
    experiment = call(base, "experiments/create", {"name": f"{model}-training-{int(time.time())}"})
    call(base, "registered-models/create", {"name": model})
    for auc, validated in ((0.86, True), (0.89, False)):
        run = call(base, "runs/create", {"experiment_id": experiment["experiment_id"],
                                         "start_time": int(time.time() * 1000)})["run"]
        run_id = run["info"]["run_id"]  # type: ignore[index]
        call(base, "runs/log-metric", {"run_id": run_id, "key": "auc", "value": auc,
                                       "timestamp": int(time.time() * 1000), "step": 0})
        call(base, "runs/update", {"run_id": run_id, "status": "FINISHED"})
        version = call(base, "model-versions/create", {
            "name": model, "source": f"runs:/{run_id}/model", "run_id": run_id})["model_version"]
        number = version["version"]  # type: ignore[index]
        if validated:
            call(base, "model-versions/set-tag", {"name": model, "version": number,
                                                  "key": "validation", "value": "passed"})
        print(f"{model} v{number}: auc {auc}" + (", validation=passed" if validated else ""))


if __name__ == "__main__":
    main(*sys.argv[1:3])
