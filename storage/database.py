"""The engine, sessions and units of work for one database URL. Built by the composition root."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.clock import Clock
from bot.services import deliveries
from bot.services.deliveries import Delivery
from bot.services.events import AfterCommit, MessageQueued
from bot.services.outbox_port import CardWords
from storage import sqlite_driver
from storage.audit_reads import SqlAuditReads
from storage.card_reads import SqlCardReads
from storage.claims import SqlClaimRepository
from storage.compiled import CompiledReads
from storage.dashboard_reads import SqlDashboardReads
from storage.deployments import SqlDeploymentRepository
from storage.digest_reads import SqlDigestReads
from storage.digests import SqlDigestRepository
from storage.dora import SqlDoraQueries
from storage.ended_sessions import SqlEndedSessions
from storage.freezes import SqlFreezeRepository
from storage.kpis import SqlKpiRepository
from storage.metrics import SqlMetricRepository, SqlTokenRepository
from storage.model_aliases import SqlModelAliasRepository
from storage.notify_preferences import SqlNotifyPreferences
from storage.outbox import OutboxStore, SqlOutbox
from storage.repositories import SqlUseCaseRepository
from storage.requests import RequestLog, claim_delivery


def make_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> AsyncEngine:
    """The engine for ``url``; with ``read_only``, its connections refuse to write."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Wait for the write lock instead of failing at once; WAL lets readers go on meanwhile.
        # One connection per process: writers queue in the pool instead of in SQLite's busy
        # handler, whose back-off sleeps made the slowest acknowledgements ten times the median.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        if not parsed.query:  # URI options (`?mode=ro`…) go the standard driver's way
            database = parsed.database or ":memory:"
            kwargs["async_creator"] = lambda: sqlite_driver.connector(database, timeout=30)
        else:
            kwargs["connect_args"] = {"timeout": 30}
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_read_only if read_only else _sqlite_pragmas)
        return engine
    if read_only:
        # Read-only by the server's default, outside transactions: a read on PostgreSQL then
        # costs no BEGIN and no ROLLBACK round trip (READ COMMITTED gave each statement its own
        # snapshot anyway), and every statement still refuses to write.
        kwargs.setdefault("isolation_level", "AUTOCOMMIT")
        kwargs.setdefault("connect_args", {"server_settings": {"default_transaction_read_only": "on"}})
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


class DatabaseUnavailable(Exception):
    """DATABASE_URL names a database that cannot be used now; the message says why in one line,
    without the password."""


async def connect_check(engine: AsyncEngine) -> None:
    """Connect once, before anything else does: a database that is missing or out of reach
    fails here with one line, not with a traceback from the middle of start-up."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - whatever it is, it is said in one line
        raise DatabaseUnavailable(_why(error, engine.url)) from None


def _why(error: Exception, url: URL) -> str:
    where = url.database if url.get_backend_name() == "sqlite" else f"{url.host}:{url.port or 5432}"
    if isinstance(error, DBAPIError) and error.orig is not None:
        said = str(error.orig).splitlines()[0] if str(error.orig) else type(error.orig).__name__
        return f"cannot use the database at {where}: {said}"
    if isinstance(error, TimeoutError):  # before OSError: it is one
        return f"cannot connect to {where}: timed out"
    if isinstance(error, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused (is the server running?)"
    if isinstance(error, socket.gaierror):
        return f"cannot connect to {where}: the host name is not known"
    if isinstance(error, OSError):
        return f"cannot connect to {where}: {error.strerror or type(error).__name__}"
    return f"cannot use the database at {where}: {type(error).__name__}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_read_only(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_read_engine(url: str, connections: int) -> AsyncEngine:
    """An engine of ``connections`` read-only connections for long reads (digests, DORA), so
    they never hold a connection that acknowledgements need: on SQLite the one writing
    connection, elsewhere the main pool. WAL lets SQLite's readers run beside its writer."""
    return make_engine(url, read_only=True, pool_size=connections, max_overflow=0)


Publish = Callable[[Sequence[AfterCommit]], None]


