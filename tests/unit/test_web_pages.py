"""The dashboard's HTML, rendered from facts: what people typed in Slack is text, never markup;
a link only to a safe URL; every page says what it shows in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from bot.domain import usecases
from bot.domain.changes import Change, ChangeKind
from bot.domain.dashboard import PortfolioFilter
from bot.domain.usecases import Phase
from bot.render import web_pages
from bot.services.dashboard import Portfolio, UseCaseStory
from bot.services.ports import StoredPoint, StoredTarget
from tests.unit.test_dora import deployment

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _use_case() -> usecases.UseCase:
    uc = usecases.create("churn", "Churn model", creator_id="U1", channel_id="C1",
                         now=NOW - timedelta(weeks=8), problem=HOSTILE, kpi="churn_rate")
    return replace(uc, title=HOSTILE, phase=Phase.DEV, phase_since=NOW - timedelta(weeks=7))


def test_the_portfolio_escapes_what_people_typed_and_flags_the_overdue() -> None:
    uc = _use_case()
    page = Portfolio(PortfolioFilter(search=HOSTILE), (uc,), {"dev": 1}, {},
                     {"churn": [StoredPoint("churn_rate", 4.2, "%", NOW)]},
                     {"churn": {"churn_rate": StoredTarget("churn_rate", "<=", 5.0, None)}},
                     None, NOW, {"U1": "Alice <admin>"})
    html = web_pages.portfolio(page, "Alice", "UTC", timedelta(weeks=6))
    assert not [t for t, _ in tags(html) if t in ("script", "img")]
    assert "&lt;script&gt;" in html and "Alice &lt;admin&gt;" in html
    assert "overdue" in html and "churn_rate: 4.2%, met ≤ 5%" in html
    assert 'href="/use-cases/churn"' in html


def test_a_use_case_links_its_change_only_to_a_safe_url() -> None:
    uc = _use_case()
    safe = replace(deployment(1, NOW - timedelta(days=1)), id=1,
                   change=Change(ChangeKind.COMMIT, "4f2a9c1deadbeef", url="https://github.com/o/r/commit/4f2a9c1"))
    unsafe = replace(deployment(2, NOW), id=2,
                     change=Change(ChangeKind.COMMIT, "abcdef0123", url="javascript:alert(1)"))
    story = UseCaseStory(uc, None, (), ((unsafe, ()), (safe, ())), (NOW - timedelta(days=90), NOW),
                         NOW, {})
    html = web_pages.use_case(story, "Alice", "UTC", timedelta(weeks=6), [])
    hrefs = [a.get("href") for t, a in tags(html) if t == "a"]
    assert "https://github.com/o/r/commit/4f2a9c1" in hrefs
    assert not [h for h in hrefs if h and h.startswith("javascript")]
    assert "commit abcdef0" in html  # said, not linked
    assert 'id="deployment-1"' in html and 'id="deployment-2"' in html
    assert "&lt;img src=x" in html and not [t for t, _ in tags(html) if t in ("script", "img")]
