"""Slash commands: the reply is the ack, made after one service call; heavy reads (a digest,
DORA, a KPI table) are acked at once and answered through the response_url in their turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.change_results import ChangesAnswer
from bot.domain.digest_data import DigestData
from bot.domain.metric_results import ChartRequest, MetricResult
from bot.domain.usecases import DomainError
from bot.log_events import get_logger
from bot.render import (
    blocks,
    change_replies,
    deploy_replies,
    digest_blocks,
    freeze_blocks,
    metric_replies,
    usecase_replies,
)
from bot.render.blocks import Message
from bot.render.charts import kpi_charts
from bot.render.dashboard_links import NO_LINKS, DashboardLinks
from bot.render.dialog_views import deploy_form
from bot.render.metric_charts import chart_upload
from bot.services.commands import (
    Actor,
    DeployCommand,
    DigestCommand,
    FreezeDeployments,
    ListFreezes,
    MetricCommand,
    NewUseCase,
    NewUseCaseDialog,
    PickVersion,
    PostDigestNow,
    PreviewDigest,
    PullKpi,
    RecordMetric,
    ScheduleDigest,
    SetTarget,
    ShowChanges,
    ShowDora,
    ShowSources,
    ShowUseCase,
    StopDigest,
    UnfreezeDeployments,
)
from bot.services.deploy_changes import ChangeService
from bot.services.deploy_dialog import DeployDialogs
from bot.services.deployments import DeploymentService
from bot.services.digests import DigestService
from bot.services.freezes import FreezeService
from bot.services.kpis import KpiService
from bot.services.metrics import MetricService
from bot.services.usecases import UseCaseService
from handlers.after_ack import AfterAck
from handlers.dialogs import Dialogs, Open
from handlers.error_path import outcome, refuser
from handlers.grammar.parsing import HelpRequested, UsageError, control_problem
from handlers.grammar.table import COMMANDS, DEPLOY, DIGEST, METRIC, USECASE, Grammar

log = get_logger(__name__)

C = TypeVar("C")


@dataclass(frozen=True)
class Later:
    """An answer that comes after the ack, through the response_url: heavy work (a digest, DORA,
    a KPI table) waits for its turn among a few slots and must not hold Slack's 3 seconds."""

    work: Callable[[], Awaitable[Message]]
    name: str
    then: Callable[[], None] = lambda: None  # after answering (a chart upload)


async def answer(text: str, actor: Actor, parse: Callable[[str], C],
                 execute: Callable[[C, Actor], Awaitable[Message | Later | OpenDialog]], *, title: str,
                 help_lines: Sequence[tuple[str, str]], usage: dict[str, str],
                 admins: frozenset[str]) -> Message | Later | OpenDialog:
    """Parse, run, and turn every refusal into a private answer that says how to do it right."""
    word = (text.split() or [""])[0].lower()
    try:
        if problem := control_problem(text, "The command"):  # before anything can store it
            raise UsageError(problem, usage.get(word, usage.get("", "")))
        return await execute(parse(text), actor)
    except HelpRequested:
        return blocks.help_text(title, help_lines)
    except (UsageError, DomainError) as refused:
        return refusal(refused, text, usage, admins)


def refusal(refused: UsageError | DomainError, text: str, usage: dict[str, str],
            admins: frozenset[str]) -> Message:
    """Bad grammar shows its own usage line; a refusal of the request, the sub-command's."""
    word = (text.split() or [""])[0].lower()
    return refuser(admins, usage.get(word, usage.get("", "")))(refused)


@dataclass(frozen=True)
class Where:
    """Where a command was typed, for what answers there (charts, digests)."""

    channel: str
    client: AsyncWebClient


@dataclass(frozen=True)
class OpenDialog:
    """An answer that is a dialog: acked at once, opened after with the command's trigger."""

    build: Open
    name: str


Run = Callable[[Any, Actor, Where], Awaitable["Message | Later | OpenDialog"]]


