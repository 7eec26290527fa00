"""Runs deployments: launches due steps as tasks, keeps their leases alive, applies deadlines.

One engine per process; several processes share the work through the database (a step is
launched by whoever wins its revision guard; a dead process's lease runs out and its step is
failed — never run twice — unless what it started elsewhere, a GitHub run, can be followed:
then another process takes the step over and follows that run to its end).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.executors.base import HANDED_OVER, ExecutorResult, Intends, Outcome, Started
from bot.executors.registry import Executors
from bot.log_events import get_logger
from bot.services import deployment_moments
from bot.services.change_undo import ChangeUndo
from bot.services.deployment_runs import DeploymentRuns, Launched
from bot.services.ports import UnitOfWork
from bot.services.step_handover import keep_followable, take_over

log = get_logger(__name__)

LEASE = timedelta(seconds=60)  # also how long a worker holds each change it takes back (an
# MLflow put-back is bounded at 30 s); if it dies, the next worker takes back what is left


class DeploymentEngine:
    def __init__(self, runs: DeploymentRuns, executors: Executors, clock: Clock,
                 uow: Callable[[], UnitOfWork], *, poll_seconds: float = 1.0,
                 lock_reminder: timedelta = timedelta(hours=24), lease: timedelta = LEASE) -> None:
        self._lock_reminder = lock_reminder
        self._lease = lease
        self._runs = runs
        self._executors = executors
        self._clock = clock
        self._uow = uow
        self._poll = poll_seconds
        self.owner = uuid.uuid4().hex
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._undoing: dict[int, asyncio.Task[None]] = {}
        self._changes = ChangeUndo(uow, clock)

    # ── what the rest of the app calls ─────────────────────────────────────────────────────

    def notify(self) -> None:
        """There may be work now (a deployment was requested or moved): look at once."""
        self._wake.set()

    def kill(self, deployment_id: int, why: str | None = None) -> None:
        """Cancel wins: stop this deployment's running step here, if it runs here (``why``:
        ``HANDED_OVER`` leaves what it started elsewhere running)."""
        task = self._tasks.get(deployment_id)
        if task is not None:
            task.cancel(why)

    def undo(self, deployment_id: int) -> None:
        """The deployment ended without success: take back its stages' changes, in a task."""
        if deployment_id in self._undoing:
            return  # already at it here
        task = asyncio.create_task(self._undo(deployment_id), name=f"undo-{deployment_id}")
        self._undoing[deployment_id] = task
        task.add_done_callback(lambda _t: self._undoing.pop(deployment_id, None))

    async def _undo(self, deployment_id: int) -> None:
        step = self._tasks.get(deployment_id)
        if step is not None:  # a step stopped mid-change finishes stopping first
            await asyncio.wait([step])
        for change in await self._changes.claim(deployment_id, self._lease):
            try:
                line = await self._executors.undo(change.kind, change.data)
            except Exception as error:  # noqa: BLE001 - say it in the thread; people must act
                log.exception("undo.error", deployment_id=deployment_id)
                line = f"⚠️ Could not undo the {change.kind.value} stage ({type(error).__name__})"
            log.info("undo", deployment_id=deployment_id, kind=change.kind.value)
            await self._changes.undone(deployment_id, change.index, line)

    async def tick(self) -> int:
        """One pass: lost leases, deadlines, then launches. Returns how much it did."""
        done = 0
        for deployment_id in await self._runs.lost():
            if deployment_id in self._tasks:
                continue
            taken = await take_over(self._runs, deployment_id, self.owner, self._lease,
                                    self._executors.can_follow)
            if taken is not None:
                self._start(taken)
                done += 1
            elif await self._runs.mark_lost(deployment_id):
                done += 1
        for deployment_id in await self._runs.due(launch=False):
            if await self._runs.sweep(deployment_id) is not None:
                done += 1
        for deployment_id in await self._changes.due():  # a worker died taking changes back
            if deployment_id not in self._undoing:
                self.undo(deployment_id)
                done += 1
        done += await self._runs.remind_locks(self._lock_reminder)
        for deployment_id in await self._runs.due(launch=True):
            if deployment_id in self._tasks:
                continue
            launched = await self._runs.launch(deployment_id, self.owner, self._lease)
            if launched is not None:
                done += 1
                self._start(launched)
        return done

    async def next_due(self, after: datetime) -> datetime | None:
        """The first moment after ``after`` that :meth:`tick` has something time-based to do
        (the simulator steps its clock to it; this loop just looks every second)."""
        return await deployment_moments.next_due(self._uow, after, self._lock_reminder)

    async def run_until_idle(self, *, max_rounds: int = 200) -> None:
        """Tick and wait for running steps until nothing is left to do now (tests, simulator)."""
        for _ in range(max_rounds):
            did = await self.tick()
            if self._tasks or self._undoing:
                await asyncio.wait([*self._tasks.values(), *self._undoing.values()])
            elif not did:
                return

    # ── steps as tasks ──────────────────────────────────────────────────────────────────────

    def _start(self, launched: Launched) -> None:
        task = asyncio.create_task(self._run(launched), name=f"deployment-{launched.deployment_id}")
        self._tasks[launched.deployment_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(launched.deployment_id, None))

    async def _run(self, launched: Launched) -> None:
        stage = launched.deployment.stages[launched.index]
        spec = stage.spec.health if launched.step.kind.value == "health" else stage.spec.run
        assert spec is not None
        heartbeat = asyncio.create_task(self._heartbeat(launched.deployment_id))
        log.info("step.start", deployment_id=launched.deployment_id, stage=stage.name,
                 kind=launched.step.kind.value, wave=launched.job.wave, executor=spec.kind.value)
        try:
            if launched.follow:
                result = await self._executors.follow(spec, launched.job, launched.follow,
                                                      timeout=launched.timeout)
            else:
                result = await self._executors.run(spec, launched.job, timeout=launched.timeout,
                                                   started=self._started(launched),
                                                   intends=self._intends(launched))
        except asyncio.CancelledError:
            log.info("step.stopped", deployment_id=launched.deployment_id, stage=stage.name)
            raise
        except Exception as error:  # noqa: BLE001 - an executor bug fails the step, visibly
            log.exception("step.error", deployment_id=launched.deployment_id)
            result = ExecutorResult(Outcome.FAILED, f"executor error: {type(error).__name__}")
        finally:
            heartbeat.cancel()
        await self._runs.record(launched.deployment_id, launched.index, launched.step.kind,
                                launched.step.wave, result)

    def _started(self, launched: Launched) -> Started:
        async def started(ref: str) -> None:
            await keep_followable(self._runs, launched.deployment_id, launched.index,
                                  launched.step.kind, launched.step.wave, ref)
        return started

    def _intends(self, launched: Launched) -> Intends:
        async def intends(data: dict[str, str]) -> bool:
            return await self._changes.intend(launched.deployment_id, launched.index,
                                              launched.step.kind, launched.step.wave, data)
        return intends

    async def _heartbeat(self, deployment_id: int) -> None:
        """Keep the lease; if the deployment ended elsewhere (cancelled), stop the step here."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            async with self._uow() as uow:
                alive = await uow.deployments.renew_lease(deployment_id, self.owner,
                                                          self._clock.now() + self._lease)
                await uow.commit()
            if not alive:
                self.kill(deployment_id, None if await self._ended(deployment_id) else HANDED_OVER)
                return

    async def _ended(self, deployment_id: int) -> bool:
        """Why the lease could not be renewed: the deployment ended elsewhere (cancelled: its
        run is cancelled too), or another worker has the step now (the run is its to follow)."""
        async with self._uow() as uow:
            d = await uow.deployments.get(deployment_id)
        return d is None or not d.state.is_active

    # ── the background loop ────────────────────────────────────────────────────────────────

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="deployment-engine")

    async def stop(self, grace: float = 0.0) -> None:
        """Take no new work; let running steps finish within ``grace`` seconds, then stop them.

        A step stopped here keeps its lease until it runs out; then whichever process looks
        first follows what it started elsewhere (a GitHub run, left running), or fails it as
        lost (never run again).
        """
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        running = [*self._tasks.values(), *self._undoing.values()]  # an undo in flight finishes too
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        for task in running:  # a GitHub run goes on: the next worker follows it
            task.cancel(HANDED_OVER)
        await asyncio.gather(*running, return_exceptions=True)
        await self._executors.close()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - a database hiccup must not stop deployments for good
                log.exception("engine.loop_error")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            except TimeoutError:
                pass
