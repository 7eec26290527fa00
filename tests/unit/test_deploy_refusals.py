"""The words of a running deployment's refusals (bot/render/deploy_refusals.py): the facts a
gate, a button or the state machine refuse with, said as before they moved out of the domain."""

from __future__ import annotations

import pytest

from bot.domain.approvers import Approvers
from bot.domain.deployment_model import DeploymentState, StageState
from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.render.refusals import REFUSALS, said

OWNER_OR_ADMIN = Approvers(owner="U_OWNER", admins=("U_ADMIN",), by_default=True, excluded="U_REQ")
NOBODY_ELSE = Approvers(users=(), excluded="U_REQ")


@pytest.mark.parametrize(("refused", "words"), [
    (Conflict("already_voted", stage="prod", deployment=7),
     "You already approved prod of deployment 7; one vote per person."),
    (NotAllowed("own_deployment", deployment=7, approvers=OWNER_OR_ADMIN),
     "You requested deployment 7, so you cannot approve it; ask the owner <@U_OWNER> or an admin "
     "(<@U_ADMIN>)."),
    (NotAllowed("own_deployment", deployment=7, approvers=NOBODY_ELSE),
     "You requested deployment 7, so you cannot approve it; nobody else may approve it, so cancel "
     "it with `/deploy cancel 7`."),
    (NotAllowed("may_not_approve", stage="prod", deployment=7, approvers=OWNER_OR_ADMIN),
     "Only the owner <@U_OWNER> or an admin (<@U_ADMIN>) may approve prod of deployment 7."),
    (NotAllowed("may_not_reject", stage="prod", deployment=7, approvers=NOBODY_ELSE),
     "Only its approvers may reject prod of deployment 7."),
    (NotAllowed("may_not_reject_yet", stage="prod", deployment=7, approvers=None),
     "Only nobody (this stage has no gate) may reject prod of deployment 7."),
    (DomainError("reason_required"), "A rejection needs a reason."),
    (Conflict("button_ended", deployment=7, state=DeploymentState.CANCELLED),
     "Deployment 7 has already ended (cancelled); this button does nothing now."),
    (Conflict("deployment_ended", deployment=7, state=DeploymentState.SUCCEEDED),
     "Deployment 7 has already ended (succeeded)."),
    (Conflict("stage_moved_on", stage="prod", deployment=7, expected=StageState.AWAITING_APPROVAL),
     "Stage prod of deployment 7 is no longer awaiting approval."),
])
def test_each_refusal_says_its_facts(refused: DomainError, words: str) -> None:
    assert said(refused) == words


def test_keys_are_names_not_words() -> None:
    assert all(" " not in key for key in REFUSALS)  # a key with spaces would read as words
