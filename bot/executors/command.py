"""The command executor: runs an argv list (never a shell) and keeps the tail of its output."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections import deque
from collections.abc import Mapping
from datetime import timedelta

from bot.domain.executor_specs import CommandSpec, ExecutorSpec
from bot.executors._common import clip, format_timeout
from bot.executors.base import ExecutorResult, Outcome, StageJob
from bot.log_events import get_logger

log = get_logger(__name__)

TAIL_LINES = 20
LINE_LIMIT = 500          # characters kept of one output line
_CHUNK = 64 * 1024
_DRAIN_SECONDS = 1.0      # how long to wait for the rest of the output after the process ended
_PLACEHOLDER = re.compile(r"\{(version|use_case|stage|targets|wave)\}")
_SECRET_PREFIXES = ("SLACK_", "BIZDEVOPS_")
_SECRET_NAMES = frozenset({"DATABASE_URL"})


def expand_argv(argv: tuple[str, ...], job: StageJob) -> list[str]:
    """Substitutes the placeholders in each argument, in one pass.

    Values are inserted as literal data: no ``str.format`` (a version ``{0.__class__}`` stays
    text) and no second pass (a version containing ``{stage}`` is not expanded again).
    """
    values = {
        "version": job.version,
        "use_case": job.use_case,
        "stage": job.stage,
        "targets": ",".join(job.targets),
        "wave": "" if job.wave is None else str(job.wave),
    }
    return [_PLACEHOLDER.sub(lambda m: values[m.group(1)], arg) for arg in argv]


def child_env(base: Mapping[str, str], job: StageJob) -> dict[str, str]:
    """The parent's environment without the bot's secrets, plus the job's description."""
    env = {
        name: value
        for name, value in base.items()
        if not name.upper().startswith(_SECRET_PREFIXES) and name.upper() not in _SECRET_NAMES
    }
    env.update(
        BIZDEVOPS_DEPLOYMENT_ID=job.deployment_id,
        BIZDEVOPS_VERSION=job.version,
        BIZDEVOPS_USE_CASE=job.use_case,
        BIZDEVOPS_STAGE=job.stage,
        BIZDEVOPS_TARGETS=",".join(job.targets),
    )
    return env


class CommandExecutor:
    """``env``: the environment to start from (default: this process's, read at each run)."""

    def __init__(self, *, env: Mapping[str, str] | None = None, kill_grace: float = 5.0) -> None:
        self._env = env
        self._kill_grace = kill_grace

    async def run(
        self, spec: ExecutorSpec, job: StageJob, *, timeout: timedelta  # noqa: ASYNC109 (protocol)
    ) -> ExecutorResult:
        assert isinstance(spec, CommandSpec)  # Executors runs each spec with its kind's executor
        if not spec.argv:
            return ExecutorResult(Outcome.FAILED, "no command configured")
        argv = expand_argv(spec.argv, job)
        env = child_env(os.environ if self._env is None else self._env, job)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group, so a timeout kills grandchildren too
            )
        except OSError as exc:
            log.warning("command_start_failed", deployment_id=job.deployment_id, stage=job.stage,
                        program=argv[0], error=type(exc).__name__)
            return ExecutorResult(Outcome.FAILED, _start_error(argv[0], exc))
        log.info("command_started", deployment_id=job.deployment_id, stage=job.stage, program=argv[0],
                 pid=proc.pid)
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        code = await self._supervise(proc, tail, timeout)
        log.info("command_finished", deployment_id=job.deployment_id, stage=job.stage, pid=proc.pid,
                 exit_code=code)
        if code is None:
            detail = f"timed out after {format_timeout(timeout)}"
            return ExecutorResult(Outcome.FAILED, detail, output_tail=tuple(tail))
        outcome = Outcome.SUCCEEDED if code == 0 else Outcome.FAILED
        return ExecutorResult(outcome, f"exit code {code}", output_tail=tuple(tail))

    async def _supervise(
        self, proc: asyncio.subprocess.Process, tail: deque[str], limit: timedelta
    ) -> int | None:
        """The exit code, or None after a timeout; on cancellation kills the process and re-raises."""
        assert proc.stdout is not None
        reader = asyncio.create_task(_read_lines(proc.stdout, tail))
        try:
            try:
                async with asyncio.timeout(limit.total_seconds()):
                    code = await proc.wait()
            except TimeoutError:
                await self._stop(proc)
                return None
            if not await _drained(reader):
                # A leftover child (normally in its group) still holds the pipe: end it. A group
                # id is not reused while the group has members, so this hits only the command's.
                _signal_group(proc.pid, signal.SIGKILL)
            return code
        except asyncio.CancelledError:
            await self._stop(proc)
            raise
        finally:
            await _drained(reader)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _stop(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM to the whole process group, SIGKILL after the grace period."""
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(self._kill_grace):
                await proc.wait()
        except TimeoutError:
            pass
        finally:
            # Also on a second cancellation: never leave the group running.
            _signal_group(proc.pid, signal.SIGKILL)
        await proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


async def _drained(reader: asyncio.Task[None]) -> bool:
    """Waits a moment for the reader to reach end of output; True if it did."""
    if not reader.done():
        await asyncio.wait({reader}, timeout=_DRAIN_SECONDS)
    return reader.done()


async def _read_lines(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    """Keeps the last lines in ``tail``; memory stays bounded whatever the output's size."""
    partial = b""
    while chunk := await stream.read(_CHUNK):
        lines = (partial + chunk).split(b"\n")
        partial = lines.pop()[: LINE_LIMIT * 4]  # a line without end is cut, not accumulated
        for line in lines[-TAIL_LINES:]:
            tail.append(_decode(line))
    if partial:
        tail.append(_decode(partial))


def _decode(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace").rstrip("\r")
    return text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…"


def _start_error(program: str, exc: OSError) -> str:
    name = clip(program, 200)
    if isinstance(exc, FileNotFoundError):
        return f"cannot start command: executable {name!r} not found"
    if isinstance(exc, PermissionError):
        return f"cannot start command: {name!r} is not executable"
    return f"cannot start command {name!r}: {exc.strerror or type(exc).__name__}"
