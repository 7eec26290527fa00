"""MLflow registry events and signatures (pure), and the mlflow executor's timeout and
cancellation against a stand-in client."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

import pytest

from bot.domain.changes import Change, ChangeKind
from bot.domain.executor_specs import MlflowSpec
from bot.domain.registry import (
    BadDelivery,
    IgnoredEvent,
    ModelVersion,
    RegistryEvent,
    TagMismatch,
    parse_registry_event,
    sign_mlflow,
    tag_mismatches,
    verify_mlflow_signature,
)
from bot.executors.base import Outcome, StageJob
from bot.executors.mlflow import MlflowExecutor
from bot.sources.mlflow_rest import MlflowRest

NOW = 1_760_000_000


def test_a_signature_is_good_for_five_minutes_either_way() -> None:
    body = b'{"entity": "model_version"}'
    for age in (-300, 0, 300):
        ts = str(NOW - age)
        assert verify_mlflow_signature("s", "d1", ts, body, sign_mlflow("s", "d1", ts, body), now=NOW)
    for age in (-301, 301):
        ts = str(NOW - age)
        assert not verify_mlflow_signature("s", "d1", ts, body, sign_mlflow("s", "d1", ts, body), now=NOW)


def test_a_signature_covers_delivery_timestamp_and_body() -> None:
    ts, body = str(NOW), b"{}"
    good = sign_mlflow("s", "d1", ts, body)
    assert good.startswith("v1,")
    assert verify_mlflow_signature("s", "d1", ts, body, f"v1,bm9wZQ== {good}", now=NOW)  # any of several
    assert not verify_mlflow_signature("s", "d2", ts, body, good, now=NOW)
    assert not verify_mlflow_signature("s", "d1", ts, b"{ }", good, now=NOW)
    assert not verify_mlflow_signature("t", "d1", ts, body, good, now=NOW)
    assert not verify_mlflow_signature("", "d1", ts, body, sign_mlflow("", "d1", ts, body), now=NOW)
    assert not verify_mlflow_signature("s", "d1", "1e9", body, good, now=NOW)
    assert not verify_mlflow_signature("s", "d1", ts, body, "v1,ü" + good, now=NOW)


def test_alias_and_tag_events_are_read() -> None:
    moved = parse_registry_event("d", {"entity": "MODEL_VERSION_ALIAS", "action": "CREATED",
                                       "data": {"name": "churn", "alias": "champion", "version": "3"}})
    assert (moved.kind, moved.model, moved.alias, moved.version) == (
        "model_version_alias.created", "churn", "champion", "3")
    gone = parse_registry_event("d", {"entity": "model_version_alias", "action": "deleted",
                                      "data": {"name": "churn", "alias": "champion"}})
    assert (gone.kind, gone.version) == ("model_version_alias.deleted", "")
    tag = parse_registry_event("d", {"entity": "model_version_tag", "action": "set",
                                     "data": {"name": "churn", "version": "3", "key": "validation",
                                              "value": "passed"}})
    assert tag.tags == (("validation", "passed"),)


@pytest.mark.parametrize(("payload", "field", "must"), [
    ([1], "", "json_object"),
    ({"entity": "model_version", "action": "created", "data": []}, "data", "json_object"),
    ({"entity": "model version", "action": "created"}, "entity", "event_name"),
    ({"entity": "model_version", "action": "created", "data": {"name": "m", "version": "0"}},
     "data.version", "version"),
    ({"entity": "model_version", "action": "created", "data": {"name": "m", "version": "1", "tags": [1]}},
     "data.tags", "strings"),
    ({"entity": "model_version", "action": "created", "data": {"name": "", "version": "1"}},
     "data.name", "non_empty_string"),
    ({"entity": "model_version", "action": "created",
      "data": {"name": "m", "version": "1", "run_id": 7}}, "data.run_id", "string"),
])
def test_shapes_we_do_not_understand_are_named(payload: object, field: str, must: str) -> None:
    with pytest.raises(BadDelivery) as bad:
        parse_registry_event("d", payload)
    assert (bad.value.field, bad.value.must) == (field, must)


@pytest.mark.parametrize("alias", ["a" * 256, "champ\x00ion", "champ ion", "🏆"])
def test_an_alias_mlflow_would_never_send_is_refused_as_data(alias: str) -> None:
    # A 400 (never a 5xx, which MLflow retries forever), whatever the database could store.
    with pytest.raises(BadDelivery) as bad:
        parse_registry_event("d", {"entity": "model_version_alias", "action": "created",
                                   "data": {"name": "churn", "alias": alias, "version": "3"}})
    assert (bad.value.field, bad.value.must) == ("data.alias", "alias")


@pytest.mark.parametrize("model", ["m" * 129, "churn\x00", "-churn", "churn/x"])
def test_a_model_no_use_case_can_be_linked_to_is_ignored(model: str) -> None:
    with pytest.raises(IgnoredEvent) as ignored:
        parse_registry_event("d", {"entity": "model_version_alias", "action": "created",
                                   "data": {"name": model, "alias": "champion", "version": "3"}})
    assert (ignored.value.kind, ignored.value.unlinkable) == ("model_version_alias.created", True)


def test_other_kinds_are_ignored_not_refused() -> None:
    with pytest.raises(IgnoredEvent) as ignored:
        parse_registry_event("d", {"entity": "registered_model", "action": "created", "data": {}})
    assert (ignored.value.kind, ignored.value.unlinkable) == ("registered_model.created", False)


def test_a_version_lacking_required_tags_names_each_mismatch_in_order() -> None:
    version = ModelVersion("churn", "2", "READY", tags=(("validation", "pending"), ("team", "ds")))
    required = (("validation", "passed"), ("team", "ds"), ("owner", "ds-team"))
    assert tag_mismatches(version, required) == [TagMismatch("validation", "passed", "pending"),
                                                  TagMismatch("owner", "ds-team", None)]


class SlowRest:
    """Answers every read at once; setting the alias hangs (a stuck MLflow)."""

    def __init__(self) -> None:
        self.alias: str | None = "1"
        self.set_calls: list[str] = []

    def mask(self, text: str) -> str:
        return text

    def version_url(self, model: str, version: str) -> str | None:
        return None

    async def model_version(self, model: str, version: str) -> ModelVersion:
        return ModelVersion(model, version, "READY")

    async def alias_version(self, model: str, alias: str) -> str | None:
        return self.alias

    async def set_alias(self, model: str, alias: str, version: str) -> None:
        self.set_calls.append(version)
        if version == "2":
            self.alias = "2"  # MLflow did it, but the answer never comes
            await asyncio.sleep(3600)
        self.alias = version


def run(executor: MlflowExecutor, timeout: float) -> Any:
    job = StageJob("1", "churn", "2", "prod", None, (), "", "U1", model="churn")
    spec = MlflowSpec(alias="champion")
    return executor.run(spec, job, timeout=timedelta(seconds=timeout))


async def test_a_timeout_while_moving_fails_but_keeps_the_undo() -> None:
    result = await run(MlflowExecutor(cast(MlflowRest, SlowRest())), 0.2)
    assert result.outcome is Outcome.FAILED and result.detail == "MLflow did not answer within 0.2 s"
    assert result.undo == {"model": "churn", "alias": "champion", "version": "1", "deployed": "2"}
    assert result.change == Change(ChangeKind.MODEL_VERSION, "2")  # found before it stuck


async def test_the_undo_is_given_before_the_alias_moves_and_a_refused_intent_moves_nothing() -> None:
    rest, said = SlowRest(), []

    async def intends(data: dict[str, str]) -> bool:
        said.append((dict(data), list(rest.set_calls)))
        return False  # the step is no longer running (cancelled meanwhile)

    job = StageJob("1", "churn", "2", "prod", None, (), "", "U1", model="churn")
    result = await MlflowExecutor(cast(MlflowRest, rest)).run(
        MlflowSpec(alias="champion"), job, timeout=timedelta(seconds=5),
        intends=intends)
    assert said == [({"model": "churn", "alias": "champion", "version": "1", "deployed": "2"}, [])]
    assert result.outcome is Outcome.FAILED and rest.set_calls == [] and result.undo is None


async def test_an_undo_of_a_move_that_never_happened_says_the_alias_is_back() -> None:
    rest = SlowRest()  # champion still at v1: the bot died before its call reached MLflow
    line = await MlflowExecutor(cast(MlflowRest, rest)).undo(
        {"model": "churn", "alias": "champion", "version": "1", "deployed": "2"})
    assert line == "`churn@champion` points back at v1" and rest.set_calls == []


def test_an_event_is_a_value() -> None:
    assert RegistryEvent("d", "model_version", "created", "m", "1").kind == "model_version.created"
