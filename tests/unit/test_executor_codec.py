"""Every executor kind survives storage: spec → JSON → spec is the same spec, and the rows an
older bot wrote (and reads) keep their shape."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.executor_specs import (
    SPECS,
    CommandSpec,
    DryRunSpec,
    ExecutorSpec,
    GithubActionsSpec,
    KpiSpec,
    MlflowSpec,
    WebhookSpec,
)
from bot.domain.kpis import MaxDrop
from storage.executor_codec import executor_from_json, executor_to_json

st.register_type_strategy(timedelta, st.timedeltas(min_value=timedelta(),
                                                   max_value=timedelta(days=400)))
st.register_type_strategy(MaxDrop, st.builds(MaxDrop, st.floats(0, 1e6), st.booleans()))
every_spec = st.one_of([st.from_type(kind) for kind in SPECS.values()])


@given(every_spec)
def test_every_kind_reads_back_as_it_was_written(spec: ExecutorSpec) -> None:
    stored = json.loads(json.dumps(executor_to_json(spec)))  # as the JSON column keeps it
    assert executor_from_json(stored) == spec


def test_the_kinds_cover_every_executor() -> None:
    assert {k.value for k in SPECS} == {"webhook", "command", "dry-run", "kpi", "mlflow",
                                        "github-actions"}


def test_rows_written_before_the_union_read_back() -> None:
    """The shapes an older bot wrote: url/argv/delay on every row, other settings only when set."""
    old = {"kind": "webhook", "url": "https://ci.example/hook", "argv": [], "delay": 0.0}
    assert executor_from_json(old) == WebhookSpec("https://ci.example/hook")
    old = {"kind": "kpi", "url": "", "argv": [], "delay": 0.0,
           "kpi": {"name": "auc", "max_drop": [2.0, True]}}
    assert executor_from_json(old) == KpiSpec("auc", MaxDrop(2.0, True))
    old = {"kind": "mlflow", "url": "", "argv": [], "delay": 0.0, "alias": "champion"}
    assert executor_from_json(old) == MlflowSpec("champion")
    old = {"kind": "github-actions", "url": "", "argv": [], "delay": 0.0, "repo": "acme/churn",
           "workflow": "deploy.yml", "ref": "main", "inputs": [["version", "{version}"]]}
    assert executor_from_json(old) == GithubActionsSpec("acme/churn", "deploy.yml",
                                                        inputs=(("version", "{version}"),))
    old = {"kind": "dry-run", "url": "", "argv": [], "delay": 1.5}
    assert executor_from_json(old) == DryRunSpec(timedelta(seconds=1.5))


def test_rows_keep_the_keys_an_older_bot_reads() -> None:
    """Two versions run side by side during a rollout: the older reads "url", "argv", "delay"
    on every row and a KPI gate's settings under "kpi"."""
    for spec in (CommandSpec(("./deploy", "{version}")), KpiSpec("auc"), MlflowSpec("champion")):
        stored = executor_to_json(spec)
        assert stored is not None and {"kind", "url", "argv", "delay"} <= stored.keys()
    assert executor_to_json(KpiSpec("auc", MaxDrop(2, True)))["kpi"] == {  # type: ignore[index]
        "name": "auc", "max_drop": [2, True]}
