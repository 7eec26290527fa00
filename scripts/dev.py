#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+ (no make, no manual venv).

    python3 scripts/dev.py shell [args...]      the local Slack simulator
    python3 scripts/dev.py test [pytest args]   the test suite (over a few processes, unless given args)
    python3 scripts/dev.py bizdevops <args>     any bizdevops command

Creates .venv in the repo root on first use and reinstalls the project (editable, with test
extras) whenever pyproject.toml is newer than .venv/.installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed"
WINDOWS = os.name == "nt"
BIN = VENV / ("Scripts" if WINDOWS else "bin")
EXE = ".exe" if WINDOWS else ""
PYTHON = BIN / f"python{EXE}"
USAGE = "usage: python3 scripts/dev.py {shell [args...] | test [pytest args...] | bizdevops <args>}"


def check_python() -> None:
    # The module itself parses on Python 3.7+, so older ones get this line, not a traceback.
    if sys.version_info < (3, 11):  # noqa: UP036
        version = sys.version.split()[0]
        sys.exit(f"dev.py: Python 3.11+ is required, this is {version} ({sys.executable})")


def pip(*args: str) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([str(PYTHON), "-m", "pip", "-q", *args], cwd=ROOT, env=env, check=True)


def needs_install() -> bool:
    pyproject = ROOT / "pyproject.toml"
    return not STAMP.exists() or pyproject.stat().st_mtime > STAMP.stat().st_mtime


def ensure_env() -> None:
    """Create .venv if missing and (re)install the project when pyproject.toml changed."""
    fresh = not PYTHON.exists()
    if not fresh and not needs_install():
        return
    if fresh or not STAMP.exists():
        print("dev.py: setting up .venv with bizdevops-bot[test] (first run, ~1 min)", flush=True)
    else:
        print("dev.py: pyproject.toml changed, reinstalling into .venv", flush=True)
    if fresh:
        try:
            venv.create(VENV, with_pip=True, clear=VENV.exists())
        except (OSError, subprocess.CalledProcessError) as exc:
            hint = "on Debian/Ubuntu: apt install python3-venv"
            sys.exit(f"dev.py: could not create {VENV} ({exc}); {hint}")
        pip("install", "--upgrade", "pip")
    pip("install", "-e", ".[test]")
    STAMP.write_text("pip install -e '.[test]' done; delete this file to force a reinstall\n")
    if fresh:  # `bizdevops` in the README is this venv's console script
        activate = BIN / "activate.bat" if WINDOWS else f"source {BIN / 'activate'}"
        print(f"dev.py: `bizdevops` is {BIN / ('bizdevops' + EXE)}: run `python3 scripts/dev.py "
              f"bizdevops <command>`, or put it on PATH with `{activate}`", flush=True)


def workers(args: list[str]) -> list[str]:
    """Spread the whole suite over a few processes (pytest-xdist): most tests wait on servers,
    subprocesses and databases, so two workers nearly halve it even on two cores. Each worker
    has its own databases and servers; capped at 4 (each may start an MLflow server). Given any
    pytest argument, the run is left as asked."""
    count = min(os.cpu_count() or 1, 4)
    # worksteal: a worker that runs out takes tests from the other, so the long ones (a
    # killed process, schemathesis, the browser) do not leave one core idle at the end.
    return ["-n", str(count), "--dist", "worksteal"] if not args and count > 1 else []


def run(argv: list[str]) -> int:
    """Run argv; on POSIX replace this process so signals and the TTY go straight to it."""
    if WINDOWS:
        return subprocess.call(argv)
    os.execv(argv[0], argv)
    return 0  # not reached


def main(args: list[str]) -> int:
    check_python()
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in ("shell", "test", "bizdevops"):
        print(f"dev.py: unknown command {command!r}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        ensure_env()
    except subprocess.CalledProcessError as exc:
        failed = " ".join(exc.cmd)
        print(f"dev.py: install failed (exit {exc.returncode}): {failed}", file=sys.stderr)
        return exc.returncode or 1
    if command == "test":
        return subprocess.call([str(PYTHON), "-m", "pytest", *workers(rest), *rest])
    prefix = ["shell"] if command == "shell" else []
    return run([str(BIN / f"bizdevops{EXE}"), *prefix, *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
