"""Dialogs (modals) as Slack receives them: the same JSON, whichever way they are built."""

from __future__ import annotations

from bot.render.deploy_blocks import reject_dialog

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
