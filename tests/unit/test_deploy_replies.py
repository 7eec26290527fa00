"""The answers to whoever changed deployments, held word for word (the service returns the
facts: tests/unit/services/test_deployment_service.py)."""

from __future__ import annotations

import pytest

from bot.domain.deploy_results import (
    DeploymentCancelled,
    DeploymentStarted,
    DeployResult,
    DeploysLocked,
    DeploysUnlocked,
    RollbackStarted,
)
from bot.render.blocks import notice
from bot.render.deploy_replies import reply


@pytest.mark.parametrize(("done", "said"), [
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
])
def test_each_result_reads_as_before(done: DeployResult, said: str) -> None:
    assert reply(done).text == said


def test_a_message_already_made_passes_as_it_is() -> None:
    status = notice("No deployment is running.")
    assert reply(status) is status
