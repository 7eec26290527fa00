"""What a deployment's version is, shown: "commit abc1234" or "model v7" as a link on the card's
facts line (so on `/deploy status <slug>` too), in `/deploy status`'s list and in the history;
plain, escaped text when there is no safe URL; nothing when it is not known."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import deployment_machine as machine
from bot.domain.changes import Change, ChangeKind
from bot.domain.deployment_model import DecisionTokens, Deployment
from bot.pipelines.loading import BUILT_IN
from bot.render.change_links import change_label, change_link
from bot.render.deploy_blocks import (
    deployment_message,
    history_message,
    running_message,
    status_message,
)
from tests.unit.test_links import ATTACK

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHA = "3f9c2a1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b"
COMMIT = Change(ChangeKind.COMMIT, SHA, T0 - timedelta(days=1),
                f"https://github.com/acme/churn/commit/{SHA}")
MODEL = Change(ChangeKind.MODEL_VERSION, "7", T0, None, run_id="r1")


def _deployment(change: Change | None) -> Deployment:
    d = machine.request(use_case="churn", version="1.4.0", pipeline=BUILT_IN.pipelines["default"],
                        requested_by="U1", channel_id="C1", now=T0).deployment
    return replace(d, id=12, change=change)


@pytest.mark.parametrize(("change", "shown"), [
    (COMMIT, f"<https://github.com/acme/churn/commit/{SHA}|commit 3f9c2a1>"),
    (MODEL, "model v7"),
    (replace(MODEL, url="https://mlflow.example/#/models/churn/versions/7"),
     "<https://mlflow.example/#/models/churn/versions/7|model v7>"),
    (replace(COMMIT, ref="<!channel>", url=ATTACK), "commit &lt;!chann"),  # no link, no ping
    (None, ""),
])
def test_a_change_is_a_short_label_linked_where_it_safely_can_be(
        change: Change | None, shown: str) -> None:
    assert change_link(change) == shown


def test_the_label_alone_for_plain_text() -> None:
    assert (change_label(COMMIT), change_label(MODEL)) == ("commit 3f9c2a1", "model v7")


def _facts(message: dict[str, object]) -> str:
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    return str(blocks[1]["elements"][0]["text"])


def test_the_card_and_the_status_name_the_change_among_the_facts() -> None:
    d = _deployment(COMMIT)
    link = f"<https://github.com/acme/churn/commit/{SHA}|commit 3f9c2a1>"
    card = deployment_message(d, now=T0, tz="UTC", buttons=DecisionTokens()).as_args()
    assert _facts(card) == ("requested by <@U1> · pipeline `default` · started 2026-03-02 09:00 UTC"
                            f" · {link}")
    status = status_message(d, (), now=T0, tz="UTC").as_args()
    assert _facts(status) == _facts(card)
    unknown = deployment_message(_deployment(None), now=T0, tz="UTC", buttons=DecisionTokens())
    assert _facts(unknown.as_args()).endswith("started 2026-03-02 09:00 UTC")


def test_the_running_list_and_the_history_name_it_too() -> None:
    running = running_message([_deployment(MODEL), replace(_deployment(None), id=13)], [])
    assert running.as_args()["blocks"][1]["text"]["text"] == (
        "• Deployment 12: churn 1.4.0 (dry run) — running · model v7\n"
        "• Deployment 13: churn 1.4.0 (dry run) — running")
    history = history_message("churn", [_deployment(COMMIT), replace(_deployment(None), id=13)],
                              tz="UTC")
    lines = history.as_args()["blocks"][1]["text"]["text"].split("\n")
    assert lines[0].startswith(f"• *12* `1.4.0` · <https://github.com/acme/churn/commit/{SHA}|"
                               "commit 3f9c2a1> · ")
    assert lines[1].startswith("• *13* `1.4.0` · 🔄 Running · ")
