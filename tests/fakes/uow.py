"""The in-memory twin of ``storage.database``: a unit of work with the same Protocols
(``bot.services.ports``, ``bot.services.read_ports``), for tests of service rules that run in
milliseconds — cosmicpython's FakeUnitOfWork, procrastinate's InMemoryConnector.

``InMemoryDatabase().uow`` goes wherever a service takes ``uow: Callable[[], UnitOfWork]``;
``uow`` is annotated with the Protocol, so mypy checks the twin's shape against it
(``.venv/bin/mypy tests/fakes``). ``tests/integration/test_storage_contract.py`` runs the same
tests on the twin, SQLite and PostgreSQL. See ``tables.py`` for how transactions behave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType

from bot.clock import Clock, SystemClock
from bot.domain.metrics import Target
from bot.render.cards import slack_args
from bot.services import deliveries
from bot.services.deliveries import Delivery
from bot.services.events import AfterCommit, MessageQueued
from bot.services.outbox_port import CardWords
from bot.services.ports import DuplicateDelivery, OutgoingMessage, UnitOfWork
from bot.services.use_case_ports import UseCaseCardData
from tests.fakes.dashboard_reads import MemoryDashboardReads
from tests.fakes.deployments import MemoryDeploymentRepository
from tests.fakes.digests import MemoryClaimRepository, MemoryDigestRepository, MemoryOutbox
from tests.fakes.kpis import MemoryKpiRepository, MemoryModelAliasRepository
from tests.fakes.metrics import MemoryMetricRepository, MemoryTokenRepository
from tests.fakes.notify import MemoryFreezeRepository, MemoryNotifyPreferences
from tests.fakes.reads import MemoryAuditReads, MemoryDigestReads, MemoryDoraQueries
from tests.fakes.tables import Ids, Tables
from tests.fakes.use_cases import MemoryUseCaseRepository

Publish = Callable[[Sequence[AfterCommit]], None]


class InMemoryUnitOfWork:
    """``async with uow: ...; await uow.commit()``: anything not committed is dropped, and the
    events emitted meanwhile are published after the commit, and only then."""

    use_cases: MemoryUseCaseRepository
    outbox: MemoryOutbox
    deployments: MemoryDeploymentRepository
    metrics: MemoryMetricRepository
    tokens: MemoryTokenRepository
    digests: MemoryDigestRepository
    claims: MemoryClaimRepository
    digest_reads: MemoryDigestReads
    audit: MemoryAuditReads
    dashboard: MemoryDashboardReads
    dora: MemoryDoraQueries
    kpis: MemoryKpiRepository
    aliases: MemoryModelAliasRepository
    notify_prefs: MemoryNotifyPreferences
    freezes: MemoryFreezeRepository

    def __init__(self, db: InMemoryDatabase) -> None:
        self._db = db
        self._events: list[AfterCommit] = []
        self._tables = Tables()

    def emit(self, event: AfterCommit) -> None:
        self._events.append(event)

    def _begin(self) -> None:
        """A transaction on a snapshot of what is committed now (SQLAlchemy's autobegin)."""
        db, self._tables = self._db, self._db.committed.snapshot()
        self.use_cases = MemoryUseCaseRepository(self._tables, db.ids)
        self.outbox = MemoryOutbox(self._tables, db.ids, db.words)
        self.deployments = MemoryDeploymentRepository(self._tables, db.ids)
        self.metrics = MemoryMetricRepository(self._tables, db.ids)
        self.tokens = MemoryTokenRepository(self._tables)
        self.digests = MemoryDigestRepository(self._tables)
        self.claims = MemoryClaimRepository(self._tables)
        self.digest_reads = MemoryDigestReads(self._tables)
        self.audit = MemoryAuditReads(self._tables)
        self.dashboard = MemoryDashboardReads(self._tables)
        self.dora = MemoryDoraQueries(self._tables)
        self.kpis = MemoryKpiRepository(self._tables)
        self.aliases = MemoryModelAliasRepository(self._tables)
        self.notify_prefs = MemoryNotifyPreferences(self._tables)
        self.freezes = MemoryFreezeRepository(self._tables, db.ids)

    async def __aenter__(self) -> InMemoryUnitOfWork:
        self._events = []
        self._begin()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tables = Tables()  # the rollback: the snapshot and its writes are dropped

    async def claim_delivery(self) -> Delivery | None:
        delivery = deliveries.to_claim()
        if delivery is None:
            return None
        if delivery.key in self._db.committed.deliveries:  # its unique key, as the database checks
            raise DuplicateDelivery(delivery.key)
        self._tables.deliveries.put(delivery.key, self._db.clock.now())
        return delivery

    async def commit(self) -> None:
        delivery = await self.claim_delivery()
        try:
            self._tables.commit_into(self._db.committed)
        except BaseException:
            deliveries.release(delivery)
            raise
        events, self._events = self._events, []
        if self.outbox.added:
            events.append(MessageQueued())
        self._begin()
        self._db.publish(events)


class InMemoryDatabase:
    """The committed tables that every unit of work made by ``uow`` shares, and the clock
    that the services under test are given."""

    def __init__(self, clock: Clock | None = None, publish: Publish | None = None,
                 words: CardWords = slack_args) -> None:
        self.clock = clock or SystemClock()
        self.words = words
        self.committed = Tables()
        self.ids = Ids()
        self.published: list[AfterCommit] = []  # every event handed on, when no publish is given
        self.publish: Publish = publish or self.published.extend

    def uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork(self)

    @property
    def cards(self) -> FakeCardReads:
        return FakeCardReads(self)

    def messages(self) -> list[OutgoingMessage]:
        """The committed outbox, oldest first, without edits a newer edit superseded."""
        return [row.message for _id, row in sorted(self.committed.outbox.rows.items())
                if row.status == "pending"]


class FakeCardReads:
    """`/usecase show`'s read, as storage.card_reads does it: from what is committed."""

    def __init__(self, db: InMemoryDatabase) -> None:
        self._db = db

    async def use_case_card(self, slug: str) -> UseCaseCardData | None:
        async with self._db.uow() as uow:
            uc = await uow.use_cases.get(slug)
            if uc is None:
                return None
            target = (await uow.metrics.targets(slug)).get(uc.kpi) if uc.kpi else None
            return UseCaseCardData(uc, Target(target.op, target.value) if target else None,
                                   await uow.deployments.production(slug))
