"""The KPI file's connections and sources: where each value comes from, every problem with its
key path (``kpis[2].source.connection``). The rest of the file: ``checks.py``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.config import ConfigError, async_database_url
from bot.domain.kpis import Connection, KpiSource, MlflowSource, PrometheusSource, SourceKind, SqlSource
from bot.toml_values import TomlReader, did_you_mean, join, kind_of, quote, quoted

ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONNECTION_KEYS = ("url_env",)
_SOURCE_KEYS = {
    SourceKind.SQL: ("kind", "connection", "query"),
    SourceKind.PROMETHEUS: ("kind", "url", "query"),
    SourceKind.MLFLOW: ("kind", "metric", "experiment", "model", "alias"),
}
_ALL_SOURCE_KEYS = ("kind", "connection", "query", "url", "metric", "experiment", "model", "alias")
_KINDS = tuple(k.value for k in SourceKind)
_SQL_EXAMPLE = '{ kind = "sql", connection = "warehouse", query = "SELECT avg(score) FROM churn_eval" }'


class SourceValues(TomlReader):
    """Reads ``[connections.*]`` and each KPI's ``source``; the URLs come from ``env``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__()
        self.env = env
        self.urls: dict[str, str] = {}    # connection name -> its async SQLAlchemy URL
        self.uses_mlflow = False          # then BIZDEVOPS_MLFLOW_URL is required

    def connections(self, value: Any) -> dict[str, Connection]:
        if not isinstance(value, dict):
            self.fail("connections", f"expected tables like [connections.warehouse], got {kind_of(value)}")
            return {}
        found = {}
        for name, raw in value.items():
            path = join("connections", name)
            table = self.table(raw, path, _CONNECTION_KEYS)
            if table is None:
                continue
            url_env = self.string(table, "url_env", path, required=True)
            if url_env is not None and self.database_url(name, url_env, join(path, "url_env")):
                found[name] = Connection(name, url_env)
        return found

    def database_url(self, name: str, variable: str, path: str) -> bool:
        """Whether ``variable`` holds a usable URL; problems never show the value (a password)."""
        if not ENV_NAME_RE.fullmatch(variable):
            self.fail(path, f"{quote(variable)} is not an environment variable name, e.g. \"WAREHOUSE_URL\"")
            return False
        value = self.env.get(variable, "").strip()
        if not value:
            self.fail(path, f"{variable} is not set: it must hold the SQLAlchemy URL of {quote(name)}, "
                            "e.g. postgresql://user:password@host/db or sqlite:///path/to/file.db")
            return False
        try:
            self.urls[name] = async_database_url(value, variable)
        except ConfigError as bad:
            self.fail(path, str(bad))
            return False
        return True

    def source(self, value: Any, path: str, connections: list[str]) -> KpiSource | None:
        if not isinstance(value, dict):
            got = "missing" if value is None else f"expected a table, got {kind_of(value)}"
            self.fail(path, f"{got}; e.g. {_SQL_EXAMPLE}")
            return None
        kind = self.source_kind(value.get("kind"), join(path, "kind"))
        allowed = _SOURCE_KEYS[kind] if kind else _ALL_SOURCE_KEYS
        self.keys_of_kind(value, path, allowed, _ALL_SOURCE_KEYS,
                          f"not used by a {kind} source (it takes {quoted(allowed[1:])})" if kind
                          else None)
        if kind is SourceKind.SQL:
            connection = self.connection(value, path, connections)
            query = self.text(value, "query", path)
            return SqlSource(connection, query) if connection and query else None
        if kind is SourceKind.PROMETHEUS:
            url, query = self.url(value, path), self.text(value, "query", path)
            return PrometheusSource(url, query) if url and query else None
        if kind is SourceKind.MLFLOW:
            self.uses_mlflow = True
            return self.mlflow(value, path)
        return None

    def source_kind(self, raw: Any, path: str) -> SourceKind | None:
        if raw is None:
            self.fail(path, f"missing; use one of {quoted(_KINDS)}")
        elif not isinstance(raw, str):
            self.fail(path, f"expected a string, got {kind_of(raw)}")
        elif raw not in _KINDS:
            self.fail(path, f"unknown source {quote(raw)}; {did_you_mean(raw, _KINDS, quote)}")
        else:
            return SourceKind(raw)
        return None

    def connection(self, table: dict[str, Any], path: str, connections: list[str]) -> str | None:
        name = self.text(table, "connection", path)
        if name is None or name in connections:
            return name
        hint = (did_you_mean(name, connections, quote) if connections
                else f"define it under [connections.{join('', name)}] with url_env")
        self.fail(join(path, "connection"), f"no connection named {quote(name)}; {hint}")
        return None

    def mlflow(self, table: dict[str, Any], path: str) -> MlflowSource | None:
        count = len(self.problems)
        metric = self.text(table, "metric", path)
        experiment, model, alias = (self.text(table, key, path, required=False)
                                    for key in ("experiment", "model", "alias"))
        if experiment and (model or alias):
            self.fail(join(path, "experiment"), "give either `experiment` or `model` + `alias`, not both")
        elif model and not alias:
            self.fail(join(path, "alias"), "missing: `model` needs the alias to follow, e.g. \"champion\"")
        elif alias and not model:
            self.fail(join(path, "model"), "missing: `alias` needs the registered model it belongs to")
        elif not (experiment or model) and len(self.problems) == count:
            self.fail(path, "needs `experiment` (its newest finished run), or `model` + `alias` "
                            "(the run behind the version the alias points at)")
        if len(self.problems) > count or metric is None:
            return None
        return MlflowSource(metric, experiment=experiment or "", model=model or "", alias=alias or "")

    def text(self, table: dict[str, Any], key: str, path: str, required: bool = True) -> str | None:
        """A string that is not blank; None (after reporting it if ``required``) otherwise."""
        value = self.string(table, key, path, required=required)
        if value is not None and not value.strip():
            self.fail(join(path, key), "must not be empty")
            return None
        return value
