"""The one error handler for slack-bolt listeners (``app.error``)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.render import blocks
from bot.services.ports import DuplicateDelivery, log_duplicate

log = logging.getLogger(__name__)


async def on_error(error: Exception, body: dict[str, Any], context: AsyncBoltContext,
                    logger: logging.Logger, response: BoltResponse | None) -> BoltResponse | None:
    """Log it and tell the person something went wrong rather than leaving them hanging.

    Only requests that passed the signature check get here, and only those that carry a
    ``response_url`` (commands, buttons) get an answer; events have nobody to answer. A
    delivery another attempt applied first is no error: it is acknowledged, quietly.
    """
    if isinstance(error, DuplicateDelivery):
        log_duplicate(error)
        return None if response is None else BoltResponse(status=200, body="")
    log.error("action=handler_error error=%s", type(error).__name__, exc_info=error)
    respond = context.get("respond")
    if respond is None or not body.get("response_url"):
        return None
    try:
        await respond(response_type="ephemeral", **blocks.sorry().as_args())
    except Exception:  # noqa: BLE001 - the error handler must not fail in turn
        log.warning("action=handler_error_reply_failed")
    return None
