"""Slash commands: the reply is the ack, made after one service call; slow extras run after it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.background import Background
from bot.blocks import Message
from bot.charts import kpi_charts
from bot.domain.usecases import DomainError, NotAllowed
from bot.services.commands import Actor, MetricCommand, RecordMetric, SetTarget, ShowDora
from bot.services.deployments import DeploymentService
from bot.services.digests import DigestService
from bot.services.metrics import ChartRequest, MetricService
from bot.services.usecases import UseCaseService
from handlers import deploy_grammar, digest_grammar, metric_grammar, usecase_grammar
from handlers.digest_grammar import DigestCommand
from handlers.parsing import HelpRequested, UsageError, control_problem

log = logging.getLogger(__name__)

C = TypeVar("C")

# `/deploy <slug> <version>` has no verb of its own: a refusal shows how to start one.
DEPLOY_USAGE = {**deploy_grammar.USAGE, "": deploy_grammar.USAGE["start"]}


async def answer(text: str, actor: Actor, parse: Callable[[str], C],
                 execute: Callable[[C, Actor], Awaitable[Message]], *, title: str,
                 help_lines: Sequence[tuple[str, str]], usage: dict[str, str]) -> Message:
    """Parse, run, and turn every refusal into a private answer that says how to do it right."""
    word = (text.split() or [""])[0].lower()
    try:
        if problem := control_problem(text, "The command"):  # before anything can store it
            raise UsageError(problem, usage.get(word, usage.get("", "")))
        return await execute(parse(text), actor)
    except HelpRequested:
        return blocks.help_text(title, help_lines)
    except UsageError as bad:
        return blocks.error(str(bad), bad.usage)
    except NotAllowed as refused:
        return blocks.error(str(refused), icon="🚫")
    except DomainError as refused:
        if not refused.show_usage:
            return blocks.error(str(refused), icon="✋")
        return blocks.error(str(refused), usage.get(word, usage.get("", "")))


def register(app: AsyncApp, use_cases: UseCaseService, deployments: DeploymentService,
             metrics: MetricService, digests: DigestService, admins: frozenset[str],
             background: Background) -> None:
    def actor(command: dict[str, Any]) -> Actor:
        log.info("action=command command=%s user=%s channel=%s", command.get("command"),
                 command["user_id"], command["channel_id"])
        return Actor(command["user_id"], command["channel_id"], command["user_id"] in admins)

    @app.command("/usecase")
    async def usecase(ack: AsyncAck, command: dict[str, Any]) -> None:
        reply = await answer(command.get("text", ""), actor(command), usecase_grammar.parse_usecase,
                             use_cases.execute, title="/usecase — track use cases from Biz to Ops",
                             help_lines=usecase_grammar.HELP, usage=usecase_grammar.USAGE)
        await ack(response_type="ephemeral", **reply.as_args())

    @app.command("/deploy")
    async def deploy(ack: AsyncAck, command: dict[str, Any]) -> None:
        reply = await answer(command.get("text", ""), actor(command), deploy_grammar.parse_deploy,
                             deployments.execute, title="/deploy — staged deployments from chat",
                             help_lines=deploy_grammar.HELP, usage=DEPLOY_USAGE)
        await ack(response_type="ephemeral", **reply.as_args())

    @app.command("/metric")
    async def metric(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        charts: list[ChartRequest] = []

        async def run(cmd: MetricCommand, who: Actor) -> Message:
            match cmd:
                case RecordMetric():
                    return await metrics.record(cmd, who)
                case SetTarget():
                    return await metrics.set_target(cmd, who)
                case ShowDora():
                    return await metrics.dora(cmd)
            reply, chart = await metrics.show(cmd)
            charts.extend([chart] if chart else [])
            return reply

        reply = await answer(command.get("text", ""), actor(command), metric_grammar.parse_metric,
                             run, title="/metric — shared KPIs and DORA metrics",
                             help_lines=metric_grammar.HELP, usage=metric_grammar.USAGE)
        await ack(response_type="ephemeral", **reply.as_args())
        for chart in charts:  # after the ack: rendering and uploading may take longer than 3 s
            background.spawn(upload_chart(client, command["channel_id"], chart), "chart")

    @app.command("/digest")
    async def digest(ack: AsyncAck, command: dict[str, Any]) -> None:
        channel = command["channel_id"]
        posting: list[str] = []

        async def run(cmd: DigestCommand, who: Actor) -> Message:
            if cmd.verb == "now":  # gathering can take longer than Slack waits: ack first
                posting.append(channel)
                return blocks.notice("📋 Putting the digest together; it appears here in a moment.")
            if cmd.verb == "preview":
                return await digests.preview(channel)
            if cmd.verb == "schedule":
                return await digests.set_schedule(channel, cmd.cron, cmd.tz, who.user_id)
            if cmd.verb == "off":
                return await digests.turn_off(channel, who.user_id)
            return await digests.show_schedule(channel)

        reply = await answer(command.get("text", ""), actor(command), digest_grammar.parse_digest,
                             run, title="/digest — status digests for this channel",
                             help_lines=digest_grammar.HELP, usage=digest_grammar.USAGE)
        await ack(response_type="ephemeral", **reply.as_args())
        for where in posting:
            background.spawn(digests.post_now(where), "digest_now")


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
