"""The Home tab worded from the facts HomeService gathers (bot/domain/home_facts.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.deployment_model import DeploymentState
from bot.domain.home_facts import GateWaiting, HomeFacts
from bot.render.dashboard_links import DashboardLinks
from bot.render.home_blocks import home
from tests.unit.test_blocks import SIX_WEEKS, T0, all_text, many
from tests.unit.test_dora import deployment


def test_the_facts_read_as_the_home_tab() -> None:
    gate = GateWaiting(12, "uc-0", "1.2.0", "prod", "UENG", timedelta(hours=3), 1, "tok-a", "tok-r")
    facts = HomeFacts("UOWNER", tuple(many(1)), T0, SIX_WEEKS, (gate,), (),
                      (("CGENERAL", "🆕 New use case *uc-0*\nsecond line"),), (), {}, {}, (), "UTC")
    text = all_text(home(facts)["blocks"])
    assert ("*uc-0 1.2.0 · prod (deployment 12)*\n"
            "requested by <@UENG> · waiting 3 hours · 1 more needed") in text
    assert "<#CGENERAL> 🆕 New use case *uc-0* second line" in text
    buttons = [e["value"] for b in home(facts)["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons[-2:] == ["tok-a", "tok-r"]


def test_under_links_each_use_case_gate_and_running_deployment_links_to_its_page() -> None:
    gate = GateWaiting(12, "uc-0", "1.2.0", "prod", "UENG", timedelta(hours=3), 1, "tok-a", "tok-r")
    running = deployment(13, None, state=DeploymentState.RUNNING, use_case="uc-0")
    facts = HomeFacts("UOWNER", tuple(many(1)), T0, SIX_WEEKS, (gate,), (running,), (), (), {},
                      {}, (), "UTC")
    base = "https://bot.example.com"
    text = all_text(home(facts, DashboardLinks(base))["blocks"])
    assert f"*<{base}/use-cases/uc-0|uc-0>* — " in text
    assert f"*<{base}/use-cases/uc-0?deployment=12#deployment-12|uc-0 1.2.0 · prod (deployment 12)>*" in text
    assert f"• <{base}/use-cases/uc-0?deployment=13#deployment-13|Deployment 13: uc-0 " in text
    assert base not in all_text(home(facts)["blocks"])  # no public URL: no links