def register(app: AsyncApp, use_cases: UseCaseService, deployments: DeploymentService,
             metrics: MetricService, digests: DigestService, admins: frozenset[str],
             background: AfterAck, kpis: KpiService, dialogs: Dialogs,
             freezes: FreezeService, changes: ChangeService, *,
             links: DashboardLinks = NO_LINKS) -> None:
    """``links``: where the dashboard shows what a card or a deployment is about."""
    runs = {USECASE: _usecase(use_cases, dialogs, links),
            DEPLOY: _deploy(deployments, dialogs.deploys, freezes, changes, links),
            METRIC: _metric(metrics, kpis, background), DIGEST: _digest(digests, background, links)}
    for grammar in COMMANDS:
        _listen(app, grammar, runs[grammar], admins, background, dialogs, use_cases)


def named_slug(command: object) -> str | None:
    """The use case a command names, to be seen by whoever runs it; `new` names none yet, and
    `show` checks with the read it makes anyway."""
    slug = getattr(command, "slug", None)
    return slug if isinstance(slug, str) and not isinstance(command, NewUseCase | ShowUseCase) else None


def _listen(app: AsyncApp, grammar: Grammar, run: Run, admins: frozenset[str],
            background: AfterAck, dialogs: Dialogs, use_cases: UseCaseService) -> None:
    """One listener: answer in the ack, or ack at once and answer later in a heavy turn."""
    @app.command(grammar.name)
    async def listener(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                       client: AsyncWebClient) -> None:
        user, channel, text = command["user_id"], command["channel_id"], command.get("text", "")
        log.info("command", command=grammar.name, user=user, channel=channel)
        where, who = Where(channel, client), Actor(user, channel, user in admins)
        async def execute(cmd: Any, who: Actor) -> Message | Later | OpenDialog:
            if (slug := named_slug(cmd)) is not None:  # a private use case is unseen outside
                await use_cases.ensure_seen(slug, who)
            return await run(cmd, who, where)

        answered = await answer(text, who, grammar.parse, execute, title=grammar.title,
                                help_lines=grammar.help_lines, usage=grammar.usage, admins=admins)
        if isinstance(answered, Message):
            await ack(response_type="ephemeral", **answered.as_args())
            return
        await ack()  # nothing to say yet: the answer follows as soon as it is ready
        if isinstance(answered, OpenDialog):
            dialogs.open(client, command.get("trigger_id", ""), who, answered.build, answered.name)
            return
        background.spawn_heavy(_deliver(respond, answered, text, grammar.usage, who, admins),
                               answered.name)


async def _deliver(respond: AsyncRespond, later: Later, text: str, usage: dict[str, str],
                   who: Actor, admins: frozenset[str]) -> None:
    msg = await outcome(later.work(), f"command.{later.name}", who.user_id,
                        lambda refused: refusal(refused, text, usage, admins))
    await respond(response_type="ephemeral", **msg.as_args())
    later.then()


def _usecase(use_cases: UseCaseService, dialogs: Dialogs, links: DashboardLinks) -> Run:
    async def run(cmd: Any, who: Actor, _where: Where) -> Message | OpenDialog:
        if isinstance(cmd, NewUseCaseDialog):
            return OpenDialog(lambda actor: dialogs.new_usecase(actor), "usecase_new_dialog")
        return usecase_replies.reply(await use_cases.execute(cmd, who), links)

    return run


def _deploy(deployments: DeploymentService, deploys: DeployDialogs, freezes: FreezeService,
            changes: ChangeService, links: DashboardLinks) -> Run:
    async def run(cmd: DeployCommand, who: Actor, _where: Where) -> Message | Later | OpenDialog:
        match cmd:
            case PickVersion():  # the dialog (it may ask MLflow: never in the ack)
                slug = cmd.slug
                return OpenDialog(lambda actor: _deploy_form(deploys, slug, actor), "deploy_dialog")
            case FreezeDeployments():
                return freeze_blocks.frozen_reply(await freezes.freeze(cmd, who), freezes.timezone)
            case UnfreezeDeployments():
                return freeze_blocks.unfrozen_reply(await freezes.unfreeze(cmd, who),
                                                    freezes.timezone)
            case ListFreezes():
                return freeze_blocks.listing(await freezes.list(cmd), freezes.timezone)
            case ShowChanges():  # GitHub or MLflow is asked: never in the acknowledgement
                return Later(lambda: _changes(changes.changes(cmd, who)), "deploy_changes")
        return deploy_replies.reply(await deployments.execute(cmd, who), links)

    return run


