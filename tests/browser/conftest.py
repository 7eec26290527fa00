"""The dashboard in a real browser: Debian's chromium (``apt-get install chromium
chromium-driver``), Selenium, and axe-core from ``python3 scripts/tools.py axe``. Without them
these tests are skipped, unless ``BIZDEVOPS_REQUIRE_BROWSER=1`` (``.ci/run``): then they fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from bot.clock import ManualClock
from bot.config import Settings
from scripts import tools
from tests.browser import chromium
from tests.browser.live import LiveSimulator
from tests.browser.workspace import Workspace, build, write_pipelines
from tests.conftest import migrated_database
from tests.scenario.conftest import START
from tests.servers import unavailable

REQUIRE = "BIZDEVOPS_REQUIRE_BROWSER"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js; skipped (or failed, when required) without chromium, its driver or axe-core."""
    for program, package in ((chromium.CHROMIUM, "chromium"), (chromium.CHROMEDRIVER, "chromium-driver")):
        if not os.access(program, os.X_OK):
            unavailable(f"no {program}: `apt-get install {package}`", REQUIRE)
    root = tools.axe_dir()
    if not tools.axe_ready(root):
        unavailable(f"no axe-core {tools.AXE_CORE_VERSION} at {root}; install it with "
                    "`python3 scripts/tools.py axe`", REQUIRE)
    return tools.axe_js(root).read_text(encoding="utf-8")


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where screenshots go: ``$BIZDEVOPS_ARTIFACTS`` or tests/artifacts (git-ignored), a folder
    per test."""
    base = Path(os.environ.get("BIZDEVOPS_ARTIFACTS") or ROOT / "tests" / "artifacts")
    folder = base / "browser" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)  # this run's pictures only
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def live(axe_source: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveSimulator]:
    """The bot with its fake Slack on a real port, from a thread of its own, on SQLite."""
    with migrated_database("sqlite", request, tmp_path) as url:
        settings = replace(Settings(), database_url=url, outbox_poll_seconds=0.05,
                           pipelines_path=str(write_pipelines(tmp_path)))
        with LiveSimulator(settings, ManualClock(START)) as running:
            yield running


@pytest.fixture
def workspace(live: LiveSimulator) -> Workspace:
    assert isinstance(live.sim.clock, ManualClock)
    return live.run(build(live.sim, live.sim.clock))


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(axe_source: str, downloads: Path) -> Iterator[WebDriver]:
    driver = chromium.start(downloads)
    try:
        yield driver
    finally:
        driver.quit()
