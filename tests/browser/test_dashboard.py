"""The web dashboard as a person uses it, in Debian's chromium (SPEC "Web dashboard"): signed in
with Slack through the fake Slack's OpenID Connect pages, every page walked by link, filters
followed, a use case opened from the portfolio, the audit trail downloaded, signed out — with
axe-core run on every page (nothing serious or critical), a screenshot of each kept in the
artifacts folder, and the use case homed in a private channel the person is not in nowhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from handlers.web_session import SESSION_COOKIE
from tests.browser.live import LiveSimulator
from tests.browser.tour import Tour
from tests.browser.workspace import Workspace

pytestmark = pytest.mark.browser

AUDIT_COLUMNS = ["at", "actor", "use_case", "deployment_id", "action", "detail"]
# BIZDEVOPS_UPDATE_SCREENSHOTS=1 copies these two into docs/screenshots (the README shows them).
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FOR_THE_README = {"portfolio": "dashboard-portfolio.png", "use-case": "dashboard-use-case.png"}


@pytest.fixture
def tour(live: LiveSimulator, workspace: Workspace, browser: WebDriver, axe_source: str,
         artifacts: Path, downloads: Path) -> Tour:
    return Tour(browser, live.sim.base_url, axe_source, artifacts, downloads, workspace)


def test_a_business_reader_signs_in_with_slack_reads_every_page_and_signs_out(
        tour: Tour, live: LiveSimulator) -> None:
    signs_in_through_the_fake_slack(tour, live)
    reads_the_portfolio_and_filters_it(tour)
    opens_a_use_case_from_the_portfolio(tour)
    filters_deployments_by_result(tour)
    follows_a_deployment_to_the_page_that_has_it(tour)
    reads_dora(tour)
    downloads_the_audit_trail(tour, live)
    cannot_reach_the_private_use_case(tour)
    signs_out_and_is_sent_to_sign_in_again(tour, live)
    assert len(tour.shots) == 12  # every page above, each checked
    if os.environ.get("BIZDEVOPS_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for page, name in FOR_THE_README.items():
            shutil.copyfile(tour.shots[page], DOCS / name)


def signs_in_through_the_fake_slack(tour: Tour, live: LiveSimulator) -> None:
    tokens = len(live.sim.fake.calls_to("openid.connect.token"))
    tour.open("/")  # no session: /login, Slack's authorize page, /login/callback, then /
    tour.arrive("/")
    assert tour.heading() == "Portfolio"
    assert len(live.sim.fake.calls_to("openid.connect.token")) == tokens + 1
    cookie = tour.driver.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie["httpOnly"] and cookie.get("sameSite") == "Lax"
    signed_in_as = tour.driver.find_element(By.CSS_SELECTOR, "form.who").text
    assert "bob" in signed_in_as.lower() and "Sign out" in signed_in_as


def reads_the_portfolio_and_filters_it(tour: Tour) -> None:
    assert tour.first_column() == list(tour.workspace.public)
    assert "Biz: 1 · Dev: 1 · Ops: 1 · Continuous: 1" in tour.text()
    assert "auc: 0.86, met ≥ 0.83" in tour.text()
    tour.check("portfolio")

    filters = tour.driver.find_element(By.CSS_SELECTOR, "form.filters")
    Select(filters.find_element(By.ID, "phase")).select_by_value("dev")
    tour.submit(filters, "/", phase="dev")
    assert tour.first_column() == ["pricing"]
    tour.check("portfolio-in-dev")

    tour.follow("Clear", "/")
    search = tour.driver.find_element(By.ID, "q")
    search.send_keys("card", Keys.ENTER)  # in the title "Spot card fraud"
    tour.arrive("/", q="card")
    assert tour.first_column() == ["fraud"]
    tour.check("portfolio-search")
    tour.follow("Clear", "/")


def opens_a_use_case_from_the_portfolio(tour: Tour) -> None:
    tour.follow("churn", "/use-cases/churn")
    assert tour.heading() == "churn"
    page = tour.text()
    for fact in ("Predict churn", "Customers leave and we learn it a month too late", "marketing",
                 "1.0.0", "Deployment 1: 1.0.0 — succeeded", "Deployment 2: 1.1.0 — cancelled",
                 "Biz → Dev: business case signed"):
        assert fact in page, fact
    tour.check("use-case")
    for trail in tour.driver.find_elements(By.CSS_SELECTOR, "details summary"):
        trail.click()  # the audit trails open: axe reads them too
    assert "approved" in tour.text()
    tour.check("use-case-audit-trails")


def filters_deployments_by_result(tour: Tour) -> None:
    tour.follow("Deployments", "/deployments")
    ws = tour.workspace
    assert tour.first_column() == [str(ws.cancelled), str(ws.succeeded)]  # newest first
    tour.check("deployments")
    filters = tour.driver.find_element(By.CSS_SELECTOR, "form.filters")
    Select(filters.find_element(By.ID, "result")).select_by_value("cancelled")
    tour.submit(filters, "/deployments", result="cancelled")
    assert tour.first_column() == [str(ws.cancelled)]
    tour.check("deployments-cancelled")


def follows_a_deployment_to_the_page_that_has_it(tour: Tour) -> None:
    """The older one's link opens the page of churn's deployments from it down, which links
    back to the newest."""
    ws = tour.workspace
    tour.follow("Clear", "/deployments")
    tour.follow(str(ws.succeeded), "/use-cases/churn", deployment=str(ws.succeeded))
    assert "Deployment 1: 1.0.0 — succeeded" in tour.text()
    assert "Deployment 2: 1.1.0" not in tour.text()
    tour.check("use-case-older-deployments")
    tour.follow("Newest deployments", "/use-cases/churn")
    assert "Deployment 2: 1.1.0 — cancelled" in tour.text()


def reads_dora(tour: Tour) -> None:
    tour.follow("DORA", "/dora")
    assert "Deployment frequency" in tour.text()
    tour.check("dora")


def downloads_the_audit_trail(tour: Tour, live: LiveSimulator) -> None:
    tour.follow("Audit", "/audit")
    assert "approved" in tour.text()
    tour.check("audit")
    table = tour.download("CSV")
    assert table[0] == AUDIT_COLUMNS
    rows = [dict(zip(AUDIT_COLUMNS, row, strict=True)) for row in table[1:]]
    alice = live.sim.fake.user("alice")
    assert alice is not None
    approved = [r for r in rows if r["action"] == "approved"]
    assert [(r["use_case"], r["deployment_id"], r["actor"]) for r in approved] == [
        ("churn", str(tour.workspace.succeeded), alice.id)]
    assert {r["use_case"] for r in rows} == set(tour.workspace.public)


def cannot_reach_the_private_use_case(tour: Tour) -> None:
    """Its page answers as one that does not exist does: nothing says it is there."""
    hidden = tour.workspace.hidden_slug
    tour.open("/use-cases/no-such-thing")
    nothing = tour.text()
    tour.open(f"/use-cases/{hidden}")
    assert tour.heading() == "No such use case"
    assert tour.text() == nothing.replace("no-such-thing", hidden)
    tour.check("private-use-case", typed=hidden)
    tour.open("/?q=deal")
    assert tour.first_column() == [] and "No use case matches" in tour.text()


def signs_out_and_is_sent_to_sign_in_again(tour: Tour, live: LiveSimulator) -> None:
    tour.open("/")
    tour.driver.find_element(By.CSS_SELECTOR, "form.who button[type=submit]").click()
    tour.arrive("/logout")
    assert tour.heading() == "You are signed out"
    assert tour.driver.get_cookie(SESSION_COOKIE) is None
    tour.check("signed-out")
    live.sim.fake.openid.signed_in = None  # nobody is signed in to Slack: sign-in stops there
    tour.open("/deployments")
    authorize = live.sim.fake.base_url + "/openid/connect/authorize"
    tour.until(lambda d: d.current_url.startswith(authorize + "?"), "Slack's authorize page")
    asked = parse_qs(urlsplit(tour.driver.current_url).query)
    assert asked["redirect_uri"] == [tour.base_url + "/login/callback"]
    assert asked["scope"] == ["openid profile"] and asked["response_type"] == ["code"]
