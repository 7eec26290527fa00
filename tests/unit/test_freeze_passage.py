"""The freeze windows a deployment met are kept as facts and worded when shown: the same words
as when they were made, in the reader's zone, escaped once — and older rows' words as they are."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.freeze_passage import Passage, as_text, from_text
from bot.domain.freezes import PIPELINE_FILE, FreezeWindow
from bot.render.freeze_blocks import kept_passage

CLOSE = FreezeWindow(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 3, 18, tzinfo=UTC),
                     "R&D <close>", frozenset({"churn", "ltv"}))
WEEKEND = FreezeWindow(datetime(2026, 4, 3, 18, tzinfo=UTC), datetime(2026, 4, 6, 7, tzinfo=UTC),
                       "weekend", None, PIPELINE_FILE)


def test_a_passage_reads_back_as_it_was_kept() -> None:
    for passage in (Passage("hotfix, CFO said so", (CLOSE, WEEKEND)), Passage("", (WEEKEND,))):
        assert from_text(as_text(passage)) == passage


def test_an_override_and_a_hold_read_as_they_did_escaped_once() -> None:
    override = as_text(Passage("hotfix & co", (CLOSE, WEEKEND)))
    assert kept_passage(override, "UTC") == (
        "hotfix &amp; co (passes the freeze “R&amp;D &lt;close&gt;” (ad hoc) until "
        "2026-04-03 18:00 UTC, then “weekend” (pipeline file) until 2026-04-06 07:00 UTC)")
    held = as_text(Passage("", (WEEKEND,)))
    assert kept_passage(held, "Europe/Berlin") == (
        "the freeze “weekend” (pipeline file) until 2026-04-06 09:00 CEST")


def test_what_an_older_version_kept_is_shown_as_it_is() -> None:
    old = "hotfix (passes the freeze “quarter close” (ad hoc) until 2026-01-05 11:00 UTC)"
    assert from_text(old) is None and kept_passage(old, "UTC") == old
    assert from_text("{not json") is None and from_text('{"reason": 1}') is None
