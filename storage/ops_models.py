"""Small tables kept beside the main ones: where the bot last knew an MLflow alias to point, who
wants direct messages, ad hoc freeze windows, and dashboard sessions signed out early.

Kept beside ``storage/models.py``; ``storage/__init__.py`` imports both, so ``Base.metadata`` has them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class ModelAliasRow(Base):
    """Where the bot last knew an MLflow alias to point: a registry event that says otherwise
    was a move made outside the bot, and is announced as such."""

    __tablename__ = "model_aliases"

    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    alias: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class NotifyPreferenceRow(Base):
    """Whether a person wants direct messages about their own deployments (no row: yes)."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool]
    updated_at: Mapped[datetime]


class FreezeRow(Base):
    """An ad hoc freeze window (`/deploy freeze`): ``scope`` is a use case's slug or "*" (all).
    Recurring windows come from the pipeline file and are computed, never stored."""

    __tablename__ = "freezes"
    __table_args__ = (Index("ix_freezes_scope_ends_at", "scope", "ends_at"),
                      Index("ix_freezes_ends_at", "ends_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))


class EndedSessionRow(Base):
    """A dashboard session ended by ``POST /logout`` before its 12 hours were up: its id's
    SHA-256 (never the id itself), until the moment it would have expired anyway."""

    __tablename__ = "ended_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
