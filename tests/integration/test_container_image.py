"""The container image, built from the Containerfile with rootful podman and run the way the README's
"Running it in production" says: the release step `bizdevops migrate` in one container, then
`bizdevops serve` in the next on the same volume (SQLite in /data). It answers /healthz on its
published port and through its own HEALTHCHECK, runs as a user that is not root, and stops
cleanly on SIGTERM.

No registry answers here: the base is the stand-in ``python3 scripts/tools.py container-base``
makes from Debian (.ci/run does; a minute or two once, then cached). Without podman, root or that
base the test is skipped, unless ``BIZDEVOPS_REQUIRE_CONTAINER=1`` (CI), where it fails. Cold, the
build takes a minute or two; with podman's layer cache, seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import tools
from storage.migrate import head_revision
from tests.servers import free_port, unavailable, wait_for

REQUIRE = "BIZDEVOPS_REQUIRE_CONTAINER"
ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/bizdevops-bot:test"
APP_UID = "10001"  # the Containerfile's user
SETTINGS = {  # what `serve` requires; nothing here is ever called (no Slack request arrives)
    "SLACK_BOT_TOKEN": "xoxb-container-test",
    "SLACK_SIGNING_SECRET": "container-test-signing-secret",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
}


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], env=tools.podman_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{' '.join(done.args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from this checkout; the one it replaces under the tag is removed (its
    layers stay as the cache), so CI's storage does not grow with every run."""
    if shutil.which("podman") is None or os.geteuid() != 0:
        unavailable("rootful podman is not here (apt-get install podman runc debootstrap, as root)", REQUIRE)
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "tools.py"), "container-base", "--check"],
                           capture_output=True, text=True, check=False)
    if check.returncode != 0:
        unavailable(f"no stand-in base image: {check.stderr.strip()}", REQUIRE)
    before = podman("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    ok(podman("build", "--format", "docker", "--build-arg", f"BASE={check.stdout.strip()}",
              "-t", IMAGE, str(ROOT), timeout=900))
    after = ok(podman("image", "inspect", "--format", "{{.Id}}", IMAGE)).strip()
    if before and before != after:
        podman("rmi", before)  # may still be used by a container elsewhere: then it stays
    return IMAGE


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"bizdevops-test-{uuid.uuid4().hex[:8]}"
    ok(podman("volume", "create", name))
    yield name
    podman("volume", "rm", "--force", name)


def logs(container: str) -> str:
    done = podman("logs", container)
    return done.stdout + done.stderr


def healthz(port: int) -> dict[str, str] | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
        return json.loads(answer.read()) if answer.status == 200 else None


def test_the_image_migrates_then_serves_healthz_as_a_user_that_is_not_root(image: str, volume: str) -> None:
    release_step = ("run", "--rm", "--no-healthcheck", "-v", f"{volume}:/data", image, "bizdevops", "migrate")
    migrated = ok(podman(*release_step))
    assert f"database schema at revision {head_revision()}" in migrated

    port, name = free_port(), f"bizdevops-test-{uuid.uuid4().hex[:8]}"
    env = [arg for key, value in SETTINGS.items() for arg in ("-e", f"{key}={value}")]
    # No systemd here to time the HEALTHCHECK: it is run by hand below instead.
    ok(podman("run", "-d", "--name", name, "--health-interval", "disable", "-p", f"127.0.0.1:{port}:3000",
              "-v", f"{volume}:/data", *env, image))
    try:
        def up() -> dict[str, str] | None:
            if ok(podman("inspect", "--format", "{{.State.Running}}", name)).strip() != "true":
                pytest.fail(f"the container stopped:\n{logs(name)[-3000:]}", pytrace=False)
            return healthz(port)

        assert wait_for(up, timeout=60, what="the container's /healthz") == {"status": "ok"}
        ok(podman("healthcheck", "run", name))  # the image's own HEALTHCHECK passes
        top = ok(podman("top", name, "huser", "args")).splitlines()
        serving = [line.split(None, 1) for line in top[1:] if "bizdevops serve" in line]
        assert serving and all(uid == APP_UID for uid, _ in serving), top
        ok(podman("stop", "--time", "30", name))
        assert ok(podman("inspect", "--format", "{{.State.ExitCode}}", name)).strip() == "0"
        assert "action=shutdown reason=signal" in logs(name)
    finally:
        podman("rm", "--force", name)
