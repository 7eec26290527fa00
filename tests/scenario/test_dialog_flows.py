"""Dialogs driven like Slack drives them: the button or command that opens one, then a
`view_submission` payload with `state.values` shaped as Slack sends it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.domain.usecases import Phase
from bot.simulator.signer import view_submission_body
from bot.simulator.simulator import Simulator, Step
from tests.scenario.deploy_helpers import deployment, press
from tests.scenario.helpers import reply_text, row_counts
from tests.scenario.test_home import press_on_home
from tests.scenario.test_shell_script import _shell


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def new_values(**fields: str) -> dict[str, Any]:
    """state.values of the New use case dialog, each input under its block_id and action_id."""
    base = {"slug": "churn", "title": "Predict churn", "owner": "UBOB", "channel": "COPS"}
    merged = {**base, **fields}
    values: dict[str, Any] = {}
    for key, value in merged.items():
        if key == "owner":
            state = {"type": "users_select", "selected_user": value or None}
        elif key == "channel":
            state = {"type": "conversations_select", "selected_conversation": value or None}
        else:
            state = text(value or None)
        values[key] = {key: state}
    return values


async def submit_view(sim: Simulator, values: dict[str, Any]) -> Step:
    view = sim.fake.opened_views[-1]
    submitted = {**view, "id": "V0SUBMIT", "state": {"values": values}}
    body = view_submission_body(user_id=sim.user, user_name=sim.name_of(sim.user),
                                team_id=sim.fake.team_id, view=submitted, trigger_id="9.9.t")
    return await sim.send_signed(body, settle=sim.answered())


def told(sim: Simulator, user: str) -> str:
    """What ``user`` was told privately after a dialog or a card's button (ephemeral or DM)."""
    calls = sim.fake.calls_to("chat.postEphemeral") + [
        c for c in sim.fake.calls_to("chat.postMessage") if c.args.get("channel") == user]
    return " ".join(c.args.get("text", "") for c in calls if c.args.get("user", user) == user)


async def card(sim: Simulator, slug: str = "churn") -> dict[str, Any]:
    step = await sim.command(f"/usecase show {slug}")
    assert step.reply is not None
    return {**step.reply, "channel": sim.channel}


