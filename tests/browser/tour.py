"""A person going through the dashboard in chromium: pages opened by URL, link, form and button,
each waited for explicitly, each checked with axe-core, screenshotted, and searched for what that
person must never see."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import chromium
from tests.browser.workspace import Workspace


@dataclass
class Tour:
    driver: WebDriver
    base_url: str
    axe_source: str
    artifacts: Path
    downloads: Path
    workspace: Workspace
    shots: dict[str, Path] = field(default_factory=dict)  # each page checked: its screenshot

    # ── going places ───────────────────────────────────────────────────────────────────────
    def open(self, path: str) -> None:
        """Type a URL: ``get`` returns once the last page of any redirects has loaded."""
        self.driver.get(self.base_url + path)

    def until(self, condition: Callable[[WebDriver], object], what: str) -> None:
        WebDriverWait(self.driver, chromium.WAIT_SECONDS).until(
            condition, f"waited {chromium.WAIT_SECONDS:g} s for {what}; at {self.driver.current_url}")

    def arrive(self, path: str, **query: str) -> None:
        """Wait until the browser shows the dashboard's ``path``, loaded, with ``query`` (the
        filters a form set; those it left empty are not named)."""
        def there(d: WebDriver) -> bool:
            url = urlsplit(d.current_url)
            return (f"{url.scheme}://{url.netloc}" == self.base_url and url.path == path
                    and dict(parse_qsl(url.query)) == query
                    and d.execute_script("return document.readyState") == "complete")

        self.until(there, f"{path} {query or ''}")

    def follow(self, link_text: str, path: str, **query: str) -> None:
        self.driver.find_element(By.LINK_TEXT, link_text).click()
        self.arrive(path, **query)

    def submit(self, form: WebElement, path: str, **query: str) -> None:
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.arrive(path, **query)

    # ── reading the page ───────────────────────────────────────────────────────────────────
    def heading(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "h1").text)

    def first_column(self) -> list[str]:
        """The main table's first cells, top to bottom (slugs, deployment numbers)."""
        cells = self.driver.find_elements(By.CSS_SELECTOR,
                                          "main table tbody tr > :first-child a:first-child")
        return [str(c.text) for c in cells]

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    # ── what every page must pass ──────────────────────────────────────────────────────────
    def check(self, name: str, *, typed: str = "") -> None:
        """axe-core finds nothing serious or critical; the hidden use case shows nowhere, not
        even in the markup (but for its slug, on a page where the person ``typed`` it); a
        full-page screenshot for the record."""
        assert name not in self.shots, f"two pages named {name}"
        self.shots[name] = self.artifacts / f"{len(self.shots) + 1:02d}-{name}.png"
        chromium.screenshot(self.driver, self.shots[name])
        source = self.driver.page_source
        secrets = (self.workspace.hidden_slug, self.workspace.hidden_title)
        for secret in (s for s in secrets if s != typed):
            assert secret not in source, f"{secret!r} shows on {name} ({self.driver.current_url})"
        bad = chromium.serious(chromium.axe_violations(self.driver, self.axe_source))
        assert not bad, chromium.described(f"{name} ({self.driver.current_url})", bad)
        # axe leaves a repeated id that ARIA refers to "to review": here it fails (charts' names).
        ids = self.driver.execute_script("return Array.from(document.querySelectorAll('[id]'), e => e.id)")
        twice = sorted({i for i in ids if ids.count(i) > 1})
        assert not twice, f"ids used twice on {name}: {twice}"

    # ── downloads ──────────────────────────────────────────────────────────────────────────
    def download(self, link_text: str) -> list[list[str]]:
        """Click a download link; the saved file, once chromium has finished writing it, as CSV."""
        before = set(self.downloads.iterdir())
        self.driver.find_element(By.PARTIAL_LINK_TEXT, link_text).click()
        saved: list[Path] = []

        def finished(_driver: WebDriver) -> bool:
            new = [p for p in self.downloads.iterdir() if p not in before]
            saved[:] = [p for p in new if not p.name.endswith(".crdownload")]
            return bool(saved) and len(saved) == len(new)

        self.until(finished, f"the {link_text} download in {self.downloads}")
        return list(csv.reader(io.StringIO(saved[0].read_text(encoding="utf-8"))))