async def _changes(work: Awaitable[ChangesAnswer]) -> Message:
    return change_replies.reply(await work)


async def _worded(work: Awaitable[MetricResult]) -> Message:
    return metric_replies.reply(await work)


async def _deploy_form(deploys: DeployDialogs, slug: str, actor: Actor) -> dict[str, Any]:
    return deploy_form(await deploys.view(slug, actor))


def _metric(metrics: MetricService, kpis: KpiService, background: AfterAck) -> Run:
    async def run(cmd: MetricCommand, who: Actor, where: Where) -> Message | Later:
        match cmd:
            case ShowSources():
                return Later(lambda: _worded(kpis.list_sources(cmd)), "metric_sources")
            case PullKpi():  # a source may take its time: never in the acknowledgement
                return Later(lambda: _worded(kpis.pull(cmd, who)), "metric_pull")
            case RecordMetric():
                return await _worded(metrics.record(cmd, who))
            case SetTarget():
                return await _worded(metrics.set_target(cmd, who))
            case ShowDora():
                return _charted(lambda: metrics.dora_with_trend(cmd), "metric_dora", where,
                                background)
        return _charted(lambda: metrics.show(cmd), "metric_show", where, background)

    return run


def _charted(work: Callable[[], Awaitable[tuple[MetricResult, ChartRequest | None]]], name: str,
             where: Where, background: AfterAck) -> Later:
    """The answer (a KPI table, a DORA card) in a heavy turn, then its chart in a heavy turn of
    its own (rendering is slow)."""
    charts: list[ChartRequest] = []

    async def table() -> Message:
        shown, chart = await work()
        charts.extend([chart] if chart else [])
        return metric_replies.reply(shown)

    def upload() -> None:
        for chart in charts:
            background.spawn_heavy(upload_chart(where.client, where.channel, chart, background),
                                   "chart")

    return Later(table, name, upload)


def _digest(digests: DigestService, background: AfterAck, links: DashboardLinks) -> Run:
    async def run(cmd: DigestCommand, who: Actor, where: Where) -> Message | Later:
        channel = where.channel
        match cmd:
            case PostDigestNow():  # posted in the channel, through the outbox, in its turn
                background.spawn_heavy(digests.post_now(channel), "digest_now")
                return metric_replies.digest_coming()
            case PreviewDigest():
                return Later(lambda: _previewed(digests.preview(channel), links), "digest_preview")
            case ScheduleDigest():
                return await _worded(digests.set_schedule(channel, cmd.cron, cmd.tz, who.user_id))
            case StopDigest():
                return await _worded(digests.turn_off(channel, who.user_id))
        return await _worded(digests.show_schedule(channel))

    return run


async def _previewed(work: Awaitable[DigestData], links: DashboardLinks) -> Message:
    return digest_blocks.render_digest(await work, links)


async def upload_chart(client: AsyncWebClient, channel: str, chart: ChartRequest,
                       background: AfterAck) -> None:
    upload = chart_upload(chart)
    png = await background.in_worker(kpi_charts, upload.title, upload.panels,
                                     columns=upload.columns)
    try:
        await client.files_upload_v2(channel=channel, file=png, filename=upload.filename,
                                     title=upload.title, alt_txt=upload.alt_text or None)
    except SlackApiError as refused:  # e.g. not_in_channel: the table was answered anyway
        log.warning("chart.upload_failed", channel=channel, error=refused.response.get("error"))
