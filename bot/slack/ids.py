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
