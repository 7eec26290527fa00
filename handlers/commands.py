"""Slash commands: ack fast with the reply; the work is one service call made before the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.domain.usecases import DomainError, NotAllowed
from bot.services.commands import Actor
from bot.services.usecases import UseCaseService
from handlers.parsing import UsageError
from handlers.usecase_grammar import HELP, USAGE, HelpRequested, parse_usecase

log = logging.getLogger(__name__)

NOT_YET = {
    "/deploy": "Staged deployments",
    "/metric": "Shared metrics",
    "/digest": "Scheduled digests",
}


def register(app: AsyncApp, use_cases: UseCaseService, admins: frozenset[str]) -> None:
    @app.command("/usecase")
    async def usecase(ack: AsyncAck, command: dict[str, Any]) -> None:
        actor = Actor(command["user_id"], command["channel_id"], command["user_id"] in admins)
        text = command.get("text", "")
        log.info("action=command command=/usecase user=%s channel=%s", actor.user_id,
                 actor.channel_id)
        try:
            reply = await use_cases.execute(parse_usecase(text), actor)
        except HelpRequested:
            reply = blocks.help_text("/usecase — track use cases from Biz to Ops", HELP)
        except UsageError as bad:
            reply = blocks.error(str(bad), bad.usage)
        except NotAllowed as refused:
            reply = blocks.error(str(refused), icon="🚫")
        except DomainError as refused:
            reply = blocks.error(str(refused), USAGE.get((text.split() or [""])[0].lower(), ""))
        await ack(response_type="ephemeral", **reply.as_args())

    for name, what in NOT_YET.items():
        app.command(name)(_not_yet(name, what))


def _not_yet(name: str, what: str):  # type: ignore[no-untyped-def]
    async def not_available(ack: AsyncAck) -> None:
        reply = blocks.notice(f"{what} (`{name}`) are not available in this version of the bot yet.")
        await ack(response_type="ephemeral", **reply.as_args())

    return not_available
