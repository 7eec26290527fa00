"""The answers to whoever ran a `/deploy` command, what those commands tell the channel and
their refusals, held word for word (the service returns the facts:
tests/unit/services/test_deployment_service.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.deploy_command_cards import LockAnnounced, StartedDespiteFreeze, UnlockAnnounced
from bot.domain.deploy_results import (
    DeployAnswer,
    DeployHistory,
    DeploymentCancelled,
    DeploymentStarted,
    DeploysLocked,
    DeploysUnlocked,
    NotifyPreference,
    RollbackStarted,
    RunningNow,
    UseCaseStatus,
)
from bot.domain.deployment_model import DeploymentState
from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.domain.freeze_passage import Passage
from bot.domain.freezes import FreezeWindow
from bot.domain.locks import DeployLock
from bot.render.cards import words
from bot.render.deploy_replies import reply
from bot.render.refusals import said

NOW = datetime(2026, 4, 3, 9, 30, tzinfo=UTC)
LOCK = DeployLock("churn", "U_ENG", datetime(2026, 4, 3, 8, 0, tzinfo=UTC), "quarter end")

QUARTER = FreezeWindow(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 3, 18, tzinfo=UTC),
                       "R&D close")


@pytest.mark.parametrize(("done", "text"), [
    (DeploymentStarted(7, "churn", "1.4.0", "CCHURN"),
     "🚀 Deployment 7 of *churn* `1.4.0` started; follow it in <#CCHURN>."),
    (DeploymentStarted(8, "churn", "1.4.1", "CCHURN", dry_run=True),
     "🚀 Deployment 8 of *churn* `1.4.1` started; follow it in <#CCHURN>. It is a *dry run*: "
     "nothing is deployed."),
    (RollbackStarted(9, "churn", "1.3.0", "CCHURN"),
     "⏪ Rollback 9: *churn* back to `1.3.0`; follow it in <#CCHURN>."),
    (DeploymentCancelled(7, "churn", "1.4.0"), "⏹️ Deployment 7 of *churn* `1.4.0` is cancelled."),
    (DeploysLocked("churn"), "🔒 Deployments of *churn* are locked until `/deploy unlock churn`."),
    (DeploysUnlocked("churn"), "🔓 Deployments of *churn* are unlocked."),
    (NotifyPreference(True, changed=False),
     "🔔 Direct messages about your own deployments are *on*. Turn them off with "
     "`/deploy notify off`."),
    (NotifyPreference(False, changed=True),
     "🔔 Direct messages about your own deployments are now *off*. Turn them on with "
     "`/deploy notify on`."),
    (RunningNow((), (), "UTC"), "No deployment is running. Start one with `/deploy <slug> <version>`."),
    (DeployHistory("churn", (), "UTC"), "No deployments of churn yet."),
    (UseCaseStatus("churn", None, (), None, LOCK, (), NOW, "UTC"),
     "🎯 *In production:* never deployed\n"
     "🔒 Locked by <@U_ENG> since 2026-04-03 08:00 UTC (1 hour 30 minutes): quarter end\n"
     "No deployments of *churn* yet."),
])
def test_each_answer_reads_as_before(done: DeployAnswer, text: str) -> None:
    assert reply(done).text == text


@pytest.mark.parametrize(("card", "text"), [
    (StartedDespiteFreeze("U_ADMIN", 12, "churn", "2.0", Passage("hotfix & co", (QUARTER,)),
                          "Europe/Berlin"),
     "⚠️ <@U_ADMIN> started deployment 12 of *churn* `2.0` despite a freeze: hotfix &amp; co "
     "(passes the freeze “R&amp;D close” (ad hoc) until 2026-04-03 20:00 CEST)"),
    (LockAnnounced("U_ENG", "churn", "a <b> & c"),
     "🔒 <@U_ENG> locked deployments of *churn*: a &lt;b&gt; &amp; c"),
    (LockAnnounced("U_ENG", "churn", ""), "🔒 <@U_ENG> locked deployments of *churn*"),
    (UnlockAnnounced("U_OWNER", "churn"), "🔓 <@U_OWNER> unlocked deployments of *churn*."),
])
def test_what_the_channel_hears(card: object, text: str) -> None:
    assert words(card).text == text


@pytest.mark.parametrize(("refused", "text"), [
    (NotAllowed("deployers_only", doing="cancel", slug="churn", owner="U_OWNER", team=("U_ENG",)),
     "Only the owner <@U_OWNER>, the team's data engineers and devops engineers (<@U_ENG>) or an "
     "admin may cancel deployments of `churn`."),
    (NotAllowed("pipeline_starters_only", allowed=("devops", "U_RM"), pipeline="prod", slug="churn"),
     "Only admins, the team's devops engineers or <@U_RM> may start the `prod` pipeline of `churn`."),
    (DomainError("unknown_pipeline", name="a*b", known=("gated", "open")),
     "There is no pipeline `a*b`; known: `gated`, `open`."),
    (Conflict("deploys_locked", slug="churn", lock=LOCK, tz="UTC"),
     "🔒 `churn` is locked by <@U_ENG> since 2026-04-03 08:00 UTC: quarter end. Unlock it with "
     "`/deploy unlock churn`."),
    (Conflict("deployment_still_active", deployment_id=4, slug="churn", version="1.0",
              requested_by="U_ENG", state=DeploymentState.AWAITING_APPROVAL, stage="prod"),
     "Deployment 4 of `churn` (`1.0`, requested by <@U_ENG>) is still awaiting approval at stage "
     "*prod*. Wait for it or cancel it with `/deploy cancel 4`."),
    (Conflict("already_locked", slug="churn", lock=LOCK, now=NOW, tz="UTC"),
     "`churn` is already locked. 🔒 Locked by <@U_ENG> since 2026-04-03 08:00 UTC (1 hour 30 minutes): "
     "quarter end"),
    (Conflict("deploy_raced", slug="churn"),
     "Another deployment of `churn` started just now; see `/deploy status churn`."),
])
def test_refusals_read_as_before(refused: DomainError, text: str) -> None:
    assert said(refused) == text
