"""Freezes' refusals in words (merged into bot/render/refusals.py): a `/deploy` inside a freeze
window, an unfreeze with nothing to lift, what only admins may do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.render import freeze_blocks

if TYPE_CHECKING:  # bot/render/refusals.py imports this table
    from bot.render.refusals import Words

# What only admins may do (``act``), as "Only admins may {it}." says it.
ADMINS_ONLY = {
    "freeze": "freeze deployments",
    "unfreeze": "lift a freeze",
    "override": "override a freeze window",
}

REFUSALS: dict[str, Words] = {
    "freeze_admins_only": lambda f: f"Only admins may {ADMINS_ONLY[f['act']]}.",
    "deploys_frozen": lambda f: (
        f"Deployments of `{f['slug']}` are frozen: {freeze_blocks.describe(f['chain'], f['tz'])}. "
        'An admin may pass it on purpose with `override="<reason>"`.'),
    "no_freeze_to_lift": lambda f: (
        f"No freeze of {freeze_blocks.scope_name(f['slug'])} to lift (from the pipeline file, a "
        'window can only be passed with `override="<reason>"`).'),
}
