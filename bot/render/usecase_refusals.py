"""The use cases' refusals in words (merged into bot/render/refusals.py): `/usecase`, its card
buttons and dialogs, the slug lookup every command makes, and API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.domain.usecases import Phase
from bot.render.mrkdwn import escape

if TYPE_CHECKING:  # bot/render/refusals.py imports this table
    from bot.render.refusals import Words

# What the owner (or an admin) was asked to do, as "Only … may {it} `slug`." says it.
CHANGES = {
    "advance": "advance",
    "back": "move back",
    "archive": "archive",
    "hand_over": "hand over",
    "link_model": "link a model to",
    "change_team": "change the team of",
}


def _cannot_advance(f: dict[str, Any]) -> str:
    where = "archived" if f["phase"] is Phase.ARCHIVED else "in Continuous, the last phase"
    return f"`{f['slug']}` is {where}; it cannot advance further."


def _unknown_use_case(f: dict[str, Any]) -> str:
    hint = f" Did you mean `{f['closest']}`?" if f["closest"] else " See `/usecase list`."
    return f"There is no use case `{escape(f['slug'])}`.{hint}"


REFUSALS: dict[str, Words] = {
    # the lifecycle (bot/domain/usecases.py)
    "invalid_slug": lambda f: (
        f"`{escape(f['slug'])}` is not a valid slug: use 2–40 lowercase letters, digits and "
        "dashes, starting with a letter or digit (e.g. `churn-model`)."),
    "title_required": "A title is required, e.g. `\"Predict customer churn\"`.",
    "title_too_long": "The title is {length} characters long; at most {limit} are allowed.",
    "domain_too_long": "The domain is {length} characters long; at most {limit} are allowed.",
    "problem_too_long": "The business problem is {length} characters long; at most {limit} are "
                        "allowed.",
    "not_owner": lambda f: (f"Only the owner <@{f['owner']}> or an admin may "
                            f"{CHANGES[f['change']]} `{f['slug']}`."),
    "cannot_advance": _cannot_advance,
    "cannot_go_back": lambda f: (f"`{f['slug']}` is in {f['phase'].label}; only Dev → Biz and "
                                 "Ops → Dev can go back."),
    "back_needs_reason": "Going back needs a reason, so the business knows why.",
    "already_archived": "`{slug}` is already archived.",
    "archive_needs_reason": "Archiving needs a reason.",
    "archived_unchangeable": "`{slug}` is archived; it can no longer be changed.",
    "already_owner": "<@{user}> already owns `{slug}`.",
    "invalid_model": lambda f: (
        f"`{escape(f['model'][:80])}` is not a registered model's name: letters, digits, `.`, "
        "`_` and `-`, at most 128 characters."),
    "model_already_linked": "`{slug}` is linked to the model `{model}` already.",
    "already_member": lambda f: f"<@{f['user']}> is already on `{f['slug']}` as {f['role'].value}.",
    "not_member": "<@{user}> is not on the team of `{slug}`.",
    # `/usecase` and its cards (bot/services/usecases.py)
    "usecase_changed_meanwhile": "Somebody changed the same use case at this very moment; look "
                                 "again and retry.",
    "slug_taken": "A use case `{slug}` exists already; pick another slug.",
    "channel_unseen": "I can't see <#{channel}>: it is private and I am not in it. Invite me "
                      "there first (`/invite @bizdevops`), or pick another channel with "
                      "`channel=#…`.",
    "private_channel_not_member": "<#{channel}> is private and you are not in it: a use case "
                                  "can be homed only in a private channel you are in.",
    "unknown_slack_user": "I can't find a Slack user called @{name}.",
    "unknown_slack_channel": "I can't find a channel called #{name}.",
    "usecase_button_not_mine": "This button is not one I made; nothing was changed.",
    "usecase_card_out_of_date": lambda f: (
        f"This card is out of date: *{f['slug']}* has moved on since (it is now in "
        f"{f['phase'].label}). Nothing was changed; `/usecase show {f['slug']}` shows where it is."),
    # a slug nobody may see (bot/services/use_case_lookup.py)
    "unknown_use_case": _unknown_use_case,
    # API tokens (bot/services/tokens.py)
    "invalid_token_name": lambda f: (f"{f['name']!r} is not a valid token name: use lowercase "
                                     "letters, digits and ._- (e.g. ci-pipeline)"),
    "token_taken": lambda f: f"a token named {f['name']!r} exists (or existed); pick another name",
    "no_live_token": lambda f: f"there is no live token named {f['name']!r}",
    "unknown_token_scope": lambda f: (f"{f['scope']!r} is not a token scope; the scopes are "
                                      + ", ".join(f["known"])),
}
