"""MLflow's model registry as the bot sees it: model versions, webhook events and their signature.

Pure: the JSON shapes MLflow sends (its REST answers and its webhook deliveries) read
defensively into frozen values, and the webhook signature checked on the bytes as they arrived.

MLflow 3 signs a delivery ``X-MLflow-Signature: v1,<base64 HMAC-SHA256(secret,
"<delivery id>.<timestamp>.<body>")>`` with ``X-MLflow-Delivery-Id`` (a UUID) and
``X-MLflow-Timestamp`` (unix seconds); the body is ``{"entity", "action", "timestamp", "data"}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.clock import within_window
from bot.domain.usecases import MODEL_RE

SIGNATURE_VERSION = "v1"
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_DELIVERY_RE = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
VERSION_RE = re.compile(r"[1-9][0-9]{0,9}")  # what MLflow numbers its model versions with
# MLflow's own rule for alias names (letters, digits, `_`, `-`; at most 255 characters).
ALIAS_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")
READY = "READY"


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: str
    status: str                          # READY, PENDING_REGISTRATION, FAILED_REGISTRATION
    aliases: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    run_id: str = ""
    created: datetime | None = None


def model_version(raw: Mapping[str, Any]) -> ModelVersion:
    """A ``model_version`` object of MLflow's REST API; missing parts are left empty."""
    tags = raw.get("tags") or []
    created = raw.get("creation_timestamp")
    return ModelVersion(
        model=str(raw.get("name") or ""),
        version=str(raw.get("version") or ""),
        status=str(raw.get("status") or ""),
        aliases=tuple(str(a) for a in raw.get("aliases") or [] if isinstance(a, str)),
        tags=tuple((str(t.get("key")), str(t.get("value") or ""))
                   for t in tags if isinstance(t, dict) and t.get("key")),
        run_id=str(raw.get("run_id") or ""),
        created=_from_millis(created),
    )


def _from_millis(raw: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(raw)) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class TagMismatch:
    """A required tag ``key``=``wanted`` that a version has with another value (``found``), or
    not at all (``found`` None)."""

    key: str
    wanted: str
    found: str | None


def tag_mismatches(version: ModelVersion, required: tuple[tuple[str, str], ...]) -> list[TagMismatch]:
    """Each required tag the version lacks or has with another value, in the order required."""
    have = dict(version.tags)
    return [TagMismatch(key, value, have.get(key)) for key, value in required
            if have.get(key) != value]


# ── webhook deliveries ──────────────────────────────────────────────────────────────────────

# (entity, action) of the events the bot acts on; MLflow spells them lower case in deliveries.
HANDLED = frozenset({
    ("model_version", "created"),
    ("model_version_alias", "created"),
    ("model_version_alias", "deleted"),
    ("model_version_tag", "set"),
    ("model_version_tag", "deleted"),
})


class IgnoredEvent(Exception):
    """A well-formed delivery of a kind the bot does not act on (prompts, new models…);
    ``unlinkable``: of a kind it acts on, but of a model no use case can be linked to."""

    def __init__(self, kind: str, *, unlinkable: bool = False) -> None:
        super().__init__(f"{kind} unlinkable" if unlinkable else kind)  # for logs
        self.kind, self.unlinkable = kind, unlinkable


class BadDelivery(ValueError):
    """A delivery MLflow would not send: ``field`` ("" the body itself) is not what it ``must``
    be — a key bot/render/registry_blocks.py words (``MUST``) for the 400 answer."""

    def __init__(self, field: str, must: str) -> None:
        super().__init__(f"{field or 'body'}: {must}")  # for logs
        self.field, self.must = field, must


@dataclass(frozen=True)
class RegistryEvent:
    delivery_id: str
    entity: str                          # model_version, model_version_alias, model_version_tag
    action: str                          # created, deleted, set
    model: str
    version: str = ""                    # "" for an alias deleted
    alias: str = ""                      # alias events
    run_id: str = ""                     # a version created from a run
    source: str = ""                     # a version created: where its files are
    # A version created: all its tags; a tag set: that one tag; a tag deleted: (key, "").
    tags: tuple[tuple[str, str], ...] = ()
    at: datetime | None = None           # when MLflow says it happened

    @property
    def kind(self) -> str:
        return f"{self.entity}.{self.action}"


def parse_registry_event(delivery_id: str, payload: object) -> RegistryEvent:
    """The delivery's event; BadDelivery naming what is wrong, IgnoredEvent for other kinds."""
    if not isinstance(payload, dict):
        raise BadDelivery("", "json_object")
    entity, action = _name(payload, "entity"), _name(payload, "action")
    if (entity, action) not in HANDLED:
        raise IgnoredEvent(f"{entity}.{action}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BadDelivery("data", "json_object")
    fields: dict[str, Any] = {"model": _text(data, "name")}
    if not MODEL_RE.fullmatch(fields["model"]):  # no use case can be linked to it
        raise IgnoredEvent(f"{entity}.{action}", unlinkable=True)
    if (entity, action) != ("model_version_alias", "deleted"):
        fields["version"] = _version(data)
    if entity == "model_version_alias":
        fields["alias"] = _text(data, "alias")
        if not ALIAS_RE.fullmatch(fields["alias"]):
            raise BadDelivery("data.alias", "alias")
    elif entity == "model_version_tag":
        key = _text(data, "key")
        fields["tags"] = ((key, _text(data, "value", required=False) if action == "set" else ""),)
    else:
        fields.update(run_id=_text(data, "run_id", required=False),
                      source=_text(data, "source", required=False), tags=_tags(data))
    return RegistryEvent(delivery_id, entity, action, at=_at(payload.get("timestamp")), **fields)


def _name(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_]{1,40}", value):
        raise BadDelivery(key, "event_name")
    return value.lower()


def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadDelivery(f"data.{key}", "non_empty_string" if required else "string")
    return value


def _version(data: Mapping[str, Any]) -> str:
    value = data.get("version")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not VERSION_RE.fullmatch(value):
        raise BadDelivery("data.version", "version")
    return value


def _tags(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    tags = data.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise BadDelivery("data.tags", "strings")
    return tuple(sorted(tags.items()))


def _at(raw: object) -> datetime | None:
    """The delivery's own timestamp (ISO 8601), informative only: the signed header counts."""
    if not isinstance(raw, str):
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo else None


def verify_mlflow_signature(secret: str, delivery_id: str | None, timestamp: str | None,
                            payload: bytes, signature_header: str | None, *, now: float) -> bool:
    """True only for a fresh delivery signed with ``secret``: the timestamp within the signature
    window either way, one of the header's space-separated ``v1,<base64>`` signatures matching."""
    if not secret or not delivery_id or not timestamp or not signature_header:
        return False
    if not _DELIVERY_RE.fullmatch(delivery_id) or not _TIMESTAMP_RE.fullmatch(timestamp):
        return False  # headers of any other shape are refused before anything is computed
    if not within_window(int(timestamp), now):
        return False  # stale or from the future: a replay
    expected = sign_mlflow(secret, delivery_id, timestamp, payload)
    given = [s for s in signature_header.split(" ") if s.isascii()]  # compare_digest needs ASCII
    # Every candidate is compared, so the time taken does not tell which one came close.
    return sum(hmac.compare_digest(expected, s) for s in given) > 0


def sign_mlflow(secret: str, delivery_id: str, timestamp: str, payload: bytes) -> str:
    """The signature MLflow would send (tests and the simulator sign their own deliveries)."""
    signed = b".".join((delivery_id.encode(), timestamp.encode(), payload))
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"
