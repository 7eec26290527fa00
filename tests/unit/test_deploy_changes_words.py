"""`/deploy changes`: its grammar, and its answer's words within Slack's limits, with what
GitHub says (commit titles, authors) escaped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.domain.change_results import (
    ChangesUnknown,
    CommitChanges,
    CommitLine,
    Comparison,
    InProduction,
    ModelChanges,
    Unknowable,
)
from bot.domain.changes import Change, ChangeKind
from bot.domain.registry import ModelVersion
from bot.render.change_links import change_link
from bot.render.change_replies import reply
from bot.services.commands import ShowChanges
from handlers.grammar.deploy_grammar import parse_deploy
from handlers.grammar.parsing import UsageError

SHA = "0123456789abcdef0123456789abcdef01234567"
BASE = InProduction("1.0.0", 7, Change(ChangeKind.COMMIT, SHA, None, f"https://github.com/a/b/commit/{SHA}"))


@pytest.mark.parametrize(("text", "command"), [
    ("changes churn", ShowChanges("churn")),
    ("changes churn 1.5.0", ShowChanges("churn", "1.5.0")),
    ("changes <#C1|x> 7", None),
    ("CHANGES churn 0123abc", ShowChanges("churn", "0123abc")),
])
def test_the_grammar(text: str, command: ShowChanges | None) -> None:
    if command is None:
        with pytest.raises(UsageError):
            parse_deploy(text)
    else:
        assert parse_deploy(text) == command


@pytest.mark.parametrize("text", ["changes", "changes churn 1.0 2.0", "changes churn ../etc"])
def test_bad_input_shows_the_usage_line(text: str) -> None:
    with pytest.raises(UsageError) as bad:
        parse_deploy(text)
    assert bad.value.usage == "/deploy changes <slug> [<version>]"


def test_ten_long_commits_fit_and_their_words_are_escaped() -> None:
    lines = tuple(CommitLine(f"{n:040x}", "<!channel> " + "x" * 300, "<@U1>", f"https://github.com/a/b/commit/{n}")
                  for n in range(10))
    found = CommitChanges("churn", BASE, "main", "a/b",
                          Comparison(240, 2, lines, "https://github.com/a/b/compare/x...main"))

    shown = reply(found)

    body = json.dumps(shown.blocks)
    assert "<!channel>" not in body and "<@U1>" not in body
    assert "240 changes not yet in production" in shown.text
    assert "… and 230 more" in shown.text and "lacks 2 commits" in shown.text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in shown.blocks)
    assert "<https://github.com/a/b/compare/x...main|Compare on GitHub>" in body


def test_nothing_missing_and_model_versions_and_the_unknown_are_said() -> None:
    same = reply(CommitChanges("churn", BASE, "main", "a/b", Comparison(0, 0, (), None)))
    at = datetime(2026, 11, 30, tzinfo=UTC)
    models = reply(ModelChanges("churn", InProduction("4", 3, Change(ChangeKind.MODEL_VERSION, "4")),
                                "churn-model", "6", (ModelVersion("churn-model", "6", "READY",
                                                                  ("challenger",), (), "r1", at),
                                                     ModelVersion("churn-model", "5", "FAILED_REGISTRATION")),
                                0))
    unknown = reply(ChangesUnknown("churn", InProduction("q3", 2, None), None, Unknowable.PRODUCTION))

    assert "nothing in `main` is missing from production" in same.text
    assert "2 changes not yet in production" in models.text
    assert "• v6 (@challenger), registered 2026-11-30, run `r1`" in models.text
    assert "FAILED_REGISTRATION" in models.text
    assert "the bot does not know what production's `q3` contains" in unknown.text


def test_a_change_is_a_short_sha_or_a_model_version_linked() -> None:
    assert change_link(BASE.change) == f"<https://github.com/a/b/commit/{SHA}|commit 0123456>"
    assert change_link(Change(ChangeKind.MODEL_VERSION, "7")) == "model v7"
