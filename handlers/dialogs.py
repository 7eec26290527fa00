"""Dialogs: "New use case", a card's Advance, Back and Deploy…, and the deploy dialog.

Buttons are acked at once and open their dialog after, checked at click time (permission, and
whether the card is still current). A submission's bad fields are answered inline
(``response_action: errors``, nothing stored); what it sets off runs after the ack and is
answered privately: an ephemeral message where the dialog was opened, else a DM.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.usecase_results import UseCaseResult
from bot.domain.usecases import DomainError
from bot.render import deploy_replies, dialog_views, usecase_replies
from bot.render.blocks import Message
from bot.services.commands import Actor, StartDeployment
from bot.services.deploy_dialog import DeployDialogs
from bot.services.deployments import DeploymentService
from bot.services.home import HomeService
from bot.services.usecases import UseCaseService
from bot.slack import ids
from handlers.after_ack import AfterAck
from handlers.error_path import outcome, refuser
from handlers.grammar import deploy_grammar, usecase_grammar
from handlers.grammar.parsing import (
    REASON_MAX,
    FieldErrors,
    control_problem,
    field_values,
    input_value,
    reason_problem,
)

Open = Callable[[Actor], Awaitable[dict[str, Any]]]


@dataclass
class Dialogs:
    use_cases: UseCaseService
    deploys: DeployDialogs
    deployments: DeploymentService
    home: HomeService
    admins: frozenset[str]
    background: AfterAck

    def register(self, app: AsyncApp) -> None:
        self._button(app, ids.HOME_NEW_USECASE, self._new_usecase)
        self._button(app, ids.USECASE_ADVANCE, self._move(forward=True))
        self._button(app, ids.USECASE_BACK, self._move(forward=False))
        self._button(app, ids.USECASE_DEPLOY, self._deploy)
        app.view(ids.USECASE_NEW)(self._created)
        app.view(ids.ADVANCE_DIALOG)(self._moved)
        app.view(ids.BACK_DIALOG)(self._moved)
        app.view(ids.DEPLOY_DIALOG)(self._deploy_submitted)

    def actor(self, user: str, channel: str) -> Actor:
        return Actor(user, channel, user in self.admins)

    # ── opening ────────────────────────────────────────────────────────────────────────────

    def _button(self, app: AsyncApp, action_id: str,
                build: Callable[[str, Actor], Awaitable[dict[str, Any]]]) -> None:
        async def click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient) -> None:
            await ack()
            who = self.actor(body["user"]["id"], (body.get("channel") or {}).get("id", ""))
            value = action.get("value", "")
            self.open(client, body.get("trigger_id", ""), who, lambda a: build(value, a), action_id)

        app.action(action_id)(click)

    def open(self, client: AsyncWebClient, trigger_id: str, who: Actor, build: Open,
             name: str) -> None:
        """After the ack: build the dialog (refusals are answered privately) and open it."""
        async def opened() -> None:
            await client.views_open(trigger_id=trigger_id, view=await build(who))

        async def work() -> None:
            said = await outcome(opened(), f"dialog.{name}", who.user_id, refuser(self.admins))
            if isinstance(said, Message):
                await self.tell(client, who, said)

        self.background.spawn(work(), name)

    async def new_usecase(self, who: Actor) -> dict[str, Any]:
        return dialog_views.new_usecase_dialog(who.user_id, who.channel_id or None)

    async def _new_usecase(self, _value: str, who: Actor) -> dict[str, Any]:
        return dialog_views.new_usecase_dialog(who.user_id, who.channel_id or None)

    def _move(self, *, forward: bool) -> Callable[[str, Actor], Awaitable[dict[str, Any]]]:
        async def build(stamp: str, who: Actor) -> dict[str, Any]:
            uc, to = await self.use_cases.check_card(stamp, who, forward)
            return dialog_views.move_dialog(uc, stamp, forward=forward, to=to.label,
                                       channel=who.channel_id)

        return build

    async def _deploy(self, slug: str, who: Actor) -> dict[str, Any]:
        return dialog_views.deploy_form(await self.deploys.view(slug, who))

    # ── submissions ────────────────────────────────────────────────────────────────────────

    def _submitter(self, body: dict[str, Any], view: dict[str, Any]) -> tuple[Actor, dict[str, str]]:
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except (ValueError, RecursionError):  # not ours: 3000 characters of "[" nest too deep
            meta = {}
        meta = {k: v for k, v in meta.items() if isinstance(v, str)} if isinstance(meta, dict) else {}
        return self.actor(body["user"]["id"], meta.get("channel", "")), meta

    async def _created(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                       client: AsyncWebClient) -> None:
        who, _meta = self._submitter(body, view)
        try:
            command = usecase_grammar.new_from_dialog(field_values(view))
        except FieldErrors as bad:
            await ack(response_action="errors", errors=bad.errors)
            return
        await ack()
        self.after(client, who, self._replied(self.use_cases.execute(command, who)), "usecase_new")

    async def _moved(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                     client: AsyncWebClient) -> None:
        who, meta = self._submitter(body, view)
        forward = view.get("callback_id") == ids.ADVANCE_DIALOG
        text = input_value(view, ids.NOTE).strip()
        problem = (control_problem(text, "The note") or (
            f"Keep it to {REASON_MAX} characters." if len(text) > REASON_MAX else None)
            if forward else reason_problem(text))
        if problem:
            await ack(response_action="errors", errors={ids.NOTE: problem})
            return
        await ack()
        work = self.use_cases.move_from_card(meta.get("stamp", ""), who, forward, text)
        self.after(client, who, self._replied(work), "usecase_move")

    async def _deploy_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                                client: AsyncWebClient) -> None:
        who, meta = self._submitter(body, view)
        try:
            command = deploy_grammar.start_from_dialog(meta.get("slug", ""), field_values(view))
        except FieldErrors as bad:
            await ack(response_action="errors", errors=bad.errors)
            return
        try:
            await self.deployments.precheck(command, who)
        except DomainError as refused:  # said where the form was, not after it closed
            await ack(response_action="update",
                      view=dialog_views.refused_dialog("Deploy", refuser(self.admins)(refused)))
            return
        await ack()
        self.after(client, who, self._started(command, who), "deploy_dialog")

    @staticmethod
    async def _replied(work: Awaitable[UseCaseResult]) -> Message:
        return usecase_replies.reply(await work)

    async def _started(self, command: StartDeployment, who: Actor) -> Message:
        return deploy_replies.reply(await self.deployments.start(command, who))

    def after(self, client: AsyncWebClient, who: Actor, work: Awaitable[Message], name: str) -> None:
        """The submission's work, after the ack, answered privately; Home shows the result."""
        async def run() -> None:
            said = await outcome(work, f"dialog.{name}", who.user_id, refuser(self.admins))
            await self.tell(client, who, said)
            await self.home.refresh([who.user_id])

        self.background.spawn(run(), name)

    @staticmethod
    async def tell(client: AsyncWebClient, who: Actor, msg: Message) -> None:
        if who.channel_id:
            await client.chat_postEphemeral(channel=who.channel_id, user=who.user_id, **msg.as_args())
        else:
            await client.chat_postMessage(channel=who.user_id, **msg.as_args())
