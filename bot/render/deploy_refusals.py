"""The refusals of a running deployment — a gate's votes, its buttons, a step that moved on —
in words (``bot.domain.gates``, ``deployment_machine``, ``undo``, ``services/approvals``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.render.production_words import approvers_words

if TYPE_CHECKING:  # bot/render/refusals.py merges this table: no import back at run time
    from bot.render.refusals import Words


def _approvers(facts: dict[str, Any], *, nobody: str = "") -> str:
    """Who may decide the gate besides its requester; ``nobody``: said when that is no one."""
    approvers = facts["approvers"]
    if approvers is None:
        return "nobody (this stage has no gate)"
    return approvers_words(approvers) or nobody


def _own_deployment(facts: dict[str, Any]) -> str:
    who = _approvers(facts)
    ask = f"ask {who}" if who else (
        f"nobody else may approve it, so cancel it with `/deploy cancel {facts['deployment']}`")
    return f"You requested deployment {facts['deployment']}, so you cannot approve it; {ask}."


def _only(action: str, nobody: str = "") -> Words:
    return lambda f: (f"Only {_approvers(f, nobody=nobody)} may {action} {f['stage']} of "
                      f"deployment {f['deployment']}.")


REFUSALS: dict[str, Words] = {
    # a gate's votes
    "already_voted": "You already approved {stage} of deployment {deployment}; one vote per person.",
    "own_deployment": _own_deployment,
    "may_not_approve": _only("approve"),
    "may_not_reject": _only("reject", "its approvers"),
    "may_not_reject_yet": _only("reject"),  # before the reason dialog opens
    "reason_required": "A rejection needs a reason.",
    "gate_expired": "The approval for {stage} of deployment {deployment} has expired.",
    "too_many_clicks": "Too many people clicked at once; please try again.",
    # a button that is no longer current
    "button_unknown": "This button is not known to me; use the newest deployment message.",
    "button_orphaned": "This button belongs to a deployment that no longer exists.",
    "button_ended": "Deployment {deployment} has already ended ({state.value}); "
                    "this button does nothing now.",
    # the deployment moved on
    "deployment_ended": "Deployment {deployment} has already ended ({state.value}).",
    "no_such_stage": "Deployment {deployment} has no stage {index}.",
    "stage_moved_on": lambda f: (f"Stage {f['stage']} of deployment {f['deployment']} is no "
                                 f"longer {f['expected'].value.replace('_', ' ')}."),
    # the engine's own races: logged, not said to anyone
    "nothing_to_launch": "nothing to launch",
    "result_not_awaited": "stage {stage} of deployment {deployment} is not waiting for that result",
    "nothing_running": "nothing is running",
    "not_timed_out": "not timed out yet",
    "not_the_running_step": "not the step that is running",
    "nothing_to_hold": "nothing to hold",
    "no_gate_waiting": "no gate is waiting",
    "gate_not_expired": "the gate has not expired",
    "gate_expired_already": "the gate has expired",
    "approvers_told_already": "the approvers were told already",
    "no_reminder_due": "no reminder is due",
    "nothing_to_undo_now": "deployment {deployment} has nothing to take back now",
    "stage_has_no_undo": "stage {stage} of deployment {deployment} has nothing to take back",
}
