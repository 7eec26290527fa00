"""The kpi gate's verdict in words: the detail stored with the step and shown on cards."""

from __future__ import annotations

from bot.domain.kpis import GateVerdict, Shortfall
from bot.domain.metrics import format_number, with_unit


def verdict_detail(v: GateVerdict) -> str:
    """E.g. "KPI `auc` is 0.89: meets its target ≥ 0.83, within 2% of 0.9 at the start"."""
    label = f"KPI `{v.kpi}`"
    if v.fresh is None:
        return f"{label}: no value newer than the wave, so the check fails"
    shown = f"{label} is {_value(v, v.fresh)}"
    if v.failed is Shortfall.MISSES_TARGET and v.target is not None:
        return f"{shown}: misses its target {v.target.describe()}"
    if v.failed is Shortfall.WORSE_THAN_START and v.max_drop and v.baseline is not None \
            and v.worse is not None:
        return (f"{shown}, {_value(v, v.worse)} worse than {_value(v, v.baseline)} at the start "
                f"(allowed: {v.max_drop.describe()})")
    rules = [f"meets its target {v.target.describe()}"] if v.target is not None else []
    if v.max_drop is not None and v.baseline is not None:
        rules.append(f"within {v.max_drop.describe()} of {_value(v, v.baseline)} at the start")
    elif v.max_drop is not None:
        rules.append("no value from before the deployment to compare with")
    return f"{shown}: " + (", ".join(rules) or "a fresh value")


def no_verdict_in_time(kpi: str) -> str:
    """The step's detail when the judging outlasted the stage's timeout."""
    return f"KPI `{kpi}`: no value within the stage's timeout, so the check fails"


def _value(v: GateVerdict, number: float) -> str:
    return with_unit(format_number(number), v.unit)
