"""Finding a use case by the slug someone typed, and the refusal when there is none to see."""

from __future__ import annotations

import difflib

from bot.domain.usecases import DomainError, UseCase
from bot.services.ports import UnitOfWork
from bot.services.use_case_ports import PUBLIC, Sight


class UnknownUseCase(DomainError):
    pass


async def load_use_case(uow: UnitOfWork, slug: str) -> UseCase:
    """The use case, or a refusal that suggests the closest slug."""
    uc = await uow.use_cases.get(slug)
    if uc is not None:
        return uc
    raise await unknown(uow, slug)


async def unknown(uow: UnitOfWork, slug: str, sight: Sight = PUBLIC) -> UnknownUseCase:
    """The refusal of a slug there is none of (or none the viewer may see): the closest slug
    ``sight`` sees is suggested, never one of a private channel the viewer is not in."""
    close = difflib.get_close_matches(slug, await uow.use_cases.slugs(sight), n=1, cutoff=0.6)
    return UnknownUseCase("unknown_use_case", slug=slug, closest=close[0] if close else None)
