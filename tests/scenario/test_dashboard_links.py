"""Between Slack and the web (SPEC "Web dashboard"): with a public URL, use case cards,
deployment messages, approval requests, `/deploy status` and Home link to their dashboard page
and digests to their channel's use cases; a pasted link to a use case's page unfurls into its
summary — sent through the outbox to the fake Slack's ``chat.unfurl``, only where the use case
may be seen, once however often Slack retries the event; the shell's `say` shows it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.simulator.fake_slack_state import FakeMessage
from bot.simulator.pasting import link_shared_body
from bot.simulator.simulator import Simulator, Step
from tests.scenario.deploy_helpers import latest, press
from tests.scenario.helpers import post_text, posts, private_reply

OPEN = "Open in the dashboard"


@pytest.fixture
async def linked(settings: Settings, clock: ManualClock) -> AsyncIterator[Simulator]:
    """The bot with BIZDEVOPS_PUBLIC_URL set: the simulator's own address is the public URL."""
    async with Simulator(replace(settings, links=True), clock=clock) as simulator:
        yield simulator


def page(sim: Simulator, slug: str = "churn") -> str:
    return f"{sim.base_url}/use-cases/{slug}"


def links_in(message: dict[str, Any]) -> list[str]:
    """The dashboard links a message's blocks carry."""
    text = json.dumps(message.get("blocks", []), ensure_ascii=False)
    return [part.split("|")[0] for part in text.split("<")[1:] if part.split(">")[0].endswith(f"|{OPEN}")]


