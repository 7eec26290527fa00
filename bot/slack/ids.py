"""The ids Slack sends back when someone presses a button or submits a dialog.

Renderers put them on the wire and listeners match on them; both import them from here, so
grepping a name finds the button and the code that handles it. The values are what Slack has
on messages already posted: changing one strands the buttons on those messages.
"""

from __future__ import annotations

# action_id of the buttons on a deployment's message and on the Home tab
DEPLOY_APPROVE = "deploy_approve"
DEPLOY_REJECT = "deploy_reject"  # opens the REJECT_DIALOG
DEPLOY_CANCEL = "deploy_cancel"

# callback_id of the dialog that asks why a deployment is rejected
REJECT_DIALOG = "deploy_reject_reason"
# block_id and action_id of its one input (handlers.grammar.parsing.input_value wants them equal)
REJECT_REASON = "reason"

# action_id of "Deploy vN" on a new model version's announcement and on /deploy <slug>'s list;
# its value is "<slug>:<version>", and a click runs `/deploy <slug> <version>` as the clicker
DEPLOY_VERSION = "deploy_version"

# callback_id of the "New use case" dialog (/usecase new without arguments, Home's button)
USECASE_NEW = "usecase_new"
# action_id of Home's "New use case" button
HOME_NEW_USECASE = "home_usecase_new"
# block_id = action_id of the dialog's inputs (handlers.grammar.parsing.field_values reads them)
NEW_SLUG = "slug"
NEW_TITLE = "title"
NEW_DOMAIN = "domain"
NEW_OWNER = "owner"
NEW_CHANNEL = "channel"
NEW_PROBLEM = "problem"
NEW_KPI = "kpi"
NEW_KPI_TARGET = "kpi_target"

# action_id of the buttons on a use case's card (/usecase show); value "<slug>:<changes>", the
# number of phase changes the card saw: a click on an older card changes nothing
USECASE_ADVANCE = "usecase_advance"  # opens ADVANCE_DIALOG
USECASE_BACK = "usecase_back"  # opens BACK_DIALOG
USECASE_DEPLOY = "usecase_deploy"  # value "<slug>": opens DEPLOY_DIALOG
# callback_id of the dialogs they open; their one input is NOTE
ADVANCE_DIALOG = "usecase_advance_note"
BACK_DIALOG = "usecase_back_reason"
NOTE = "note"

# callback_id of the deploy dialog (/deploy <slug> without a version, the card's Deploy…)
DEPLOY_DIALOG = "deploy_start"
REFUSED_DIALOG = "refused"  # a submitted dialog turned into its refusal: nothing to submit
DEPLOY_VERSION_TYPED = "version"  # free text
DEPLOY_VERSION_PICKED = "recent_version"  # a select of the recent versions
DEPLOY_PIPELINE = "pipeline"
DEPLOY_OVERRIDE = "override"  # an admin's reason to pass a freeze (shown only inside one)
