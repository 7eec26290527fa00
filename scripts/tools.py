#!/usr/bin/env python3
"""Tools the tests run as real servers, kept outside .venv (stdlib only).

    python3 scripts/tools.py mlflow            print the MLflow venv's python, creating it if missing
    python3 scripts/tools.py mlflow --check    print it only if it is ready; exit 1 otherwise

The MLflow tracking server is large (hundreds of MB) and the bot never imports it: it lives in
its own venv under ``${BIZDEVOPS_TOOLS_DIR:-~/.cache/bizdevops-tools}/mlflow-<version>``,
reused between runs and between clones. Used by ``.ci/run`` and by tests/servers/mlflow.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path

MLFLOW_VERSION = "3.17.2"
STAMP = ".bizdevops-ready"  # written last: a venv without it is half-built and is made anew
USAGE = "usage: python3 scripts/tools.py mlflow [--check]"


def tools_dir() -> Path:
    configured = os.environ.get("BIZDEVOPS_TOOLS_DIR", "")
    return Path(configured) if configured else Path.home() / ".cache" / "bizdevops-tools"


def mlflow_venv() -> Path:
    return tools_dir() / f"mlflow-{MLFLOW_VERSION}"


def venv_python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ready(root: Path) -> bool:
    return venv_python(root).exists() and (root / STAMP).exists()


def ensure_mlflow() -> Path:
    """The MLflow venv's python; the venv is created (minutes) only when missing or half-built."""
    root = mlflow_venv()
    if ready(root):
        return venv_python(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f"{root.name}.lock"):
        if not ready(root):  # another process may have built it while this one waited
            _build(root, [f"mlflow=={MLFLOW_VERSION}"])
    return venv_python(root)


def _build(root: Path, requirements: list[str]) -> None:
    started = time.monotonic()
    print(f"tools.py: creating {root} with {' '.join(requirements)} (takes minutes)",
          file=sys.stderr, flush=True)
    if root.exists():
        shutil.rmtree(root)
    venv.create(root, with_pip=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([str(venv_python(root)), "-m", "pip", "install", "-q", *requirements],
                   env=env, check=True, stdout=sys.stderr)
    (root / STAMP).write_text(" ".join(requirements) + "\n")
    print(f"tools.py: {root} ready in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time (two test runs, or CI and a developer, may ask at once)."""
    with path.open("w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no lock, the stamp still guards against half-built venvs
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(args: list[str]) -> int:
    if not args or args[0] != "mlflow" or args[1:] not in ([], ["--check"]):
        print(USAGE, file=sys.stderr)
        return 2
    if args[1:] == ["--check"]:
        root = mlflow_venv()
        if not ready(root):
            print(f"tools.py: no MLflow venv at {root}; create it with: python3 scripts/tools.py mlflow",
                  file=sys.stderr)
            return 1
        print(venv_python(root))
        return 0
    try:
        python = ensure_mlflow()
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"tools.py: could not create {mlflow_venv()}: {exc}", file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
