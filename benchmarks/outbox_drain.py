"""How fast the outbox drains through a faulty Slack, and that it delivers exactly once, in order.

    python benchmarks/outbox_drain.py [--database-url URL] [--messages 10000 --channels 50]
        [--paced-messages 2000] [--fault-every 20] [--only unpaced paced two-workers]

Three runs, each on a fresh database and a fresh fake Slack Web API (in this process):

* **unpaced** — ``--messages`` ``chat.postMessage`` calls over ``--channels`` channels, enqueued
  through ``Database.uow()`` + ``uow.outbox.add(...)`` exactly as services do, drained by one
  ``OutboxWorker`` with ``bot.runtime.pacing.unpaced()``;
* **paced** — ``--paced-messages`` the same way, with the default ``Pacer()`` (Slack's pace:
  ~1 message/s per channel, 20/s overall with a burst of 40, so the drain takes ≥ N/20 s: 10,000
  would take over 8 minutes, hence the smaller default);
* **two workers** — ``--messages`` drained by two workers on two ``Database`` objects (two engines
  and connection pools on one URL, two ``AsyncWebClient`` s, two outbox owners: like two
  processes), unpaced.

Throughout, every ``--fault-every``-th call the fake receives for ``chat.postMessage`` is followed
by an injected fault for the next call, cycling 429 with ``Retry-After: 1``, HTTP 500 and a
dropped connection. The worker runs its production loop (``start()``, default 1 s poll) until the
backlog (pending rows) is 0. Then it checks, from the fake's record of *successful*
``chat.postMessage`` calls: every text ``m0 .. m{N-1}`` delivered exactly once (nothing lost,
nothing doubled), in the right channel, and each channel's texts in enqueue order; and that no
row ended ``dead``. Prints drain time, messages/s, ``worker.retries`` and injected faults.
Exit status 1 if any check fails.

Without ``--database-url`` the database is an SQLite file in a temporary directory; with a
PostgreSQL URL a uniquely named database is created on that server per run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

from harness import on_fresh_database, server_version, table  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.runtime.outbox_worker import OutboxWorker  # noqa: E402
from bot.runtime.pacing import Pacer, unpaced  # noqa: E402
from bot.services.ports import OutgoingMessage  # noqa: E402
from bot.simulator.fake_slack import FakeSlack, Fault, RecordedCall  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OutboxRow  # noqa: E402

TOKEN = "xoxb-bench-token"
METHOD = "chat.postMessage"
ENQUEUE_BATCH = 1000
FAULTS = (Fault(status=429, retry_after=1), Fault(status=500), Fault(drop_connection=True))
TIME_LIMIT = 600.0  # seconds a drain may take before the run is declared stuck


@dataclass
class Outcome:
    name: str
    messages: int
    workers: int
    enqueue_s: float = 0.0
    drain_s: float = 0.0
    retries: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    loop_errors: int = 0
    cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.messages / self.drain_s if self.drain_s else 0.0


class FaultInjector:
    """After every ``every``-th call to ``METHOD``, the next one gets the next fault in the cycle."""

    def __init__(self, fake: FakeSlack, every: int) -> None:
        self._fake = fake
        self._every = every
        self._seen = 0
        self._next = 0
        fake.subscribe(self._on_call)

    def _on_call(self, call: RecordedCall) -> None:
        if call.method != METHOD or self._every <= 0:
            return
        self._seen += 1
        if self._seen % self._every == 0:
            self._fake.inject(METHOD, FAULTS[self._next % len(FAULTS)])
            self._next += 1


class LoopErrors(logging.Handler):
    """Counts ``action=outbox.loop_error`` (an exception in the worker's loop) and dead letters."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()[:300] + (
                f" ({record.exc_info[1]!r})" if record.exc_info else "")


def channel_ids(count: int) -> list[str]:
    return [f"CDRAIN{i:03d}" for i in range(count)]


async def enqueue(db: Database, messages: int, channels: list[str]) -> None:
    for start in range(0, messages, ENQUEUE_BATCH):
        async with db.uow() as uow:
            for n in range(start, min(start + ENQUEUE_BATCH, messages)):
                channel = channels[n % len(channels)]
                uow.outbox.add(OutgoingMessage(METHOD, channel, {"channel": channel,
                                                                 "text": f"m{n}"}))
            await uow.commit()


