"""The use cases' refusals in words (bot/render/usecase_refusals.py): each key with its facts
reads as the sentence people have always been given."""

from __future__ import annotations

import pytest

from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.domain.usecases import Phase, Role
from bot.render import usecase_refusals
from bot.render.refusals import said

CASES = [
    (DomainError("invalid_slug", slug="a<b"),
     "`a&lt;b` is not a valid slug: use 2–40 lowercase letters, digits and dashes, starting with "
     "a letter or digit (e.g. `churn-model`)."),
    (DomainError("title_required"), "A title is required, e.g. `\"Predict customer churn\"`."),
    (DomainError("title_too_long", length=201, limit=200),
     "The title is 201 characters long; at most 200 are allowed."),
    (DomainError("domain_too_long", length=201, limit=200),
     "The domain is 201 characters long; at most 200 are allowed."),
    (DomainError("problem_too_long", length=2001, limit=2000),
     "The business problem is 2001 characters long; at most 2000 are allowed."),
    (NotAllowed("not_owner", owner="U1", change="link_model", slug="churn"),
     "Only the owner <@U1> or an admin may link a model to `churn`."),
    (DomainError("cannot_advance", slug="churn", phase=Phase.CONTINUOUS),
     "`churn` is in Continuous, the last phase; it cannot advance further."),
    (DomainError("cannot_advance", slug="churn", phase=Phase.ARCHIVED),
     "`churn` is archived; it cannot advance further."),
    (DomainError("cannot_go_back", slug="churn", phase=Phase.BIZ),
     "`churn` is in Biz; only Dev → Biz and Ops → Dev can go back."),
    (DomainError("back_needs_reason"), "Going back needs a reason, so the business knows why."),
    (DomainError("already_archived", slug="churn"), "`churn` is already archived."),
    (DomainError("archive_needs_reason"), "Archiving needs a reason."),
    (DomainError("archived_unchangeable", slug="churn"),
     "`churn` is archived; it can no longer be changed."),
    (DomainError("already_owner", user="U1", slug="churn"), "<@U1> already owns `churn`."),
    (DomainError("invalid_model", model="<" * 100),
     f"`{'&lt;' * 80}` is not a registered model's name: letters, digits, `.`, `_` and `-`, at "
     "most 128 characters."),
    (DomainError("model_already_linked", slug="churn", model="m"),
     "`churn` is linked to the model `m` already."),
    (DomainError("already_member", user="U1", slug="churn", role=Role.DATA_ENGINEER),
     "<@U1> is already on `churn` as data-engineer."),
    (DomainError("not_member", user="U9", slug="churn"), "<@U9> is not on the team of `churn`."),
    (DomainError("usecase_changed_meanwhile"),
     "Somebody changed the same use case at this very moment; look again and retry."),
    (DomainError("slug_taken", slug="churn"),
     "A use case `churn` exists already; pick another slug."),
    (DomainError("channel_unseen", channel="C1"),
     "I can't see <#C1>: it is private and I am not in it. Invite me there first "
     "(`/invite @bizdevops`), or pick another channel with `channel=#…`."),
    (NotAllowed("private_channel_not_member", channel="C1"),
     "<#C1> is private and you are not in it: a use case can be homed only in a private channel "
     "you are in."),
    (DomainError("unknown_slack_user", name="nobody"), "I can't find a Slack user called @nobody."),
    (DomainError("unknown_slack_channel", name="nowhere"), "I can't find a channel called #nowhere."),
    (DomainError("usecase_button_not_mine"), "This button is not one I made; nothing was changed."),
    (Conflict("usecase_card_out_of_date", slug="churn", phase=Phase.OPS),
     "This card is out of date: *churn* has moved on since (it is now in Ops). Nothing was "
     "changed; `/usecase show churn` shows where it is."),
    (DomainError("unknown_use_case", slug="chrun", closest="churn"),
     "There is no use case `chrun`. Did you mean `churn`?"),
    (DomainError("unknown_use_case", slug="<x>", closest=None),
     "There is no use case `&lt;x&gt;`. See `/usecase list`."),
    (DomainError("invalid_token_name", name="Bad"),
     "'Bad' is not a valid token name: use lowercase letters, digits and ._- (e.g. ci-pipeline)"),
    (Conflict("token_taken", name="ci"), "a token named 'ci' exists (or existed); pick another name"),
    (Conflict("no_live_token", name="ci"), "there is no live token named 'ci'"),
    (DomainError("unknown_token_scope", scope="deploy", known=("metrics:write", "audit:read")),
     "'deploy' is not a token scope; the scopes are metrics:write, audit:read"),
]


@pytest.mark.parametrize(("refused", "words"), CASES, ids=[c[0].key for c in CASES])
def test_each_refusal_reads_as_before(refused: DomainError, words: str) -> None:
    assert said(refused) == words


def test_every_key_is_worded_here_and_merged() -> None:
    assert {c[0].key for c in CASES} == set(usecase_refusals.REFUSALS)


@pytest.mark.parametrize("change", sorted(usecase_refusals.CHANGES))
def test_every_change_the_owner_may_make_has_words(change: str) -> None:
    assert said(NotAllowed("not_owner", owner="U1", change=change, slug="s")).startswith(
        "Only the owner <@U1> or an admin may ")
