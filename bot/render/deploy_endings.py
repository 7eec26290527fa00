"""The end of a deployment, announced once in the channel: how, where and why it stopped, what
runs where now, and who must act when production is left in a mix (``bot.domain.endings``)."""

from __future__ import annotations

from bot.domain.deployment_model import Deployment, DeploymentState, StageState
from bot.domain.endings import Ending, NotRolledBack, changed_production
from bot.domain.production import named
from bot.render.blocks import Message, clip, message, section
from bot.render.dashboard_links import dashboard_context
from bot.render.deploy_blocks import STAGE_ICONS, STATE_LABELS, title
from bot.render.deploy_stop_words import kept_stop
from bot.render.mrkdwn import escape
from bot.render.production_words import placement_words

_NOT_ROLLED_BACK = {
    NotRolledBack.HALT: "Nothing was rolled back: the stage halts on failure "
                        '(`on_failure = "halt"`). Roll back with `/deploy rollback {slug}`, '
                        "or deploy a fix",
    NotRolledBack.NO_EARLIER_VERSION: "Nothing was rolled back: there is no earlier successful "
                                      "version to go back to. Deploy a fix",
    NotRolledBack.NOT_A_ROLLOUT: "Its run stopped half-way: check what production runs, then "
                                 "roll back with `/deploy rollback {slug}` or deploy a fix",
}


def finished_announcement(d: Deployment, ending: Ending, page: str = "") -> Message:
    """The end, said once in the channel (the message above is edited in place; this is the
    post people see): how, where and why it stopped, what runs where now, and the people who
    must act when production is left in a mix."""
    stopped = next((s for s in d.stages if s.state.is_done and s.state not in
                    (StageState.PASSED, StageState.SKIPPED)), None)
    icon, label = (STAGE_ICONS[stopped.state], stopped.state.value.replace("_", " ").capitalize()) \
        if stopped is not None and d.state is DeploymentState.FAILED \
        else STATE_LABELS[d.state].split(" ", 1)
    where = f" at *{stopped.name}*" if stopped is not None else ""
    kind = "rollback" if d.kind == "rollback" else "deployment"
    why = f" — {clip(kept_stop(d.detail), 1000)}" if d.detail else ""
    sentences = [f"{label}: {kind} {d.id} of *{d.use_case}* `{escape(d.version)}`{where}"
                 + (" (dry run, nothing was deployed)" if d.dry_run else "") + why]
    if changed_production(d):
        trouble = d.state is not DeploymentState.SUCCEEDED
        what = placement_words(d.production, name_targets=trouble)
        sentences.append(f"Targets now: {what}" if named(d.production) else
                         f"Production now runs {what}")
    if ending.rollback_id is not None:
        sentences.append(f"Rolling back to `{escape(ending.rollback_version or '')}` "
                         f"(rollback {ending.rollback_id})")
    if ending.not_rolled_back is not None:
        sentences.append(_NOT_ROLLED_BACK[ending.not_rolled_back].format(slug=d.use_case))
    if ending.locked:
        sentences.append(f"🔒 *{d.use_case}* is locked: nothing deploys until someone has checked "
                         f"the targets and runs `/deploy unlock {d.use_case}`")
    text = ". ".join(sentences) + "."
    if people := ending.mentions(d):  # the icon says how urgent; the names, who acts
        text = f"{'🆘' if ending.locked else '⚠️'} {' '.join(f'<@{p}>' for p in people)} — {text}"
    else:
        text = f"{icon} {text}"
    return message(f"{title(d)}: {d.state.value}", [section(text), *dashboard_context(page)])
