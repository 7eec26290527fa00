"""Refusals in words (bot/render/refusals.py) and the handlers' one way to say them: an admin
could have done it and none is configured — the answer says how to name some, once, whichever
rule refused it and wherever it was asked."""

from __future__ import annotations

import pytest

from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.render.refusals import NO_ADMINS_HINT, refusal, words
from bot.services.commands import Actor
from handlers.error_path import outcome, refuser
from handlers.grammar.parsing import UsageError
from handlers.slash_commands import answer

OWNERS_ONLY = NotAllowed("not_owner", owner="U1", change="advance", slug="churn", admins_may=True)


def test_a_refusal_with_facts_reads_as_a_sentence() -> None:
    assert words(OWNERS_ONLY).startswith("Only the owner <@U1> or an admin may ")
    assert words(OWNERS_ONLY, admins_configured=False) == words(OWNERS_ONLY) + NO_ADMINS_HINT


def test_the_hint_is_only_for_what_an_admin_could_have_done() -> None:
    own = NotAllowed("You requested deployment 1, so you cannot approve it.")
    assert words(own, admins_configured=False) == "You requested deployment 1, so you cannot approve it."
    assert words(Conflict("Busy."), admins_configured=False) == "Busy."


@pytest.mark.parametrize(("refused", "icon"), [
    (OWNERS_ONLY, "🚫"), (Conflict("churn is locked."), "✋"), (DomainError("Bad value."), "⚠️"),
])
def test_each_kind_of_refusal_has_its_own_look(refused: DomainError, icon: str) -> None:
    said = refusal(refused, "/usecase advance <slug>")
    assert said.blocks[0]["text"]["text"].startswith(f"{icon} ")
    assert ("Usage:" in said.text) is (icon == "⚠️")


async def test_a_command_refused_where_no_admins_are_configured_says_how_to_name_them() -> None:
    async def refuse(_command: str, _actor: Actor) -> None:
        raise OWNERS_ONLY

    for admins, hinted in ((frozenset(), True), (frozenset({"U9"}), False)):
        said = await answer("advance churn", Actor("U2", "C1"), str, refuse,  # type: ignore[arg-type]
                            title="/usecase", help_lines=(), usage={}, admins=admins)
        assert ("No admins are configured" in said.text) is hinted  # type: ignore[union-attr]


async def test_work_after_the_ack_is_refused_the_same_way() -> None:
    async def work() -> None:
        raise OWNERS_ONLY

    said = await outcome(work(), "button", "U2", refuser(frozenset()))
    assert said is not None and said.text.endswith(NO_ADMINS_HINT)

    async def typo() -> None:
        raise UsageError("Say a version.", "/deploy <slug> <version>")

    bad = await outcome(typo(), "dialog", "U2", refuser(frozenset()))
    assert bad is not None and bad.text == "Say a version. Usage: /deploy <slug> <version>"
