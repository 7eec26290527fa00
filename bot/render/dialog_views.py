"""Dialogs (modals): "New use case", a card's Advance and Back, and the deploy dialog.

Built with slack_sdk's models, so each is validated as Slack would (lengths, required parts)
before it leaves; ``private_metadata`` carries what the submission needs back (JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.approvers import of_gate
from bot.domain.deploy_results import DeployForm
from bot.domain.pipeline import Pipeline, production_index
from bot.domain.usecases import DOMAIN_MAX, PROBLEM_MAX, TITLE_MAX, UseCase
from bot.render.blocks import Message, clip, section
from bot.render.freeze_blocks import describe
from bot.render.mrkdwn import escape
from bot.render.production_words import approvers_words
from bot.slack import ids

MAX_OPTIONS = 100  # a static select's limit
MAX_OPTION_TEXT = 75
MAX_PIPELINE_LINES = 10


def metadata(**values: str) -> str:
    return json.dumps(values, separators=(",", ":"))


def _text(block_id: str, label: str, *, optional: bool = False, multiline: bool = False,
          max_length: int | None = None, placeholder: str | None = None,
          hint: str | None = None, initial: str | None = None) -> InputBlock:
    element = PlainTextInputElement(action_id=block_id, multiline=multiline or None,
                                    max_length=max_length, initial_value=initial or None,
                                    placeholder=PlainTextObject(text=placeholder) if placeholder else None)
    return InputBlock(block_id=block_id, label=PlainTextObject(text=label), element=element,
                      optional=optional or None, hint=PlainTextObject(text=hint) if hint else None)


def _modal(callback_id: str, title: str, submit: str, blocks: Sequence[Block], meta: str) -> dict[str, Any]:
    return View(type="modal", callback_id=callback_id, private_metadata=meta,
                title=PlainTextObject(text=title), submit=PlainTextObject(text=submit),
                close=PlainTextObject(text="Cancel"), blocks=list(blocks)).to_dict()


def new_usecase_dialog(opener: str, channel: str | None) -> dict[str, Any]:
    """`/usecase new` without arguments, and Home's New use case button."""
    owner = UserSelectElement(action_id=ids.NEW_OWNER, initial_user=opener)
    home = ConversationSelectElement(
        action_id=ids.NEW_CHANNEL, initial_conversation=channel or None,
        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True))
    blocks: list[Block] = [
        _text(ids.NEW_SLUG, "Slug", optional=True, max_length=40, placeholder="churn-model",
              hint="2–40 lowercase letters, digits and dashes; used in every command. "
                   "Left empty, it is made from the title"),
        _text(ids.NEW_TITLE, "Title", max_length=TITLE_MAX, placeholder="Predict customer churn"),
        _text(ids.NEW_DOMAIN, "Domain", optional=True, max_length=DOMAIN_MAX,
              placeholder="marketing"),
        InputBlock(block_id=ids.NEW_OWNER, label=PlainTextObject(text="Owner"), element=owner,
                   hint=PlainTextObject(text="Owns it end to end, from Biz to Ops")),
        InputBlock(block_id=ids.NEW_CHANNEL, label=PlainTextObject(text="Home channel"),
                   element=home, hint=PlainTextObject(text="Every phase change is announced there")),
        _text(ids.NEW_PROBLEM, "Business problem", optional=True, multiline=True,
              max_length=PROBLEM_MAX, placeholder="What the business needs, and why now"),
        _text(ids.NEW_KPI, "Success KPI", optional=True, max_length=64, placeholder="auc",
              hint="The metric that says it works, e.g. auc or churn_rate"),
        _text(ids.NEW_KPI_TARGET, "KPI target", optional=True, max_length=40,
              placeholder=">= 0.83", hint="A comparison and a number: >=, <=, > or <"),
    ]
    return _modal(ids.USECASE_NEW, "New use case", "Create", blocks, metadata(channel=channel or ""))


def move_dialog(uc: UseCase, stamp: str, *, forward: bool, to: str, channel: str) -> dict[str, Any]:
    """A card's Advance (an optional note) or Back (a required reason)."""
    what = (f"*{uc.slug}* moves from {uc.phase.label} to {to}; the note goes with the announcement."
            if forward else
            f"*{uc.slug}* goes back from {uc.phase.label} to {to} (feedback loop): say why.")
    note = _text(ids.NOTE, "Note" if forward else "Reason", optional=forward, multiline=True,
                 max_length=500)
    return _modal(ids.ADVANCE_DIALOG if forward else ids.BACK_DIALOG,
                  "Advance use case" if forward else "Move back", "Advance" if forward else "Move back",
                  [section(what), note], metadata(stamp=stamp, channel=channel))