async def _use_case_to_the_gate(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')  # alice (admin) owns it
    await sim.command("/usecase team churn add @erin devops")
    await sim.command("/usecase advance churn")
    sim.switch_user("erin")
    await sim.command("/deploy churn 1.0.0")
    sim.switch_user("alice")


async def test_cards_and_deployment_messages_link_to_their_page(linked: Simulator) -> None:
    sim = linked
    await _use_case_to_the_gate(sim)
    shown = private_reply(await sim.command("/usecase show churn"))

    created, moved = (p for p in posts(sim) if p["text"].startswith(("New use case", "churn moved")))
    for card in (created, moved, shown):
        assert links_in(card) == [page(sim)], post_text(card)
    at_gate = latest(sim)
    one = f"{page(sim)}?deployment=1#deployment-1"  # the page of deployments starting with it
    assert links_in(at_gate) == [one]
    [asked] = [p for p in posts(sim) if "asks for your approval" in p["text"]]  # alice's DM
    assert links_in(asked) == [one]
    for status in ("/deploy status churn", "/deploy status 1"):
        assert links_in(private_reply(await sim.command(status))) == [one]
    _step, home = await sim.open_home()  # alice's: her use case, the gate she decides
    assert home is not None
    shown_home = json.dumps(home["blocks"], ensure_ascii=False)
    assert f"<{page(sim)}|churn>" in shown_home
    assert f"<{one}|churn 1.0.0 · deploy (deployment 1)>" in shown_home
    await press(sim, at_gate, "deploy_approve")
    ended = [p for p in posts(sim) if p["text"].startswith("Deployment 1: churn 1.0.0")
             and "succeeded" in p["text"]]
    assert [links_in(p) for p in ended] == [[one]]
    assert links_in(latest(sim)) == [one]  # edited in place, still linked


async def test_digests_link_the_use_cases_of_their_channel(linked: Simulator, clock: ManualClock) -> None:
    sim = linked
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/digest now")
    await sim.command('/digest schedule "0 9 * * *" tz=UTC')
    clock.advance(timedelta(days=1))
    assert await sim.app.scheduler.fire(sim.channel) is True
    await sim.app.settle()

    digests = [p for p in posts(sim) if "BizDevOps digest" in p["blocks"][0]["text"]["text"]]
    assert len(digests) == 2, [p["text"] for p in posts(sim)]
    for digest in digests:  # in the period's line, under the header
        assert links_in(digest) == [f"{sim.base_url}/?channel={sim.channel}"]
        assert OPEN in digest["blocks"][1]["elements"][0]["text"]

    sim.switch_channel("random")  # homes no use case: its digest covers every public channel's
    await sim.command("/digest now")
    [elsewhere] = posts(sim, sim.channel)
    assert links_in(elsewhere) == [f"{sim.base_url}/"]
    assert "the use cases of every public channel" in elsewhere["blocks"][1]["elements"][0]["text"]


async def test_without_a_public_url_nothing_links(sim: Simulator) -> None:
    await _use_case_to_the_gate(sim)
    await sim.command("/digest now")
    shown = private_reply(await sim.command("/usecase show churn"))
    status = private_reply(await sim.command("/deploy status churn"))
    for message in [*posts(sim), shown, status, latest(sim)]:
        assert OPEN not in post_text(message)
    _step, home = await sim.open_home()
    assert home is not None and "/use-cases/" not in json.dumps(home["blocks"])


# ── unfurls ────────────────────────────────────────────────────────────────────────────────

async def paste(sim: Simulator, *urls: str, composing: bool = False,
                retries: int = 0) -> tuple[FakeMessage, list[Step | int]]:
    """The current user posts (or writes) a message with ``urls`` in the current channel; Slack
    sends ``link_shared`` for it, signed, and again ``retries`` times as a retry."""
    message = sim.fake.person_says(sim.user, sim.channel, " ".join(f"<{u}>" for u in urls),
                                   composing=composing)
    body = link_shared_body(sim, message, urls, composing=composing)
    steps: list[Step | int] = [await sim.send_signed(body)]
    for retry in range(1, retries + 1):
        async with sim.http.post(sim.url, data=body.encode(),
                                 headers=sim.signer.headers(body, retry_num=retry)) as response:
            steps.append(response.status)
        await sim.app.background.settle()
        await sim.app.settle()
    return message, steps


def unfurls(sim: Simulator) -> list[dict[str, Any]]:
    return [c.args for c in sim.fake.calls if c.method == "chat.unfurl"]


async def test_a_pasted_link_to_a_use_case_unfurls_into_its_summary(linked: Simulator) -> None:
    sim = linked
    await sim.command('/usecase new churn "Predict churn"')
    await sim.command("/metric target churn auc >= 0.8")
    await sim.command("/metric record churn auc 0.83")
    sim.switch_user("bob")
    sim.switch_channel("ops")
    url = f"{page(sim)}?deployment=4#deployment-4"

    message, [step] = await paste(sim, url, "https://example.org/use-cases/churn")

    assert isinstance(step, Step) and step.status == 200
    [sent] = sim.fake.calls_to("chat.unfurl")
    assert (sent.args["channel"], sent.args["ts"]) == (message.channel, message.ts)
    assert list(message.unfurls) == [url]  # Slack took it: the other host is not ours
    preview = message.unfurls[url]
    assert preview["fallback"] == "churn — Predict churn: Biz, owner <@UALICE>"
    assert 0 < len(preview["blocks"]) <= 50
    text = post_text({"blocks": preview["blocks"]})
    assert "*churn — Predict churn*" in text and "owner <@UALICE>" in text
    assert "never deployed" in text
    assert "• *auc* 0.83 · ✅ met ≥ 0.8 ↑ (by 0.03)" in text


async def test_a_link_being_written_unfurls_in_the_composer(linked: Simulator) -> None:
    sim = linked
    await sim.command('/usecase new churn "Predict churn"')
    message, _ = await paste(sim, page(sim), composing=True)
    [sent] = sim.fake.calls_to("chat.unfurl")
    assert (sent.args["source"], sent.args["unfurl_id"]) == ("composer", message.unfurl_id)
    assert list(message.unfurls) == [page(sim)]


async def test_a_private_use_case_unfurls_only_in_its_own_channel(linked: Simulator) -> None:
    sim = linked
    sim.switch_channel("deals", private_with=["bob"])
    await sim.command('/usecase new deals "Deal scoring"')
    sim.switch_channel("general")
    elsewhere, _ = await paste(sim, page(sim, "deals"))
    written, _ = await paste(sim, page(sim, "deals"), composing=True)
    assert unfurls(sim) == [] and elsewhere.unfurls == written.unfurls == {}

    sim.switch_channel("deals")
    home, _ = await paste(sim, page(sim, "deals"))
    assert list(home.unfurls) == [page(sim, "deals")]


async def test_unknown_use_cases_other_hosts_and_other_pages_are_ignored(linked: Simulator) -> None:
    sim = linked
    await sim.command('/usecase new churn "Predict churn"')
    await paste(sim, page(sim, "nope"), f"{sim.base_url}/deployments?use_case=churn",
                f"{sim.base_url}/dora", "https://elsewhere.example.com/use-cases/churn")
    assert unfurls(sim) == []


async def test_without_a_public_url_nothing_unfurls(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    await paste(sim, page(sim))
    assert unfurls(sim) == []


async def test_a_retried_event_unfurls_once(linked: Simulator) -> None:
    sim = linked
    await sim.command('/usecase new churn "Predict churn"')
    message, [_first, *again] = await paste(sim, page(sim), retries=2)
    assert again == [200, 200]
    assert len(unfurls(sim)) == 1 and list(message.unfurls) == [page(sim)]
