#!/usr/bin/env python3
"""Tools the tests run as real servers, kept outside .venv (stdlib only).

    python3 scripts/tools.py mlflow            print the MLflow venv's python, creating it if missing
    python3 scripts/tools.py mlflow --check    print it only if it is ready; exit 1 otherwise
    python3 scripts/tools.py github-openapi [--check]
                                               the same for GitHub's OpenAPI description
                                               (api.github.com.json of npm's @octokit/openapi)
    python3 scripts/tools.py axe [--check]     the same for axe-core's axe.min.js (npm's axe-core)
    python3 scripts/tools.py schemathesis [--check]
                                               the same for schemathesis (its venv's python)
    python3 scripts/tools.py container-base [--check]
                                               the Containerfile's stand-in base image (its name)

The MLflow tracking server is large (hundreds of MB) and the bot never imports it: it lives in
its own venv under ``${BIZDEVOPS_TOOLS_DIR:-~/.cache/bizdevops-tools}/mlflow-<version>``,
reused between runs and between clones. Used by ``.ci/run`` and by tests/servers/mlflow.py.
GitHub's published OpenAPI description (13 MB of JSON, which tests/servers/fake_github.py
checks every request and answer against) is installed with npm next to it, in
``github-openapi-<version>``; axe-core, whose accessibility rules tests/browser runs in every
page of the dashboard, in ``axe-core-<version>``. schemathesis, which
tests/integration/test_api_schema.py runs against the bot's own /api/v1 (handlers/openapi.yaml),
is a test-only tool with many dependencies of its own: it too has a venv of its own,
``schemathesis-<version>``, and is never one of the bot's.

No container registry answers here, so the Containerfile's ``FROM`` cannot be pulled: the
stand-in is Debian bookworm made with ``debootstrap`` (minbase, python3, this host's CA
certificates so pip can reach PyPI through its proxy), kept as a tarball in
``container-base-<version>/`` and ``podman import``-ed as ``localhost/bizdevops-base:<version>``
into a podman storage of its own (``podman/``: storage.conf, and containers.conf with runc,
cgroupfs and ulimits this host accepts; shared/LESSONS.md says why each). Needs root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

MLFLOW_VERSION = "3.17.2"
SCHEMATHESIS_VERSION = "4.32.5"  # pinned: a new one may bring checks of its own
OCTOKIT_OPENAPI_VERSION = "23.0.2"  # pinned: a new description may change what the fake accepts
AXE_CORE_VERSION = "4.14.1"  # pinned: a new axe may bring rules of its own
STAMP = ".bizdevops-ready"  # written last: a venv without it is half-built and is made anew
CONTAINER_BASE_VERSION = "bookworm-1"  # bump to rebuild the stand-in base (a new package in it)
CONTAINER_BASE_PACKAGES = "python3,python3-venv,ca-certificates,tzdata"
USAGE = "usage: python3 scripts/tools.py mlflow|github-openapi|axe|schemathesis|container-base [--check]"


def tools_dir() -> Path:
    configured = os.environ.get("BIZDEVOPS_TOOLS_DIR", "")
    return Path(configured) if configured else Path.home() / ".cache" / "bizdevops-tools"


def mlflow_venv() -> Path:
    return tools_dir() / f"mlflow-{MLFLOW_VERSION}"


def schemathesis_venv() -> Path:
    return tools_dir() / f"schemathesis-{SCHEMATHESIS_VERSION}"


def github_openapi_dir() -> Path:
    return tools_dir() / f"github-openapi-{OCTOKIT_OPENAPI_VERSION}"


def github_openapi_json(root: Path) -> Path:
    return root / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"


def github_openapi_ready(root: Path) -> bool:
    return github_openapi_json(root).exists() and (root / STAMP).exists()


def ensure_github_openapi() -> Path:
    """The path of ``api.github.com.json``, installed with npm (seconds) when missing."""
    root = github_openapi_dir()
    _npm_install(root, f"@octokit/openapi@{OCTOKIT_OPENAPI_VERSION}", github_openapi_ready)
    return github_openapi_json(root)


def axe_dir() -> Path:
    return tools_dir() / f"axe-core-{AXE_CORE_VERSION}"


def axe_js(root: Path) -> Path:
    return root / "node_modules" / "axe-core" / "axe.min.js"


def axe_ready(root: Path) -> bool:
    return axe_js(root).exists() and (root / STAMP).exists()


def ensure_axe() -> Path:
    """The path of ``axe.min.js`` (axe-core, which the browser tests run in each page),
    installed with npm (seconds) when missing."""
    root = axe_dir()
    _npm_install(root, f"axe-core@{AXE_CORE_VERSION}", axe_ready)
    return axe_js(root)


def _npm_install(root: Path, package: str, is_ready: Callable[[Path], bool]) -> None:
    if is_ready(root):
        return
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f"{root.name}.lock"):
        if not is_ready(root):  # another process may have installed it while this one waited
            print(f"tools.py: installing {package} into {root}", file=sys.stderr, flush=True)
            if root.exists():
                shutil.rmtree(root)
            root.mkdir()
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(root),
                            package], check=True, stdout=sys.stderr)
            (root / STAMP).write_text(package + "\n")


def container_base_dir() -> Path:
    return tools_dir() / f"container-base-{CONTAINER_BASE_VERSION}"


def container_base_image(_root: Path | None = None) -> str:
    return f"localhost/bizdevops-base:{CONTAINER_BASE_VERSION}"


def podman_env() -> dict[str, str]:
    """The environment podman runs in: this project's containers.conf and storage.conf unless the
    caller names others. Written on first use; storage.conf before podman first runs (podman #21683)."""
    conf = tools_dir() / "podman"
    files = {
        "containers.conf": '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]\n'
                           '[engine]\nruntime = "runc"\n'
                           'cgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
        "storage.conf": f'[storage]\ndriver = "overlay"\ngraphroot = "{conf / "storage"}"\n'
                        'runroot = "/run/bizdevops-containers"\n',
    }
    conf.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if not (conf / name).exists() or (conf / name).read_text() != text:
            (conf / name).write_text(text)
    return {"CONTAINERS_CONF": str(conf / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(conf / "storage.conf"), **os.environ}


def container_base_ready(root: Path) -> bool:
    if not (root / STAMP).exists():
        return False
    found = subprocess.run(["podman", "image", "exists", container_base_image()], env=podman_env())
    return found.returncode == 0


def ensure_container_base() -> str:
    """The stand-in base image's name: debootstrap (a minute or two) once, ``podman import`` when
    the image is not in podman's storage (seconds)."""
    root = container_base_dir()
    if container_base_ready(root):
        return container_base_image()
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f"{root.name}.lock"):
        tarball = root / "rootfs.tar"
        if not (root / STAMP).exists():
            _debootstrap(root, tarball)
        if not container_base_ready(root):
            subprocess.run(["podman", "import", "--change", 'CMD ["/bin/bash"]', str(tarball),
                            container_base_image()], env=podman_env(), check=True, stdout=sys.stderr)
    return container_base_image()


def _debootstrap(root: Path, tarball: Path) -> None:
    started = time.monotonic()
    print(f"tools.py: debootstrap bookworm into {root} (takes a minute or two)", file=sys.stderr, flush=True)
    if root.exists():
        shutil.rmtree(root)
    rootfs = root / "rootfs"
    subprocess.run(["debootstrap", "--variant=minbase", f"--include={CONTAINER_BASE_PACKAGES}", "bookworm",
                    str(rootfs), "http://deb.debian.org/debian"], check=True, stdout=sys.stderr)
    for cert in Path("/usr/local/share/ca-certificates").glob("*.crt"):  # pip through this host's proxy
        shutil.copy(cert, rootfs / "usr/local/share/ca-certificates" / cert.name)
    subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True, stdout=sys.stderr)
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
                 "usr/share/locale", "usr/share/info"):
        shutil.rmtree(rootfs / junk, ignore_errors=True)
    subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), "."], check=True)
    shutil.rmtree(rootfs)
    (root / STAMP).write_text(f"debootstrap --variant=minbase --include={CONTAINER_BASE_PACKAGES} bookworm\n")
    print(f"tools.py: {tarball} ready in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


def venv_python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ready(root: Path) -> bool:
    return venv_python(root).exists() and (root / STAMP).exists()


def ensure_venv(root: Path, requirement: str) -> Path:
    """The venv's python; the venv is created (minutes) only when missing or half-built."""
    if ready(root):
        return venv_python(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f"{root.name}.lock"):
        if not ready(root):  # another process may have built it while this one waited
            _build(root, [requirement])
    return venv_python(root)


def ensure_mlflow() -> Path:
    return ensure_venv(mlflow_venv(), f"mlflow=={MLFLOW_VERSION}")


def ensure_schemathesis() -> Path:
    """The schemathesis venv's python (``python -m schemathesis.cli run ...``)."""
    return ensure_venv(schemathesis_venv(), f"schemathesis=={SCHEMATHESIS_VERSION}")


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
    tools = {
        "mlflow": (mlflow_venv, ready, venv_python, ensure_mlflow, "python3 scripts/tools.py mlflow"),
        "github-openapi": (github_openapi_dir, github_openapi_ready, github_openapi_json,
                           ensure_github_openapi, "python3 scripts/tools.py github-openapi"),
        "axe": (axe_dir, axe_ready, axe_js, ensure_axe, "python3 scripts/tools.py axe"),
        "schemathesis": (schemathesis_venv, ready, venv_python, ensure_schemathesis,
                         "python3 scripts/tools.py schemathesis"),
        "container-base": (container_base_dir, container_base_ready, container_base_image,
                           ensure_container_base, "python3 scripts/tools.py container-base"),
    }
    if not args or args[0] not in tools or args[1:] not in ([], ["--check"]):
        print(USAGE, file=sys.stderr)
        return 2
    where, is_ready, artifact, ensure, command = tools[args[0]]
    root = where()
    if args[1:] == ["--check"]:
        if not is_ready(root):
            print(f"tools.py: nothing ready at {root}; create it with: {command}", file=sys.stderr)
            return 1
        print(artifact(root))
        return 0
    try:
        path = ensure()
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"tools.py: could not create {root}: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
