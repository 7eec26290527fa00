"""Slash commands: the reply is the ack, made after one service call; heavy reads (a digest,
DORA, a KPI table) are acked at once and answered through the response_url in their turn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.usecases import DomainError, NotAllowed
from bot.render import blocks
from bot.render.blocks import Message
from bot.render.charts import kpi_charts
from bot.runtime.background import Background
from bot.services.commands import (
    Actor,
    MetricCommand,
    RecordMetric,
    SetTarget,
    ShowDora,
    ShowMetrics,
)
from bot.services.deployments import DeploymentService
from bot.services.digests import DigestService
from bot.services.metrics import ChartRequest, MetricService
from bot.services.usecases import UseCaseService
from handlers.grammar import deploy_grammar, digest_grammar, metric_grammar, usecase_grammar
from handlers.grammar.digest_grammar import DigestCommand
from handlers.grammar.parsing import HelpRequested, UsageError, control_problem

log = logging.getLogger(__name__)

C = TypeVar("C")

# `/deploy <slug> <version>` has no verb of its own: a refusal shows how to start one.
DEPLOY_USAGE = {**deploy_grammar.USAGE, "": deploy_grammar.USAGE["start"]}


@dataclass(frozen=True)
class Later:
    """An answer that comes after the ack, through the response_url: heavy work (a digest, DORA,
    a KPI table) waits for its turn among a few slots and must not hold Slack's 3 seconds."""

    work: Callable[[], Awaitable[Message]]
    name: str
    then: Callable[[], None] = lambda: None  # after answering (a chart upload)


async def answer(text: str, actor: Actor, parse: Callable[[str], C],
                 execute: Callable[[C, Actor], Awaitable[Message | Later]], *, title: str,
                 help_lines: Sequence[tuple[str, str]], usage: dict[str, str]) -> Message | Later:
    """Parse, run, and turn every refusal into a private answer that says how to do it right."""
    word = (text.split() or [""])[0].lower()
    try:
        if problem := control_problem(text, "The command"):  # before anything can store it
            raise UsageError(problem, usage.get(word, usage.get("", "")))
        return await execute(parse(text), actor)
    except HelpRequested:
        return blocks.help_text(title, help_lines)
    except (UsageError, DomainError) as refused:
        return refusal(refused, text, usage)


def refusal(refused: UsageError | DomainError, text: str, usage: dict[str, str]) -> Message:
    if isinstance(refused, UsageError):
        return blocks.error(str(refused), refused.usage)
    if isinstance(refused, NotAllowed):
        return blocks.error(str(refused), icon="🚫")
    if not refused.show_usage:
        return blocks.error(str(refused), icon="✋")
    word = (text.split() or [""])[0].lower()
    return blocks.error(str(refused), usage.get(word, usage.get("", "")))


