"""Real servers the tests start once per session (Prometheus, MLflow), and what they share.

A server that is missing on this machine skips its tests with the reason, unless the matching
``BIZDEVOPS_REQUIRE_<NAME>=1`` is set (``.ci/run`` sets them): then its tests fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlencode

import pytest

T = TypeVar("T")


def unavailable(reason: str, require_env: str) -> NoReturn:
    """Skip (a laptop without the server) or fail (CI, where it is required)."""
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{reason} ({require_env}=1: the server is required here)", pytrace=False)
    pytest.skip(f"{reason} (set {require_env}=1 to fail instead of skipping)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str,
             process: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> T:
    """Poll ``check`` until it gives a value; fail naming ``what`` (with the log's tail)."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited with {process.returncode}{tail(log)}", pytrace=False)
        try:
            found = check()
        except (OSError, ValueError):  # not up yet, or a half-written answer
            found = None
        if found is not None:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s{tail(log)}", pytrace=False)
        time.sleep(0.1)


def tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n--- log tail ---\n" + "\n".join(text)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the process and its children (started with ``start_new_session=True``)."""
    if process.poll() is None:
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    process.wait()


def http_json(method: str, url: str, *, params: Mapping[str, str] | None = None,
              body: object = None, timeout: float = 10.0) -> tuple[int, Any]:
    """A small JSON request with the standard library: (status, parsed body or None)."""
    if params:
        url = f"{url}?{urlencode(params)}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (loopback)
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
        error.close()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None
