"""What `bizdevops shell --strict` counts as refused (bot/simulator/strict.py): the replies the
bot words as refusals or as its own failure, and a dialog sent back with errors; not warnings."""

from __future__ import annotations

from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.render import blocks
from bot.render.refusals import refusal as refused_words
from bot.simulator.fake_slack import RecordedCall
from bot.simulator.simulator import Step
from bot.simulator.strict import refusal


def test_every_kind_of_refusal_and_the_bots_own_failure_count() -> None:
    for said in (refused_words(NotAllowed("Only the owner may.")),
                 refused_words(Conflict("churn is locked.")),
                 refused_words(DomainError("Bad value."), "/usecase new <slug>"),
                 blocks.sorry()):
        first = said.blocks[0]["text"]["text"]
        assert refusal(Step(200, said.as_args())) == first  # in the acknowledgement
        assert refusal(Step(200, None, responses=[("t", said.as_args())])) == first  # later
        ephemeral = RecordedCall("chat.postEphemeral", {"channel": "C1", "user": "U1",
                                                        **said.as_args()}, 0.0, 200, {"ok": True})
        assert refusal(Step(200, None, calls=[ephemeral])) == first  # a button's answer


def test_a_dialog_sent_back_with_errors_counts() -> None:
    step = Step(200, {"response_action": "errors", "errors": {"title": "A title is needed."}})
    assert refusal(step) == "title: A title is needed."


def test_what_happened_is_not_a_refusal() -> None:
    warned = blocks.message("Done", [blocks.section("✅ Done"),
                                     blocks.section("⚠️ *Warning:* nobody in the Ops role")])
    assert refusal(Step(200, warned.as_args())) is None
    assert refusal(Step(200, blocks.notice("⚠️ Pulling auc failed: no table").as_args())) is None
    assert refusal(Step(200, None)) is None