def register(app: AsyncApp, use_cases: UseCaseService, deployments: DeploymentService,
             metrics: MetricService, digests: DigestService, admins: frozenset[str],
             background: Background) -> None:
    def actor(command: dict[str, Any]) -> Actor:
        log.info("action=command command=%s user=%s channel=%s", command.get("command"),
                 command["user_id"], command["channel_id"])
        return Actor(command["user_id"], command["channel_id"], command["user_id"] in admins)

    async def reply(ack: AsyncAck, respond: AsyncRespond, outcome: Message | Later, text: str,
                    usage: dict[str, str]) -> None:
        if isinstance(outcome, Message):
            await ack(response_type="ephemeral", **outcome.as_args())
            return
        await ack()  # nothing to say yet: the answer follows as soon as it is ready
        background.spawn_heavy(deliver(respond, outcome, text, usage), outcome.name)

    async def deliver(respond: AsyncRespond, later: Later, text: str, usage: dict[str, str]) -> None:
        try:
            msg = await later.work()
        except (UsageError, DomainError) as refused:
            msg = refusal(refused, text, usage)
        except Exception:  # noqa: BLE001 - nobody awaits this: log it, tell the person
            log.exception("action=command_error work=%s", later.name)
            msg = blocks.sorry()
        await respond(response_type="ephemeral", **msg.as_args())
        later.then()

    @app.command("/usecase")
    async def usecase(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = command.get("text", "")
        outcome = await answer(text, actor(command), usecase_grammar.parse_usecase,
                               use_cases.execute, title="/usecase — track use cases from Biz to Ops",
                               help_lines=usecase_grammar.HELP, usage=usecase_grammar.USAGE)
        await reply(ack, respond, outcome, text, usecase_grammar.USAGE)

    @app.command("/deploy")
    async def deploy(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = command.get("text", "")
        outcome = await answer(text, actor(command), deploy_grammar.parse_deploy,
                               deployments.execute, title="/deploy — staged deployments from chat",
                               help_lines=deploy_grammar.HELP, usage=DEPLOY_USAGE)
        await reply(ack, respond, outcome, text, DEPLOY_USAGE)

    @app.command("/metric")
    async def metric(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                     client: AsyncWebClient) -> None:
        text, channel = command.get("text", ""), command["channel_id"]

        async def run(cmd: MetricCommand, who: Actor) -> Message | Later:
            match cmd:
                case RecordMetric():
                    return await metrics.record(cmd, who)
                case SetTarget():
                    return await metrics.set_target(cmd, who)
                case ShowDora():
                    return Later(lambda: metrics.dora(cmd), "metric_dora")
            return show(cmd)

        def show(cmd: ShowMetrics) -> Later:
            charts: list[ChartRequest] = []

            async def table() -> Message:
                msg, chart = await metrics.show(cmd)
                charts.extend([chart] if chart else [])
                return msg

            def upload() -> None:  # a heavy job of its own: rendering takes a while
                for chart in charts:
                    background.spawn_heavy(upload_chart(client, channel, chart), "chart")

            return Later(table, "metric_show", upload)

        outcome = await answer(text, actor(command), metric_grammar.parse_metric,
                               run, title="/metric — shared KPIs and DORA metrics",
                               help_lines=metric_grammar.HELP, usage=metric_grammar.USAGE)
        await reply(ack, respond, outcome, text, metric_grammar.USAGE)

    @app.command("/digest")
    async def digest(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text, channel = command.get("text", ""), command["channel_id"]

        async def run(cmd: DigestCommand, who: Actor) -> Message | Later:
            if cmd.verb == "now":  # posted in the channel, through the outbox, in its turn
                background.spawn_heavy(digests.post_now(channel), "digest_now")
                return blocks.notice("📋 Putting the digest together; it appears here in a moment.")
            if cmd.verb == "preview":
                return Later(lambda: digests.preview(channel), "digest_preview")
            if cmd.verb == "schedule":
                return await digests.set_schedule(channel, cmd.cron, cmd.tz, who.user_id)
            if cmd.verb == "off":
                return await digests.turn_off(channel, who.user_id)
            return await digests.show_schedule(channel)

        outcome = await answer(text, actor(command), digest_grammar.parse_digest,
                               run, title="/digest — status digests for this channel",
                               help_lines=digest_grammar.HELP, usage=digest_grammar.USAGE)
        await reply(ack, respond, outcome, text, digest_grammar.USAGE)


async def upload_chart(client: AsyncWebClient, channel: str, chart: ChartRequest) -> None:
    series = [(name, unit, times, values, target.value if target else None)
              for name, unit, times, values, target in chart.series]
    png = await asyncio.to_thread(kpi_charts, chart.title, series)  # CPU-bound: off the loop
    try:
        await client.files_upload_v2(channel=channel, file=png, filename="kpis.png",
                                     title=chart.title)
    except SlackApiError as refused:  # e.g. not_in_channel: the table was answered anyway
        log.warning("action=chart.upload_failed channel=%s error=%s", channel,
                    refused.response.get("error"))