async def statuses(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return {status: int(count) for status, count in rows}


def verify(fake: FakeSlack, messages: int, channels: list[str]) -> list[str]:
    problems: list[str] = []
    delivered = [(c.args.get("channel"), str(c.args.get("text"))) for c in fake.calls_to(METHOD)]
    counts = Counter(t for _, t in delivered)
    expected = {f"m{n}" for n in range(messages)}
    lost = expected - set(counts)
    doubled = {t: k for t, k in counts.items() if k > 1}
    strangers = set(counts) - expected
    if lost:
        problems.append(f"LOST {len(lost)}: {sorted(lost, key=lambda t: int(t[1:]))[:10]}")
    if doubled:
        problems.append(f"DUPLICATED {len(doubled)}: {dict(list(doubled.items())[:10])}")
    if strangers:
        problems.append(f"unexpected texts {len(strangers)}: {sorted(strangers)[:10]}")
    order: dict[str, list[int]] = defaultdict(list)
    for channel, t in delivered:
        n = int(t[1:])
        if channels[n % len(channels)] != channel:
            problems.append(f"{t} delivered to {channel}, enqueued for {channels[n % len(channels)]}")
        order[channel].append(n)
    out_of_order = [c for c, ns in order.items() if ns != sorted(ns)]
    if out_of_order:
        c = out_of_order[0]
        first = next(i for i in range(1, len(order[c])) if order[c][i] < order[c][i - 1])
        problems.append(f"OUT OF ORDER in {len(out_of_order)} channels, e.g. {c}: "
                        f"...{order[c][max(0, first - 3):first + 2]}...")
    return problems


async def drain(name: str, url: str, messages: int, channels: list[str], workers: int,
                pacer: Callable[[], Pacer], fault_every: int, sdk_retries: bool) -> Outcome:
    outcome = Outcome(name, messages, workers)
    dbs = [Database(url, SystemClock()) for _ in range(workers)]
    fake = FakeSlack(bot_token=TOKEN)
    errors = LoopErrors()
    logging.getLogger("bot.runtime.outbox_worker").addHandler(errors)
    clients: list[AsyncWebClient] = []
    try:
        await upgrade(dbs[0].engine)
        await fake.start()
        for channel in channels:
            fake.add_channel(channel.lower(), channel)
        started = time.perf_counter()
        await enqueue(dbs[0], messages, channels)
        outcome.enqueue_s = time.perf_counter() - started
        FaultInjector(fake, fault_every)
        # As bot/app.py builds it; without the SDK's own retry handlers if asked (`--sdk-retries
        # none`): its connection-error retry sleeps inside the worker's delivery loop.
        extra: dict[str, Any] = {} if sdk_retries else {"retry_handlers": []}
        clients = [AsyncWebClient(token=TOKEN, base_url=fake.api_url, **extra) for _ in dbs]
        running = [OutboxWorker(db.outbox, client, SystemClock(), pacer=pacer())
                   for db, client in zip(dbs, clients, strict=True)]
        started, cpu = time.perf_counter(), time.process_time()
        for worker in running:
            worker.start()
        try:
            while (await dbs[0].outbox.backlog()) > 0:
                if time.perf_counter() - started > TIME_LIMIT:
                    outcome.problems.append(f"STUCK: backlog not 0 after {TIME_LIMIT:.0f} s")
                    break
                await asyncio.sleep(0.2)
            outcome.drain_s = time.perf_counter() - started
            outcome.cpu_s = time.process_time() - cpu
        finally:
            for worker in running:
                await worker.stop()
        outcome.retries = sum(w.retries for w in running)
        outcome.calls = len([c for c in fake.calls if c.method == METHOD])
        outcome.faults = Counter(
            {0: "dropped connection", 429: "429 Retry-After 1", 500: "500"}.get(c.status, str(c.status))
            for c in fake.calls if c.method == METHOD and c.status != 200)
        outcome.statuses = await statuses(dbs[0])
        outcome.problems += verify(fake, messages, channels)
        if outcome.statuses.get("dead"):
            outcome.problems.append(f"{outcome.statuses['dead']} rows dead")
        outcome.loop_errors = errors.count
        if errors.first:
            outcome.problems.append(f"{errors.count} errors logged, first: {errors.first}")
    finally:
        logging.getLogger("bot.runtime.outbox_worker").removeHandler(errors)
        for client in clients:
            if client.session is not None:
                await client.session.close()
        await fake.stop()
        for db in dbs:
            await db.dispose()
    return outcome


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: SQLite file)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--paced-messages", type=int, default=2000)
    parser.add_argument("--fault-every", type=int, default=20,
                        help="fault the call after every N-th call (0: no faults)")
    parser.add_argument("--sdk-retries", choices=("default", "none"), default="default",
                        help="the AsyncWebClient's own retry handlers: slack_sdk's default (as "
                             "bot/app.py has it) or none")
    parser.add_argument("--only", nargs="+", choices=("unpaced", "paced", "two-workers"),
                        default=["unpaced", "paced", "two-workers"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the workers' retry warnings are expected
    channels = channel_ids(args.channels)
    runs = {
        "unpaced": ("1 worker, unpaced()", args.messages, 1, unpaced),
        "paced": ("1 worker, Pacer()", args.paced_messages, 1, Pacer),
        "two-workers": ("2 workers, unpaced()", args.messages, 2, unpaced),
    }
    print(f"bizdevops-bot outbox drain · {await server_version(args.database_url)} · "
          f"Python {platform.python_version()} · {os.cpu_count()} CPUs · load avg "
          f"{os.getloadavg()[0]:.1f} · {args.channels} channels · a fault after every "
          f"{args.fault_every}th call (429 Retry-After 1 / 500 / dropped connection in turn) · "
          f"slack_sdk retry handlers: {args.sdk_retries}",
          flush=True)
    total = time.perf_counter()
    outcomes: list[Outcome] = []
    for key in args.only:
        name, messages, workers, pacer = runs[key]
        outcome = await on_fresh_database(
            args.database_url,
            lambda url, _folder, name=name, messages=messages, workers=workers, pacer=pacer: drain(
                name, url, messages, channels, workers, pacer, args.fault_every,
                args.sdk_retries == "default"))
        outcomes.append(outcome)
        print(f"  {name}: {outcome.messages} messages drained in {outcome.drain_s:.1f} s "
              f"({outcome.rate:.0f}/s), {'OK' if not outcome.problems else 'PROBLEMS'}", flush=True)

    print()
    print(table(
        ["run", "messages", "enqueue s", "drain s", "msg/s", "CPU ms/msg", "API calls",
         "faults injected",
         "worker.retries", "rows sent/dead/pending", "exactly once, in order"],
        [[o.name, f"{o.messages:,}", f"{o.enqueue_s:.1f}", f"{o.drain_s:.1f}", f"{o.rate:.0f}",
          f"{o.cpu_s / o.messages * 1000:.2f}",
          f"{o.calls:,}", f"{sum(o.faults.values())}", f"{o.retries}",
          f"{o.statuses.get('sent', 0)}/{o.statuses.get('dead', 0)}/{o.statuses.get('pending', 0)}",
          "yes" if not o.problems else "NO"] for o in outcomes]))
    print()
    for o in outcomes:
        print(f"  {o.name}: faults " + ", ".join(f"{k} x{v}" for k, v in sorted(o.faults.items())))
        for problem in o.problems:
            print(f"    PROBLEM: {problem}")
    paced = next((o for o in outcomes if o.name.endswith("Pacer()")), None)
    if paced and paced.drain_s:
        print(f"\n  paced drain scales with N/20 s (the overall bucket): {args.messages:,} messages "
              f"would take ≈ {args.messages / paced.rate:.0f} s at the measured {paced.rate:.1f}/s")
    ok = all(not o.problems for o in outcomes)
    print("  (CPU ms/msg: this whole process — workers, fake Slack, backlog polling — per message; "
          f"load avg now {os.getloadavg()[0]:.1f}: other processes share the CPUs)")
    print(f"\nzero loss, zero duplicates, per-channel order, nothing dead: "
          f"{'yes' if ok else 'NO'} · total {time.perf_counter() - total:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
