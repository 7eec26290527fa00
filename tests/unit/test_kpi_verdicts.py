"""The kpi gate's verdict in words: the step detail stored with a deployment, exactly."""

from __future__ import annotations

import pytest

from bot.domain.kpis import MaxDrop, judge
from bot.domain.metrics import Target
from bot.render.kpi_verdicts import no_verdict_in_time, verdict_detail

AUC = Target(">=", 0.83)


@pytest.mark.parametrize(("fresh", "target", "baseline", "max_drop", "words"), [
    (None, AUC, 0.9, MaxDrop(2, True), "KPI `auc`: no value newer than the wave, so the check fails"),
    (0.8, AUC, None, None, "KPI `auc` is 0.8: misses its target ≥ 0.83"),
    (0.85, AUC, 0.9, MaxDrop(2, True),
     "KPI `auc` is 0.85, 0.05 worse than 0.9 at the start (allowed: 2%)"),
    (0.89, AUC, 0.9, MaxDrop(2, True),
     "KPI `auc` is 0.89: meets its target ≥ 0.83, within 2% of 0.9 at the start"),
    (0.9, None, None, MaxDrop(1),
     "KPI `auc` is 0.9: no value from before the deployment to compare with"),
    (0.9, None, 0.95, None, "KPI `auc` is 0.9: a fresh value"),
])
def test_a_verdict_in_words(fresh: float | None, target: Target | None, baseline: float | None,
                            max_drop: MaxDrop | None, words: str) -> None:
    verdict = judge("auc", "", fresh, target=target, baseline=baseline, max_drop=max_drop)
    assert verdict_detail(verdict) == words


def test_the_unit_follows_every_value() -> None:
    worse = judge("p95", "ms", 260, target=Target("<=", 300), baseline=200, max_drop=MaxDrop(50))
    assert verdict_detail(worse) == "KPI `p95` is 260 ms, 60 ms worse than 200 ms at the start (allowed: 50)"


def test_no_verdict_in_time() -> None:
    assert no_verdict_in_time("auc") == "KPI `auc`: no value within the stage's timeout, so the check fails"
