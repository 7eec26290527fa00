"""Executor specs to JSON and back, for any kind, from the spec's fields and their types.

The stored shape is the one rows had before the specs were a union, so that rows an older bot
wrote read back, and an older bot (two versions run side by side during a rollout) reads these:
every executor has "kind", "url", "argv" and "delay"; a KPI gate keeps its name and allowed drop
under "kpi". tests/unit/test_executor_codec.py round-trips every kind.
"""

from __future__ import annotations

import types
from dataclasses import fields, is_dataclass
from datetime import timedelta
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

from bot.domain.executor_specs import SPECS, ExecutorKind, ExecutorSpec, KpiSpec

Json = dict[str, Any]
_EVERY_ROW = {"url": "", "argv": [], "delay": 0.0}
_HINTS: dict[type, dict[str, Any]] = {spec: get_type_hints(spec) for spec in SPECS.values()}


def executor_to_json(spec: ExecutorSpec | None) -> Json | None:
    if spec is None:
        return None
    out: Json = {"kind": spec.kind.value, **_EVERY_ROW}
    out |= {f.name: _plain(getattr(spec, f.name)) for f in fields(spec)}
    if isinstance(spec, KpiSpec):
        out["kpi"] = {"name": out.pop("kpi"), "max_drop": out.pop("max_drop")}
    return out


def executor_from_json(data: Json | None) -> ExecutorSpec | None:
    if data is None:
        return None
    spec = SPECS[ExecutorKind(data["kind"])]
    if spec is KpiSpec:
        kpi = data.get("kpi") or {"name": "", "max_drop": None}
        data = {**data, "kpi": kpi["name"], "max_drop": kpi["max_drop"]}
    hints = _HINTS[spec]
    return spec(**{f.name: _typed(hints[f.name], data[f.name]) for f in fields(spec) if f.name in data})


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if is_dataclass(value):
        return [_plain(getattr(value, f.name)) for f in fields(value)]
    return value


def _typed(hint: Any, value: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if value is None:
        return None
    if origin in (Union, types.UnionType):  # X | None: the X
        return _typed(next(a for a in args if a is not type(None)), value)
    if hint is timedelta:
        return timedelta(seconds=value)
    if origin is tuple:
        items = args[:1] * len(value) if args[-1] is Ellipsis else args
        return tuple(_typed(item, v) for item, v in zip(items, value, strict=True))
    if is_dataclass(hint) and isinstance(hint, type):
        return hint(*(_typed(h, v) for h, v in zip(_fields_of(hint), value, strict=True)))
    return value


@cache
def _fields_of(kind: type) -> tuple[Any, ...]:
    """A nested dataclass's field types (a KPI gate's MaxDrop), looked up once, not per row."""
    return tuple(get_type_hints(kind).values())
