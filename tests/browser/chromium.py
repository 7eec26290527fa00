"""Debian's chromium, headless, driven through its chromedriver; axe-core run in a page; a
full-page screenshot. What tests/browser shares besides the workspace."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 1280, 900
WAIT_SECONDS = 30.0  # the longest an explicit wait waits: a loaded machine, not a slow page
FAILING_IMPACTS = ("serious", "critical")

_RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then(r => done({violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))}))}))
  .catch(e => done({error: String(e)}));
"""


def start(downloads: Path) -> WebDriver:
    """Headless chromium at 1280 px, downloads saved to ``downloads`` without asking."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WIDTH},{HEIGHT}", "--lang=en-US", "--no-first-run"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "download.directory_upgrade": True, "safebrowsing.enabled": False})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS)
    driver.set_script_timeout(WAIT_SECONDS)
    # Headless chromium asks nobody where to save: this says where (and that it may).
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def axe_violations(driver: WebDriver, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations in the page shown now, each rule with the elements that break it."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source)
    result = driver.execute_async_script(_RUN_AXE)
    if "error" in result:
        raise AssertionError(f"axe-core could not run in {driver.current_url}: {result['error']}")
    return list(result["violations"])


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v.get("impact") in FAILING_IMPACTS]


def described(page: str, violations: list[dict[str, Any]]) -> str:
    """Violations as a person reads them: the rule, its impact, why, and each element."""
    lines = [f"axe-core: {len(violations)} serious or critical violation(s) on {page}"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:160]}")
            lines.extend(f"      {line}" for line in (node.get("summary") or "").splitlines())
    return "\n".join(lines)


def screenshot(driver: WebDriver, path: Path) -> None:
    """The whole page (not only what the window shows) as PNG, at the window's width."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": WIDTH, "height": size["height"], "scale": 1}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
