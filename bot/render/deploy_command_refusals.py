"""The `/deploy` commands' refusals in words (merged into bot/render/refusals.py): who may
deploy, what keeps a deployment from starting (archived, locked, one still active, a gate
nobody else could pass), unknown pipelines and deployments, and the races a command can lose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.domain.pipeline import ROLES
from bot.render.deploy_words import dead_end, lock_line, lock_words
from bot.render.mrkdwn import escape

if TYPE_CHECKING:  # bot/render/refusals.py merges this table
    from bot.render.refusals import Words

# What an actor was refused, as "Only … may <action> `slug`." says it.
_ACTIONS = {"deploy": "deploy", "cancel": "cancel deployments of", "lock": "lock",
            "unlock": "unlock"}


def deployers(owner: str, team: Sequence[str]) -> str:
    """Who may deploy a use case (its pipeline naming nobody in `allowed`): its owner, the
    team's deployers (``team``: their user IDs) or an admin."""
    extra = f" ({', '.join(f'<@{m}>' for m in team)})" if team else ""
    return f"the owner <@{owner}>, the team's data engineers and devops engineers{extra} or an admin"


def starters(allowed: Sequence[str]) -> str:
    """Who a pipeline's ``allowed`` lets start it: "admins, the team's devops engineers or @rm"."""
    words = [f"the team's {ROLES[a]}" if a in ROLES else
             f"<@{a}>" if a[0] in "UW" else f"<!subteam^{a}>" if a[0] == "S" else a
             for a in allowed]
    return ", ".join(["admins", *words[:-1]]) + f" or {words[-1]}" if words else "admins"


def _still_active(f: dict[str, Any]) -> str:
    at = f" at stage *{f['stage']}*" if f["stage"] else ""
    return (f"Deployment {f['deployment_id']} of `{f['slug']}` (`{f['version']}`, requested by "
            f"<@{f['requested_by']}>) is still {f['state'].value.replace('_', ' ')}{at}. "
            f"Wait for it or cancel it with `/deploy cancel {f['deployment_id']}`.")


REFUSALS: dict[str, Words] = {
    "deployers_only": lambda f: (f"Only {deployers(f['owner'], f['team'])} may "
                                 f"{_ACTIONS[f['doing']]} `{f['slug']}`."),
    "pipeline_starters_only": lambda f: (f"Only {starters(f['allowed'])} may start the "
                                         f"`{f['pipeline']}` pipeline of `{f['slug']}`."),
    "gate_dead_end": lambda f: dead_end(f["found"], f["slug"], f["pipeline"],
                                        f["admins_configured"]),
    "unknown_pipeline": lambda f: (f"There is no pipeline `{escape(f['name'])}`; known: "
                                   + ", ".join(f"`{p}`" for p in f["known"]) + "."),
    "archived_not_deployable": "`{slug}` is archived; it cannot be deployed.",
    "deploy_raced": "Another deployment of `{slug}` started just now; see `/deploy status {slug}`.",
    "deploys_locked": lambda f: (f"🔒 `{f['slug']}` is {lock_words(f['lock'], f['tz'])}. "
                                 f"Unlock it with `/deploy unlock {f['slug']}`."),
    "deployment_still_active": _still_active,
    "no_such_deployment": "There is no deployment {deployment_id}.",
    "cancel_outraced": "Deployment {deployment_id} is changing right now; cancel it again in a moment.",
    "no_rollback_version": ("`{slug}` has no earlier version that succeeded in production with its "
                            "`{pipeline}` pipeline to roll back to."),
    "already_locked": lambda f: (f"`{f['slug']}` is already locked. "
                                 f"{lock_line(f['lock'], f['now'], f['tz'])}"),
    "lock_raced": "`{slug}` was locked by someone else just now.",
    "not_locked": "`{slug}` is not locked.",
    # `/deploy changes`
    "changes_nothing_in_production": ("Nothing of `{slug}` runs in production yet, so there is "
                                      "nothing to compare with; deploy it first "
                                      "(`/deploy {slug} <version>`)."),
    "changes_no_repository": ("Production's commit `{commit}` of `{slug}` names no GitHub "
                              "repository the bot can compare in (its production stage is not "
                              "`github-actions`, and the commit's link is not a GitHub page)."),
    "changes_github_not_configured": ("The bot has no GitHub token, so it cannot ask GitHub what "
                                      "changed in `{slug}`; an operator sets "
                                      "`BIZDEVOPS_GITHUB_TOKEN` (contents: read)."),
    "changes_github_unreachable": lambda f: (
        f"GitHub could not compare the commits of `{escape(f['repo'])}` for `{f['slug']}`: "
        f"{escape(f['problem'])}. Try again in a moment; if it persists, check that "
        f"`BIZDEVOPS_GITHUB_TOKEN` may read `{escape(f['repo'])}` (contents: read) and that "
        f"`BIZDEVOPS_GITHUB_API_URL` is right."),
    "changes_mlflow_not_configured": ("The bot is not connected to MLflow, so it cannot list the "
                                      "model versions of `{slug}`; an operator sets "
                                      "`BIZDEVOPS_MLFLOW_URL`."),
    "changes_mlflow_unreachable": lambda f: (
        f"MLflow could not list the versions of `{escape(f['model'])}` for `{f['slug']}`: "
        f"{escape(f['problem'])}. Try again in a moment; if it persists, check "
        f"`BIZDEVOPS_MLFLOW_URL` and `BIZDEVOPS_MLFLOW_TOKEN`."),
}
