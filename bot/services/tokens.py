"""API tokens for /api/v1: shown once when created, stored only as a SHA-256 hash.

A token may do what its scopes say (SPEC: ``metrics:write``, the default, ``audit:read``,
``deployments:write``); each endpoint asks for its own, and tokens from before scopes keep
``metrics:write``, all they could do then."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.usecases import Conflict, DomainError
from bot.services.ports import ApiToken, ConcurrentUpdate, UnitOfWork

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
PREFIX = "bdo_"
SCOPES = ("metrics:write", "audit:read", "deployments:write")
DEFAULT_SCOPES = ("metrics:write",)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class TokenService:
    uow: Callable[[], UnitOfWork]
    clock: Clock

    async def create(self, name: str, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> str:
        if not NAME_RE.fullmatch(name):
            raise DomainError("invalid_token_name", name=name)
        granted = valid_scopes(scopes)
        token = PREFIX + secrets.token_urlsafe(32)
        try:
            async with self.uow() as uow:
                await uow.tokens.create(name, token_hash(token), self.clock.now(), granted)
                await uow.commit()
        except ConcurrentUpdate:
            raise Conflict("token_taken", name=name) from None
        return token

    async def list(self) -> list[ApiToken]:
        async with self.uow() as uow:
            return await uow.tokens.all()

    async def revoke(self, name: str) -> None:
        async with self.uow() as uow:
            if not await uow.tokens.revoke(name, self.clock.now()):
                raise Conflict("no_live_token", name=name)
            await uow.commit()

    async def authenticate(self, authorization: str | None) -> ApiToken | None:
        """The token of a valid ``Bearer`` header; None for missing, wrong or revoked."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip().startswith(PREFIX):
            return None
        async with self.uow() as uow:
            found = await uow.tokens.use(token_hash(token.strip()), self.clock.now())
            await uow.commit()
        return found


def valid_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """``scopes`` (each known; none given: the default), once each, in the order of SCOPES."""
    for scope in scopes:
        if scope not in SCOPES:
            raise DomainError("unknown_token_scope", scope=scope, known=SCOPES)
    return tuple(s for s in SCOPES if s in scopes) or DEFAULT_SCOPES