def actions_of(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


# ── New use case ───────────────────────────────────────────────────────────────────────────


async def test_usecase_new_opens_the_dialog_and_its_submission_creates_the_use_case(
    sim: Simulator,
) -> None:
    before = await row_counts(sim)
    step = await sim.command("/usecase new")
    assert step.status == 200 and step.reply is None  # acked; the dialog is the answer
    [view] = sim.fake.opened_views
    assert view["callback_id"] == "usecase_new"
    assert view["blocks"][3]["element"]["initial_user"] == "UALICE"
    assert view["blocks"][4]["element"]["initial_conversation"] == "CGENERAL"
    assert await row_counts(sim) == before

    step = await submit_view(sim, new_values(problem="Customers leave & we don't know why",
                                             kpi="auc", kpi_target=">= 0.83"))

    assert step.reply is None  # closed: no errors
    async with sim.app.db.uow() as uow:
        uc = await uow.use_cases.get("churn")
        targets = await uow.metrics.targets("churn")
    assert uc is not None and (uc.owner_id, uc.channel_id) == ("UBOB", "COPS")
    assert (uc.problem, uc.kpi) == ("Customers leave & we don't know why", "auc")
    assert (targets["auc"].op, targets["auc"].value) == (">=", 0.83)
    assert "Created *churn* in Biz" in told(sim, "UALICE")
    shown = reply_text(await sim.command("/usecase show churn"))
    assert "*Success KPI:* `auc` ≥ 0.83" in shown and "Customers leave &amp; we don't know why" in shown


async def test_bad_fields_are_answered_inline_with_the_commands_words_and_nothing_is_stored(
    sim: Simulator,
) -> None:
    command_says = reply_text(await sim.command('/usecase new Churn! "Predict churn"'))
    await sim.command("/usecase new")
    before = await row_counts(sim)

    step = await submit_view(sim, new_values(slug="Churn!", title="t" * 201, kpi_target="about 0.8",
                                             owner="", channel="COPS"))

    assert step.reply is not None and step.reply["response_action"] == "errors"
    errors = step.reply["errors"]
    assert set(errors) == {"slug", "title", "kpi_target", "owner"}
    assert errors["slug"] in command_says  # one set of rules, one set of words
    assert "at most 200" in errors["title"] and "e.g. `>= 0.83`" in errors["kpi_target"]
    assert errors["owner"] == "Pick an owner."
    assert await row_counts(sim) == before


async def test_an_empty_slug_is_made_from_the_title(sim: Simulator) -> None:
    await sim.command("/usecase new")
    step = await submit_view(sim, new_values(slug="", title="Predict Customer Churn (EU)"))
    assert step.reply is None
    async with sim.app.db.uow() as uow:
        assert await uow.use_cases.get("predict-customer-churn-eu") is not None
    await sim.command("/usecase new")
    step = await submit_view(sim, new_values(slug="", title="¿¡!"))
    assert step.reply is not None
    assert step.reply["errors"] == {"slug": "The title makes no slug: type one (e.g. `churn-model`)."}


async def test_a_taken_slug_is_refused_privately(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase new")
    before = await row_counts(sim)
    await submit_view(sim, new_values())
    assert "A use case `churn` exists already" in told(sim, "UALICE")
    assert await row_counts(sim) == before


async def test_the_home_tab_opens_the_same_dialog_and_answers_in_the_dm(sim: Simulator) -> None:
    _step, home = await sim.open_home()
    assert home is not None
    await press_on_home(sim, home, "home_usecase_new")
    [view] = sim.fake.opened_views
    assert view["callback_id"] == "usecase_new"
    assert "initial_conversation" not in view["blocks"][4]["element"]
    await submit_view(sim, new_values(owner="UALICE"))
    assert any("Created *churn*" in c.args.get("text", "") for c in sim.fake.calls_to("chat.postMessage")
               if c.args.get("channel") == "UALICE")
    assert "*churn* — Predict churn" in json.dumps(sim.fake.views["UALICE"], ensure_ascii=False)


# ── the card's buttons ─────────────────────────────────────────────────────────────────────


async def test_the_card_offers_what_the_viewer_may_do_and_advance_asks_for_a_note(
    sim: Simulator,
) -> None:
    await sim.command('/usecase new churn "Predict churn" owner=@bob')
    sim.switch_user("dave")
    assert actions_of(await card(sim)) == []
    sim.switch_user("bob")
    mine = await card(sim)
    assert actions_of(mine) == ["usecase_advance", "usecase_deploy"]

    await press(sim, mine, "usecase_advance")
    assert sim.fake.opened_views[-1]["callback_id"] == "usecase_advance_note"
    await sim.submit('note="signed off by sales"')

    async with sim.app.db.uow() as uow:
        uc = await uow.use_cases.get("churn")
    assert uc is not None and uc.phase is Phase.DEV
    assert uc.history[-1].note == "signed off by sales"
    assert actions_of(await card(sim)) == ["usecase_advance", "usecase_back", "usecase_deploy"]


async def test_back_needs_a_reason_inline(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase advance churn")
    await press(sim, await card(sim), "usecase_back")
    with pytest.raises(LookupError, match="Reason is required"):  # Slack's client says so itself
        await sim.submit("note=")
    step = await submit_view(sim, {"note": {"note": text("   ")}})  # a payload that passed it
    assert step.reply == {"response_action": "errors", "errors": {"note": "Say why, so the team knows."}}
    await sim.submit('note="precision dropped"')
    async with sim.app.db.uow() as uow:
        uc = await uow.use_cases.get("churn")
    assert uc is not None and uc.phase is Phase.BIZ


async def test_a_card_button_is_checked_again_at_click_time(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn" owner=@bob')
    sim.switch_user("bob")
    bobs = await card(sim)
    sim.switch_user("dave")  # replays bob's card: not the owner, no admin
    opened = len(sim.fake.opened_views)
    await press(sim, bobs, "usecase_advance")
    assert len(sim.fake.opened_views) == opened
    assert "Only the owner <@UBOB> or an admin may advance `churn`" in told(sim, "UDAVE")

    sim.switch_user("bob")
    await sim.command("/usecase advance churn")  # the card is now out of date
    await press(sim, bobs, "usecase_advance")
    assert len(sim.fake.opened_views) == opened
    assert "This card is out of date" in told(sim, "UBOB")
    async with sim.app.db.uow() as uow:
        uc = await uow.use_cases.get("churn")
    assert uc is not None and uc.phase is Phase.DEV


async def test_permission_lost_while_the_dialog_was_open_changes_nothing(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn" owner=@bob')
    sim.switch_user("bob")
    await press(sim, await card(sim), "usecase_advance")
    sim.switch_user("alice")
    await sim.command("/usecase owner churn @dave")  # handed over meanwhile
    sim.switch_user("bob")
    await sim.submit("note=go")
    assert "Only the owner <@UDAVE> or an admin may advance `churn`" in told(sim, "UBOB")
    async with sim.app.db.uow() as uow:
        uc = await uow.use_cases.get("churn")
    assert uc is not None and uc.phase is Phase.BIZ


# ── the deploy dialog ──────────────────────────────────────────────────────────────────────


async def test_deploy_without_a_version_opens_the_dialog_and_starts_the_deployment(
    sim: Simulator,
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/usecase team churn add @erin devops")
    sim.switch_user("erin")
    await sim.command("/deploy churn 0.9.0")
    await sim.command("/deploy cancel 1")
    await sim.command("/deploy churn")
    view = sim.fake.opened_views[-1]
    assert view["callback_id"] == "deploy_start"
    picker = next(b for b in view["blocks"] if b.get("block_id") == "recent_version")
    assert [o["value"] for o in picker["element"]["options"]] == ["0.9.0"]
    assert "production stage *deploy*" in json.dumps(view["blocks"])

    step = await sim.submit("version=not/a/version")
    assert step.reply is not None and "is not a valid version" in step.reply["errors"]["version"]
    await sim.submit("version=1.0.0")

    assert "Deployment 2 of *churn* `1.0.0` started" in told(sim, "UERIN")
    d = await deployment(sim, 2)
    assert (d.version, d.requested_by, d.pipeline) == ("1.0.0", "UERIN", "default")


async def test_deploy_dialog_refusals(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn" owner=@bob')  # alice (admin) deploys
    sim.switch_user("dave")
    await sim.command("/deploy churn")
    assert sim.fake.opened_views == []
    assert "may deploy `churn`" in told(sim, "UDAVE")
    sim.switch_user("alice")
    await sim.command("/deploy churn")
    await sim.command('/deploy lock churn "quarter end"')  # locked while the dialog was open
    step = await sim.submit("version=1.0.0")
    # Said in place of the form, before it closes: not in a message after it.
    assert step.reply is not None and step.reply["response_action"] == "update"
    refused = json.dumps(step.reply["view"]["blocks"])
    assert "is locked by <@UALICE>" in refused and "submit" not in step.reply["view"]
    assert "locked" not in told(sim, "UALICE")
    await sim.command("/deploy unlock churn")
    await sim.command("/deploy churn 1.0.0")
    await sim.command("/deploy churn")  # a deployment is still running
    step = await sim.submit("version=1.1.0")
    assert "is still" in json.dumps(step.reply["view"]["blocks"]) and "/deploy cancel 1" in \
        json.dumps(step.reply["view"]["blocks"])
    async with sim.app.db.uow() as uow:
        assert await uow.deployments.get(2) is None


async def test_the_deploy_dialog_refuses_a_gate_nobody_else_could_pass(sim: Simulator) -> None:
    """No dead ends: alice owns churn and is the only admin; her deployment would wait for an
    approval nobody may give, so the dialog never opens and she is told what would unblock it."""
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/deploy churn")
    assert sim.fake.opened_views == []
    said = told(sim, "UALICE")
    assert "Not started: *deploy* needs 1 approval from the owner <@UALICE> (the only admin)" in said
    assert "add another admin to `BIZDEVOPS_ADMINS`" in said and "ask <@UALICE>" not in said
    async with sim.app.db.uow() as uow:
        assert await uow.deployments.active_for("churn") is None


# ── the simulator fills dialogs as Slack would ─────────────────────────────────────────────


async def test_the_simulator_refuses_what_slack_would(sim: Simulator) -> None:
    await sim.command("/usecase new")
    with pytest.raises(LookupError, match="Title is required"):
        await sim.submit("slug=churn")
    await sim.command('/usecase new churn "Predict churn" owner=@bob')
    await sim.command("/deploy churn")
    with pytest.raises(LookupError, match="is not one of the options"):
        await sim.submit("version=1.0 pipeline=nope")


def test_a_shell_session_fills_dialogs_by_field(tmp_path: Path) -> None:
    done = _shell(tmp_path, """\
/usecase new
submit slug=Churn title="Predict churn"
submit slug=churn title="Predict churn" owner=@bob channel=#ops kpi=auc kpi_target=">= 0.8"
as @bob
/usecase show churn
click advance
submit note=kick-off
""")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Slug (slug=) (optional): [ ]" in out and "Owner (owner=): [@alice]" in out
    assert "✗ slug: `Churn` is not a valid slug" in out
    assert "Created churn in Biz; announced in #ops" in out
    assert "[1 Advance] [2 Deploy…]" in out
    assert "churn moved: 💼 Biz → 🛠️ Dev" in out and "Note: kick-off" in out
