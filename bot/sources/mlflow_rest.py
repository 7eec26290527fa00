"""MLflow's REST API (``/api/2.0/mlflow/...``) over aiohttp: no MLflow package at run time.

Only the calls the bot makes. Every failure is a :class:`SourceFailure` (an
:class:`MlflowError` when MLflow answered one) whose message never holds the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp

from bot.domain.kpis import SourceFailure
from bot.domain.registry import ModelVersion, model_version
from bot.masking import mask, url_secrets
from bot.sources._http import clip, is_web_url, obj, request_json

API = "/api/2.0/mlflow/"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


class MlflowError(SourceFailure):
    """MLflow answered with an error: its HTTP status, ``error_code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"MLflow answered HTTP {status}" + (f" {code}" if code else "") + f": {message}")
        self.status = status
        self.code = code
        self.message = message


class MlflowRest:
    """One MLflow tracking server; an HTTP session opened on first use, closed by :meth:`close`."""

    def __init__(self, base_url: str, token: str = "") -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._secrets = (token, *url_secrets(base_url))
        self._session: aiohttp.ClientSession | None = None

    def mask(self, text: str) -> str:
        """``text`` without the token or the URL's password (for reasons built from answers)."""
        return mask(text, self._secrets)

    def version_url(self, model: str, version: str) -> str | None:
        """Where a person sees the version in MLflow's UI (served by the tracking server, at
        its root): the tracking URL without its user, password, query or fragment; None when
        the URL is not an http(s) one."""
        if not is_web_url(self._base):
            return None
        parts = urlsplit(self._base)
        host = parts.netloc.rpartition("@")[2]
        root = urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
        return f"{root}/#/models/{quote(model, safe='')}/versions/{quote(version, safe='')}"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, endpoint: str, params: Mapping[str, str]) -> dict[str, Any]:
        return await self.call("GET", endpoint, params=params)

    async def post(self, endpoint: str, body: Mapping[str, object]) -> dict[str, Any]:
        return await self.call("POST", endpoint, body=body)

    async def delete(self, endpoint: str, body: Mapping[str, object]) -> dict[str, Any]:
        return await self.call("DELETE", endpoint, body=body)  # MLflow reads a DELETE's JSON body

    async def call(self, method: str, endpoint: str, *, params: Mapping[str, str] | None = None,
                   body: Mapping[str, object] | None = None) -> dict[str, Any]:
        """``endpoint`` like ``"runs/get"``; the answer's JSON object, or a failure (masked)."""
        if not is_web_url(self._base):
            raise SourceFailure("the MLflow URL is not an http(s) URL")
        if self._token and url_secrets(self._base):
            # aiohttp sends the URL's user and password as Basic auth: one Authorization only.
            raise SourceFailure("the MLflow URL has a user and password and a token is set; use one")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        try:
            answer = await request_json(self._session, method, self._base + API + endpoint,
                                        what="MLflow", params=params, body=body, headers=headers)
        except SourceFailure as failure:
            raise SourceFailure(self.mask(str(failure))) from None
        data = answer.data if isinstance(answer.data, dict) else None
        if answer.status >= 400 or data is None:
            code = str(data.get("error_code", "")) if data else ""
            message = str(data.get("message", "")) if data else answer.text
            raise MlflowError(answer.status, self.mask(clip(code, 60)), self.mask(clip(message)))
        return data

    # ── reads ────────────────────────────────────────────────────────────────────────────

    async def experiment_by_name(self, name: str) -> dict[str, Any] | None:
        """The experiment, or None when there is none of that name."""
        try:
            answer = await self.get("experiments/get-by-name", {"experiment_name": name})
        except MlflowError as error:
            if error.code == NOT_FOUND:
                return None
            raise
        return obj(answer.get("experiment"))

    async def newest_finished_run(self, experiment_id: str) -> dict[str, Any] | None:
        """The FINISHED run that started last, with its data; None when none finished."""
        answer = await self.post("runs/search", {
            "experiment_ids": [experiment_id],
            "filter": "attributes.status = 'FINISHED'",
            "order_by": ["attributes.start_time DESC"],
            "max_results": 1,
        })
        runs = answer.get("runs") or []
        return obj(runs[0]) if isinstance(runs, list) and runs else None

    async def version_by_alias(self, model: str, alias: str) -> dict[str, Any]:
        answer = await self.get("registered-models/alias", {"name": model, "alias": alias})
        return obj(answer.get("model_version"))

    async def run(self, run_id: str) -> dict[str, Any]:
        return obj((await self.get("runs/get", {"run_id": run_id})).get("run"))

    # ── the model registry ───────────────────────────────────────────────────────────────

    async def registered_model(self, name: str) -> dict[str, Any] | None:
        """The registered model, or None when there is none of that name."""
        try:
            answer = await self.get("registered-models/get", {"name": name})
        except MlflowError as error:
            if error.code == NOT_FOUND:
                return None
            raise
        return obj(answer.get("registered_model"))

    async def model_version(self, model: str, version: str) -> ModelVersion | None:
        """The version, or None when the model or that version of it does not exist."""
        try:
            answer = await self.get("model-versions/get", {"name": model, "version": version})
        except MlflowError as error:
            if error.code == NOT_FOUND:
                return None
            raise
        return model_version(obj(answer.get("model_version")))

    async def alias_version(self, model: str, alias: str) -> str | None:
        """The version number ``alias`` points at; None when it points nowhere."""
        try:
            return str((await self.version_by_alias(model, alias)).get("version") or "") or None
        except MlflowError as error:
            # MLflow answers a missing alias with INVALID_PARAMETER_VALUE "alias … not found"
            # (a missing model is RESOURCE_DOES_NOT_EXIST, and stays a failure).
            if error.code != NOT_FOUND and "alias" in error.message and "not found" in error.message:
                return None
            raise

    async def set_alias(self, model: str, alias: str, version: str) -> None:
        await self.post("registered-models/alias", {"name": model, "alias": alias, "version": version})

    async def delete_alias(self, model: str, alias: str) -> None:
        await self.delete("registered-models/alias", {"name": model, "alias": alias})

    async def search_versions(self, model: str, limit: int) -> list[ModelVersion]:
        """The model's newest ``limit`` versions, newest first."""
        answer = await self.get("model-versions/search", {
            "filter": f"name = {_quoted(model)}",
            "max_results": str(limit),
            "order_by": "version_number DESC",
        })
        found = answer.get("model_versions") or []
        versions = [model_version(v) for v in found if isinstance(v, dict)] if isinstance(found, list) else []
        if not versions:
            return []
        # A search leaves out the aliases; the registered model lists them all.
        aliases: dict[str, list[str]] = {}
        for entry in (await self.registered_model(model) or {}).get("aliases") or []:
            if isinstance(entry, dict) and entry.get("alias"):
                aliases.setdefault(str(entry.get("version")), []).append(str(entry["alias"]))
        return [replace(v, aliases=tuple(sorted(aliases.get(v.version, ())))) for v in versions]


def _quoted(text: str) -> str:
    """A string literal of MLflow's search filters, which know no escapes: either quote will do."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise SourceFailure("an MLflow model name with both kinds of quote cannot be searched for")
