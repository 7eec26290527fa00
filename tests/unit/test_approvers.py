"""Who may decide a gate, who is asked, and the gates nobody but the requester could pass."""

from __future__ import annotations

from bot.domain import usecases
from bot.domain.approvers import dead_end, groups_named, of_gate
from bot.domain.executor_specs import DryRunSpec
from bot.domain.pipeline import ApprovalSpec, StageSpec
from bot.render.deploy_words import dead_end as dead_end_words
from bot.render.production_words import approvers_words
from tests.unit.test_production import NOW

DRY = DryRunSpec()
DEFAULT = ApprovalSpec()
ADMINS = frozenset({"UADA", "UALI"})


def gate(*, required: int = 1, approvers: tuple[str, ...] = (),
         allow_self: bool = False) -> tuple[StageSpec, ...]:
    approval = ApprovalSpec(required, approvers, allow_self)
    return (StageSpec("build", DRY), StageSpec("deploy", DRY, approval=approval))


def test_by_default_the_owner_and_the_admins_decide_and_the_requester_is_left_out() -> None:
    everyone = of_gate(DEFAULT, "UOWN", ADMINS)
    assert everyone.includes("UOWN") and everyone.includes("UADA") and not everyone.includes("UX")
    others = of_gate(DEFAULT, "UOWN", ADMINS, requester="UADA")
    assert not others.includes("UADA") and others.people({}) == ("UOWN", "UALI")
    assert approvers_words(others) == "the owner <@UOWN> or an admin (<@UALI>)"
    mine = of_gate(DEFAULT, "UOWN", ADMINS, requester="UOWN")
    assert approvers_words(mine) == "an admin (<@UADA>, <@UALI>)"
    self_ok = of_gate(ApprovalSpec(allow_self=True), "UOWN", ADMINS, requester="UOWN")
    assert self_ok.includes("UOWN")


def test_an_owner_who_is_an_admin_is_named_once() -> None:
    assert approvers_words(of_gate(DEFAULT, "UADA", ADMINS)) == \
        "the owner <@UADA> or another admin (<@UALI>)"
    assert approvers_words(of_gate(DEFAULT, "UADA", frozenset({"UADA"}))) == \
        "the owner <@UADA> (the only admin)"


def test_named_approvers_and_groups() -> None:
    named = ApprovalSpec(approvers=("UDAV", "@release", "SGRP"))
    found = of_gate(named, "UOWN", ADMINS, requester="UDAV")
    assert found.users == () and found.groups == ("@release", "SGRP")
    members = {"@release": frozenset({"UFRA", "UDAV"}), "SGRP": frozenset({"UGIL"})}
    assert found.people(members) == ("UFRA", "UGIL")  # the requester is no member here
    assert found.includes("UFRA", frozenset({"@release"})) and not found.includes("UOWN")
    assert approvers_words(of_gate(named, "UOWN", ADMINS)) == \
        "<@UDAV>, @release or <!subteam^SGRP>"
    assert groups_named(gate(approvers=("@release", "UDAV"))) == ("@release",)


def test_a_dead_end_is_a_gate_fewer_others_could_pass_than_it_needs() -> None:
    solo = dead_end(gate(), owner_id="UOWN", admins=frozenset({"UOWN"}), requester="UOWN",
                    members={})
    assert solo is not None and solo.stage == "deploy" and solo.others == ()
    assert solo.requester_may_approve
    assert dead_end(gate(), owner_id="UOWN", admins=ADMINS, requester="UOWN", members={}) is None
    assert dead_end(gate(allow_self=True), owner_id="UOWN", admins=frozenset({"UOWN"}),
                    requester="UOWN", members={}) is None
    two = dead_end(gate(required=2), owner_id="UOWN", admins=frozenset({"UADA"}),
                   requester="UOWN", members={})
    assert two is not None and two.others == ("UADA",)
    group = dead_end(gate(approvers=("@oncall",)), owner_id="UOWN", admins=ADMINS,
                     requester="UERI", members={"@oncall": frozenset({"UERI"})})
    assert group is not None and group.requester_may_approve
    assert dead_end(gate(approvers=("@oncall",)), owner_id="UOWN", admins=ADMINS, requester="UERI",
                    members={"@oncall": frozenset({"UERI", "UFRA"})}) is None


def test_the_dead_end_says_what_would_unblock_it_and_never_to_ask_oneself() -> None:
    uc = usecases.create("churn", "Churn", creator_id="UOWN", channel_id="C1", now=NOW)
    solo = dead_end(gate(), owner_id="UOWN", admins=frozenset({"UOWN"}), requester="UOWN",
                    members={})
    assert solo is not None
    words = dead_end_words(solo, uc, "default", admins_configured=True)
    assert words.startswith("Not started: *deploy* needs 1 approval from the owner <@UOWN> "
                            "(the only admin); you are the only one who could give it")
    assert "add another admin to `BIZDEVOPS_ADMINS`" in words
    assert "name its `approvers` in the pipeline file (`default`, stage `deploy`)" in words
    assert "have someone else start it" in words and "ask <@UOWN>" not in words
    unset = dead_end_words(solo, uc, "default", admins_configured=False)
    assert "set `BIZDEVOPS_ADMINS`" in unset
    two = dead_end(gate(required=2), owner_id="UOWN", admins=frozenset({"UADA"}),
                   requester="UOWN", members={})
    assert two is not None
    assert "only <@UADA> could give one besides you" in dead_end_words(two, uc, "p", True)
