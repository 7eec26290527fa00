"""Dialogs (modals) as Slack receives them: the same JSON, whichever way they are built."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.views import View

from bot.domain import usecases
from bot.domain.executor_specs import DryRunSpec
from bot.domain.pipeline import ApprovalSpec, Pipeline, StageSpec
from bot.domain.usecase_results import CardButtons
from bot.domain.usecases import UseCase
from bot.render import dialog_views
from bot.render.deploy_blocks import reject_dialog
from bot.render.home_blocks import home_view
from bot.render.usecase_blocks import usecase_card

LABEL = "churn 1.2.0 · deploy <!channel> & co (deployment 12)"


def test_reject_dialog_is_the_modal_slack_knows() -> None:
    assert reject_dialog("deploy_reject_reason", "tok-123", LABEL) == {
        "type": "modal",
        "callback_id": "deploy_reject_reason",
        "private_metadata": "tok-123",
        "title": {"type": "plain_text", "text": "Reject deployment"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            {"type": "section", "text": {
                "type": "mrkdwn",
                "text": "Rejecting *churn 1.2.0 · deploy &lt;!channel&gt; &amp; co (deployment 12)* "
                        "ends the deployment."}},
            {"type": "input", "block_id": "reason",
             "label": {"type": "plain_text", "text": "Why?"},
             "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True,
                         "max_length": 500}},
        ],
    }


def test_a_long_label_is_clipped_before_it_is_escaped() -> None:
    section = reject_dialog("deploy_reject_reason", "t", "x" * 199 + "&" * 5)["blocks"][0]
    assert section["text"]["text"] == "Rejecting *" + "x" * 199 + "…* ends the deployment."


# ── the dialogs of use cases and deployments: valid for Slack, within its limits ───────────

def _uc(title: str = "Predict churn") -> UseCase:
    return usecases.create("churn", title, creator_id="UALICE", channel_id="CGENERAL",
                           now=datetime(2026, 1, 5, tzinfo=UTC), problem="p" * 2000, kpi="auc")


def _pipelines(count: int) -> list[Pipeline]:
    gate = ApprovalSpec(required=2, approvers=("UBOB", "@release-managers"))
    stage = StageSpec("prod-" + "x" * 80, DryRunSpec(), approval=gate)
    return [Pipeline(f"p{i:03d}-" + "n" * 90, (stage,)) for i in range(count)]


def assert_valid_for_slack(view: dict[str, Any]) -> None:
    View(**view).validate_json()  # slack_sdk's own model checks (lengths, required parts)
    assert len(view["blocks"]) <= 100
    assert len(view["title"]["text"]) <= 24 and len(view.get("private_metadata", "")) <= 3000
    for block in view["blocks"]:
        texts = [block.get("text") or {}] + list(block.get("elements") or [])
        assert all(len(t.get("text", "")) <= 3000 for t in texts if isinstance(t.get("text"), str))
        for option in (block.get("element") or {}).get("options") or []:
            assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150
        assert len((block.get("element") or {}).get("options") or []) <= 100


def test_the_new_use_case_dialog() -> None:
    view = dialog_views.new_usecase_dialog("UALICE", "CGENERAL")
    assert_valid_for_slack(view)
    assert view["callback_id"] == "usecase_new"
    by_id = {b["block_id"]: b for b in view["blocks"]}
    assert list(by_id) == ["slug", "title", "domain", "owner", "channel", "problem", "kpi",
                           "kpi_target"]
    assert by_id["owner"]["element"] == {"type": "users_select", "action_id": "owner",
                                         "initial_user": "UALICE"}
    assert by_id["channel"]["element"]["initial_conversation"] == "CGENERAL"
    assert by_id["problem"]["element"]["multiline"] is True
    assert [b for b, block in by_id.items() if block.get("optional")] == [
        "slug", "domain", "problem", "kpi", "kpi_target"]  # an empty slug: the title's
    from_home = dialog_views.new_usecase_dialog("UALICE", None)  # Home has no current channel
    assert_valid_for_slack(from_home)
    assert "initial_conversation" not in from_home["blocks"][4]["element"]


def test_the_move_dialogs() -> None:
    advance = dialog_views.move_dialog(_uc(), "churn:1", forward=True, to="Dev", channel="CGENERAL")
    back = dialog_views.move_dialog(_uc(), "churn:1", forward=False, to="Biz", channel="")
    for view in (advance, back):
        assert_valid_for_slack(view)
        assert json.loads(view["private_metadata"])["stamp"] == "churn:1"
    assert advance["blocks"][-1]["optional"] is True and "optional" not in back["blocks"][-1]
    assert (advance["callback_id"], back["callback_id"]) == ("usecase_advance_note",
                                                             "usecase_back_reason")


def test_the_deploy_dialog_with_many_versions_and_pipelines_stays_within_limits() -> None:
    versions = [f"1.{i}.0-" + "v" * 56 for i in range(150)]
    view = dialog_views.deploy_dialog(_uc("t" * 200), versions, _pipelines(120), "p005-" + "n" * 90,
                                 "CGENERAL")
    assert_valid_for_slack(view)
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    picked = by_id["recent_version"]["element"]
    assert len(picked["options"]) == 100 and picked["initial_option"]["value"] == versions[0]
    assert by_id["pipeline"]["element"]["initial_option"]["value"].startswith("p005-")
    gate = view["blocks"][-1]["elements"][0]["text"]
    assert "production stage" in gate and "gate: 2 approvals from <@UBOB> or @release-managers" in gate


def test_the_deploy_dialog_without_versions_asks_for_one() -> None:
    view = dialog_views.deploy_dialog(_uc(), [], _pipelines(1), "nope", "")
    assert_valid_for_slack(view)
    typed = next(b for b in view["blocks"] if b.get("block_id") == "version")
    assert "optional" not in typed  # nothing to pick: typing one is required
    assert not any(b.get("block_id") == "recent_version" for b in view["blocks"])


def test_the_card_carries_the_buttons_the_viewer_may_use() -> None:
    uc = _uc()
    card = usecase_card(uc, now=uc.created_at, timebox=timedelta(weeks=6), tz="UTC",
                        can=CardButtons(advance=True, deploy=True), kpi_target="≥ 0.83")
    [actions] = [b for b in card.blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("usecase_advance", "Advance", "churn:1"), ("usecase_deploy", "Deploy…", "churn")]
    text = json.dumps(card.blocks, ensure_ascii=False)
    assert "*Success KPI:* `auc` ≥ 0.83" in text and "*Business problem:*" in text
    assert all(len(b["text"]["text"]) <= 3000 for b in card.blocks if b["type"] == "section")
    bare = usecase_card(uc, now=uc.created_at, timebox=timedelta(weeks=6), tz="UTC")
    assert not [b for b in bare.blocks if b["type"] == "actions"]


def test_a_problem_full_of_ampersands_is_clipped_whole() -> None:
    uc = replace(_uc(), problem="&" * 2000)
    card = usecase_card(uc, now=uc.created_at, timebox=timedelta(weeks=6), tz="UTC")
    [problem] = [b for b in card.blocks if "Business problem" in b.get("text", {}).get("text", "")]
    shown = problem["text"]["text"]
    assert len(shown) <= 3000 and shown.endswith("&amp;…")


def test_the_home_tab_has_a_new_use_case_button_and_each_use_cases_next_step() -> None:
    uc = _uc()
    view = home_view("UBOB", [uc], now=uc.created_at, timebox=timedelta(weeks=6))
    assert view["blocks"][0]["elements"][0]["action_id"] == "home_usecase_new"
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "next: frame the problem and its KPI, then advance to Dev (owner <@UALICE>)" in text


# ── any content: the property tests ──────────────────────────────────────────────────────────

_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
_VERSION = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", fullmatch=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_ANY_TEXT, problem=_ANY_TEXT, versions=st.lists(_VERSION, max_size=130),
       pipelines=st.integers(min_value=1, max_value=120), forward=st.booleans())
def test_every_dialog_is_valid_for_slack_whatever_it_holds(
        title: str, problem: str, versions: list[str], pipelines: int, forward: bool) -> None:
    uc = replace(_uc(), title=title.strip() or "t", problem=problem)
    assert_valid_for_slack(dialog_views.deploy_dialog(uc, versions, _pipelines(pipelines), "p000",
                                                 "CGENERAL"))
    assert_valid_for_slack(dialog_views.move_dialog(uc, "churn:3", forward=forward, to="Dev",
                                               channel="CGENERAL"))
    assert_valid_for_slack(dialog_views.new_usecase_dialog("UALICE", None))