def _nobody(_events: Sequence[AfterCommit]) -> None:
    """No handlers (tools and tests that run without the app)."""


class SqlUnitOfWork:
    """``async with uow: ...; await uow.commit()`` — anything not committed is rolled back.

    Events emitted meanwhile are published after the commit, and only then.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 publish: Publish, words: CardWords | None = None) -> None:
        self._sessions = sessions
        self._words = words
        self._clock = clock
        self._publish = publish
        self._events: list[AfterCommit] = []

    def emit(self, event: AfterCommit) -> None:
        self._events.append(event)

    async def __aenter__(self) -> SqlUnitOfWork:
        self._events = []
        self.session = self._sessions()
        self.use_cases = SqlUseCaseRepository(self.session)
        self.outbox = SqlOutbox(self.session, self._clock.now(), self._words)
        self.deployments = SqlDeploymentRepository(self.session)
        self.metrics = SqlMetricRepository(self.session)
        self.tokens = SqlTokenRepository(self.session)
        self.digests = SqlDigestRepository(self.session)
        self.claims = SqlClaimRepository(self.session)
        self.digest_reads = SqlDigestReads(self.session)
        self.audit = SqlAuditReads(self.session)
        self.dashboard = SqlDashboardReads(self.session)
        self.dora = SqlDoraQueries(self.session)
        self.kpis = SqlKpiRepository(self.session)
        self.aliases = SqlModelAliasRepository(self.session)
        self.freezes = SqlFreezeRepository(self.session)
        self.notify_prefs = SqlNotifyPreferences(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.rollback()
        await self.session.close()

    async def claim_delivery(self) -> Delivery | None:
        return await claim_delivery(self.session, self._clock.now())

    async def commit(self) -> None:
        delivery = await self.claim_delivery()
        try:
            await self.session.commit()
        except BaseException:
            deliveries.release(delivery)
            raise
        events, self._events = self._events, []
        if self.outbox.added:
            events.append(MessageQueued())  # deliver now rather than at the worker's next poll
        self._publish(events)


class Database:
    def __init__(self, url: str, clock: Clock, *, read_connections: int = 2,
                 page_connections: int = 2, publish: Publish = _nobody,
                 words: CardWords | None = None) -> None:
        """``words`` turns the cards services post into Slack arguments (bot/render/cards.py,
        given by the composition root: storage never imports a renderer)."""
        self.url = url
        self.engine = make_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = make_read_engine(url, read_connections)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # The dashboard's pages read on read-only connections of their own: behind the heavy
        # jobs' two (41 digests asked at once) a page waited seconds (dashboard_pages.py).
        self.page_engine = make_read_engine(url, page_connections)
        self._page_sessions = async_sessionmaker(self.page_engine, expire_on_commit=False)
        # `/usecase show` reads without a session: compiled once, on the driver's connection.
        self.compiled = CompiledReads(self.engine)
        self.cards = SqlCardReads(self.compiled)
        self.clock = clock
        self.outbox = OutboxStore(self.sessions)
        self.requests = RequestLog(self.sessions)
        # Sign-outs: written by POST /logout alone, read by the web guard on the pages' connections.
        self.ended_sessions = SqlEndedSessions(self.sessions, self._page_sessions)
        self._publish = publish
        self._words = words

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.clock, self._publish, self._words)

    def reads(self) -> SqlUnitOfWork:
        """A unit of work on the read-only connections, for long reads; it cannot commit."""
        return SqlUnitOfWork(self._read_sessions, self.clock, _nobody)

    def page_reads(self) -> SqlUnitOfWork:
        """A unit of work on the web pages' own read-only connections; it cannot commit."""
        return SqlUnitOfWork(self._page_sessions, self.clock, _nobody)

    async def deployments_by_state(self) -> dict[str, int]:
        """For GET /metrics."""
        async with self.uow() as uow:
            return await uow.deployments.count_by_state()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False

    async def dispose(self) -> None:
        await self.compiled.close()
        await self.page_engine.dispose()
        await self.read_engine.dispose()
        await self.engine.dispose()
