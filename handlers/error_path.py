"""The error paths: :func:`outcome` for the work a listener does after its ack, and
:func:`on_error`, the error handler for slack-bolt listeners (``app.error``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.domain.usecases import DomainError
from bot.log_events import get_logger
from bot.render import blocks, refusals
from bot.render.blocks import Message
from bot.services.ports import DuplicateDelivery, log_duplicate
from handlers.grammar.parsing import UsageError

log = get_logger(__name__)

T = TypeVar("T")
Refused = UsageError | DomainError
Refuse = Callable[[Refused], Message]


def refuser(admins: frozenset[str], usage: str = "") -> Refuse:
    """How refusals read where ``admins`` are the configured admins (none: say how to set them)."""
    def refuse(refused: Refused) -> Message:
        if isinstance(refused, UsageError):
            return blocks.error(str(refused), refused.usage)
        return refusals.refusal(refused, usage, admins_configured=bool(admins))
    return refuse


async def outcome(work: Awaitable[T], what: str, user: str, refuse: Refuse) -> T | Message:
    """What ``work`` gave; a refusal in words that say what was wrong and how to do it right;
    anything else logged once, and the person told sorry. A delivery applied already (Slack's
    retry) propagates: there is nothing to say."""
    try:
        return await work
    except (UsageError, DomainError) as refused:
        return refuse(refused)
    except DuplicateDelivery:
        raise
    except Exception:  # noqa: BLE001 - nobody else awaits this: log it, tell the person
        log.exception(f"{what}_error", user=user)
        return blocks.sorry()


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
    log.error("handler_error", error=type(error).__name__, exc_info=error)
    respond = context.get("respond")
    if respond is None or not body.get("response_url"):
        return None
    try:
        await respond(response_type="ephemeral", **blocks.sorry().as_args())
    except Exception:  # noqa: BLE001 - the error handler must not fail in turn
        log.warning("handler_error_reply_failed")
    return None
