"""The event bus: each committed event to the handlers its table lists, in order; one failing
handler is logged and does not keep the others from running."""

from __future__ import annotations

import logging

import pytest

from bot.runtime.bus import EventBus
from bot.services.events import DeploymentChanged, MessageQueued, StepStopped


def test_each_event_goes_to_the_handlers_of_its_kind_in_order() -> None:
    seen: list[str] = []
    bus = EventBus()
    bus.handle({
        DeploymentChanged: [lambda e: seen.append(f"engine {e.deployment_id}"),
                            lambda e: seen.append(f"home {e.deployment_id}")],
        StepStopped: [lambda e: seen.append(f"kill {e.deployment_id}")],
    })
    bus.publish([DeploymentChanged(1), MessageQueued(), StepStopped(2)])
    assert seen == ["engine 1", "home 1", "kill 2"]  # nobody listed for MessageQueued: fine


def test_a_failing_handler_is_logged_and_the_rest_still_run(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def broken(_event: object) -> None:
        raise RuntimeError("boom")

    bus = EventBus()
    bus.handle({MessageQueued: [broken, lambda _e: seen.append("outbox")]})
    with caplog.at_level(logging.ERROR):
        bus.publish([MessageQueued(), MessageQueued()])
    assert seen == ["outbox", "outbox"]
    assert [r.getMessage() for r in caplog.records] == ["action=event_handler_error event=MessageQueued"] * 2
