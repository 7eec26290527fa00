"""Buttons on the deployment message and the reason dialog of Reject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.deploy_results import DeployResult
from bot.log_events import get_logger
from bot.render import blocks, deploy_blocks, deploy_replies
from bot.render.blocks import Message
from bot.services.approvals import ApprovalService
from bot.services.commands import Actor
from bot.services.deployments import DeploymentService
from bot.services.home import HomeService
from bot.slack import ids
from handlers.after_ack import AfterAck
from handlers.error_path import outcome, refuser
from handlers.grammar import deploy_grammar
from handlers.grammar.parsing import UsageError, input_value, reason_problem

log = get_logger(__name__)


def register(app: AsyncApp, approvals: ApprovalService, home: HomeService,
             admins: frozenset[str], background: AfterAck, deployments: DeploymentService) -> None:
    """Each button is acked at once; its work runs after, and answers the clicker privately."""
    buttons = _Buttons(approvals, home, admins, background)
    buttons.decision(app, ids.DEPLOY_APPROVE, "approve",
                     lambda token, actor: _said(approvals.approve(token, actor)))
    buttons.decision(app, ids.DEPLOY_CANCEL, "cancel",
                     lambda token, actor: _said(approvals.cancel(token, actor)))
    buttons.decision(app, ids.DEPLOY_VERSION, "deploy_version", _deploy_version(deployments))

    @app.action(ids.DEPLOY_REJECT)
    async def reject(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                     respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        background.spawn(buttons.ask_reason(body, action.get("value", ""), respond, client), "reject")

    @app.view(ids.REJECT_DIALOG)
    async def reject_reason(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                            client: AsyncWebClient) -> None:
        reason = input_value(view, ids.REJECT_REASON)
        if problem := reason_problem(reason):
            await ack(response_action="errors", errors={ids.REJECT_REASON: problem})
            return
        await ack()
        rejected = _said(approvals.reject(view.get("private_metadata", ""), buttons.actor(body),
                                          reason))
        background.spawn(buttons.run(body, None, client, rejected), "reject_reason")


class _Buttons:
    def __init__(self, approvals: ApprovalService, home: HomeService, admins: frozenset[str],
                 background: AfterAck) -> None:
        self.approvals, self.home, self.admins, self.background = approvals, home, admins, background
        self.refuse = refuser(admins)

    def actor(self, body: dict[str, Any]) -> Actor:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id", "")
        return Actor(user, channel, user in self.admins)

    def decision(self, app: AsyncApp, action_id: str, button: str,
                 decide: Callable[[str, Actor], Awaitable[Message]]) -> None:
        @app.action(action_id)
        async def click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        respond: AsyncRespond, client: AsyncWebClient) -> None:
            await ack()
            log.info("button", button=button, user=body["user"]["id"])
            work = decide(action.get("value", ""), self.actor(body))
            self.background.spawn(self.run(body, respond, client, work), button)

    async def run(self, body: dict[str, Any], respond: AsyncRespond | None, client: AsyncWebClient,
                  work: Awaitable[Message]) -> None:
        msg = await outcome(work, "button", body["user"]["id"], self.refuse)
        await _reply(respond, client, body, msg)
        if (body.get("view") or {}).get("type") == "home" or body.get("type") == "view_submission":
            await self.home.refresh([body["user"]["id"]])  # decided from Home: show it there

    async def ask_reason(self, body: dict[str, Any], token: str, respond: AsyncRespond,
                         client: AsyncWebClient) -> None:
        async def ask() -> None:
            gate = await self.approvals.check_reject(token, self.actor(body))
            label = deploy_replies.reject_label(gate)
            await client.views_open(trigger_id=body["trigger_id"],
                                    view=deploy_blocks.reject_dialog(ids.REJECT_DIALOG, token, label))

        if isinstance(msg := await outcome(ask(), "button", body["user"]["id"], self.refuse), Message):
            await _reply(respond, client, body, msg)


async def _said(decided: Awaitable[DeployResult]) -> Message:
    return deploy_replies.reply(await decided)


def _deploy_version(deployments: DeploymentService) -> Callable[[str, Actor], Awaitable[Message]]:
    """"Deploy vN": `/deploy <slug> <version>` typed by the clicker, every check included; its
    value is a slug and a version, nothing else."""
    async def deploy(value: str, actor: Actor) -> Message:
        try:
            command = deploy_grammar.start_from_button(value)
        except UsageError as bad:
            return blocks.error(str(bad))
        return deploy_replies.reply(await deployments.start(command, actor))

    return deploy


async def _reply(respond: AsyncRespond | None, client: AsyncWebClient, body: dict[str, Any],
                 msg: Message) -> None:
    """Privately to the clicker: in the channel via response_url, on Home as an ephemeral DM."""
    if respond is not None and body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, **msg.as_args())
    else:
        await client.chat_postMessage(channel=body["user"]["id"], **msg.as_args())