def pipeline_line(p: Pipeline, owner_id: str, admins: frozenset[str] = frozenset(),
                  requester: str | None = None) -> str:
    """The production stage and its gate (who besides ``requester`` may pass it), as people
    read it."""
    if not p.stages:
        return f"`{escape(p.name)}`: no stages"
    prod = p.stages[production_index(p.stages)]
    gate = prod.approval
    if gate is None:
        guard = "no approval gate"
    else:
        plural = "s" if gate.required != 1 else ""
        who = approvers_words(of_gate(gate, owner_id, admins, requester)) or "nobody else"
        guard = f"gate: {gate.required} approval{plural} from {who}"
    dry = " (dry run)" if p.is_dry_run else ""
    return f"`{escape(p.name)}`{dry} → production stage *{escape(prod.name)}*, {guard}"


def _option(value: str) -> Option:
    return Option(value=value[:150], text=PlainTextObject(text=clip(value, MAX_OPTION_TEXT)))


def deploy_dialog(uc: UseCase, versions: Sequence[str], pipelines: Sequence[Pipeline],
                  default: str, channel: str, frozen: str = "", *,
                  admins: frozenset[str] = frozenset(), requester: str | None = None
                  ) -> dict[str, Any]:
    """`/deploy <slug>` without a version and the card's Deploy…: what, how, and the gate.
    Inside a freeze window (``frozen`` describes it; only admins get this far) it asks for the
    reason to pass it, as `override="…"` does."""
    blocks: list[Block] = [section(f"Deploy *{uc.slug}* — {escape(clip(uc.title, 200))}")]
    if frozen:
        blocks += [section(clip(f"❄️ Deployments of *{uc.slug}* are frozen: {frozen}.", 3000)),
                   _text(ids.DEPLOY_OVERRIDE, "Why pass the freeze? (recorded and announced)",
                         max_length=500, placeholder="hotfix approved by the CFO")]
    options = [_option(v) for v in dict.fromkeys(versions)][:MAX_OPTIONS]
    if options:
        blocks.append(InputBlock(
            block_id=ids.DEPLOY_VERSION_PICKED, label=PlainTextObject(text="Recent version"),
            optional=True, element=StaticSelectElement(action_id=ids.DEPLOY_VERSION_PICKED,
                                                       options=options, initial_option=options[0])))
    blocks.append(_text(ids.DEPLOY_VERSION_TYPED, "Or type a version", optional=bool(options),
                        max_length=64, placeholder="1.4.0",
                        hint="A version typed here wins over the one picked above"))
    choices = [_option(p.name) for p in pipelines][:MAX_OPTIONS]
    initial = next((o for o in choices if o.value == default), choices[0] if choices else None)
    blocks.append(InputBlock(block_id=ids.DEPLOY_PIPELINE, label=PlainTextObject(text="Pipeline"),
                             element=StaticSelectElement(action_id=ids.DEPLOY_PIPELINE,
                                                         options=choices, initial_option=initial)))
    lines = [pipeline_line(p, uc.owner_id, admins, requester) for p in pipelines[:MAX_PIPELINE_LINES]]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(line, 3000)) for line in lines]
                               or [MarkdownTextObject(text="no pipelines")]))
    return _modal(ids.DEPLOY_DIALOG, "Deploy", "Deploy", blocks, metadata(slug=uc.slug, channel=channel))


def deploy_form(form: DeployForm) -> dict[str, Any]:
    """The deploy dialog the service made ready (bot/services/deploy_dialog.py)."""
    frozen = describe(form.frozen, form.tz) if form.frozen else ""
    return deploy_dialog(form.use_case, form.versions, form.pipelines, form.default, form.channel,
                         frozen, admins=form.admins, requester=form.requester)


def refused_dialog(title: str, refusal: Message) -> dict[str, Any]:
    """What a submitted dialog turns into when its action is refused (a lock, a deployment
    still running, a freeze): the refusal, where the form was, and only a Close button."""
    return View(type="modal", callback_id=ids.REFUSED_DIALOG, title=PlainTextObject(text=title),
                close=PlainTextObject(text="Close"), blocks=refusal.blocks).to_dict()

