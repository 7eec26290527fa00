"""The bot's worker process for CPU-bound work (bot/runtime/cpu_worker.py): real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from bot.runtime.cpu_worker import CpuWorker

ROOT = Path(__file__).resolve().parents[2]


async def test_work_runs_in_one_kept_process_of_its_own() -> None:
    worker = CpuWorker()
    try:
        first = await worker.run(os.getpid)
        assert first != os.getpid()
        assert await worker.run(os.getpid) == first  # kept for the next piece of work
        assert await worker.run(divmod, 17, 5) == (3, 2)
    finally:
        worker.close()


async def test_what_the_work_raises_reaches_the_caller() -> None:
    worker = CpuWorker()
    try:
        with pytest.raises(ValueError, match="invalid literal"):
            await worker.run(int, "not a number")
        assert await worker.run(int, "7") == 7  # the worker lives on
    finally:
        worker.close()


async def test_a_worker_that_died_fails_its_work_and_the_next_work_gets_a_new_one() -> None:
    worker = CpuWorker()
    try:
        dead = await worker.run(os.getpid)
        with pytest.raises(BrokenProcessPool):
            await worker.run(os._exit, 1)  # as if killed (out of memory) mid-work
        replacement = await worker.run(os.getpid)
        assert replacement not in (dead, os.getpid())
    finally:
        worker.close()


async def test_closing_stops_the_process() -> None:
    worker = CpuWorker()
    pid = await worker.run(os.getpid)
    worker.close()
    for _ in range(200):
        if not _alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid)


def test_the_bots_process_draws_a_chart_without_loading_matplotlib() -> None:
    """A fresh interpreter, as `bizdevops serve` is: the PNG comes back, and matplotlib (with
    the GIL it would hold while drawing) stays in the worker."""
    script = textwrap.dedent("""
        import asyncio, sys
        from datetime import UTC, datetime, timedelta
        from bot.render.charts import Panel, kpi_charts
        from bot.runtime.cpu_worker import CpuWorker

        async def main():
            worker = CpuWorker()
            now = datetime(2026, 12, 7, tzinfo=UTC)
            panel = Panel("auc", "", [now - timedelta(days=d) for d in range(30)],
                          [0.8 + d / 1000 for d in range(30)], target=0.85)
            png = await worker.run(kpi_charts, "Churn model", [panel])
            worker.close()
            print(png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", len(png) > 5000,
                  "matplotlib" in sys.modules)

        if __name__ == "__main__":
            asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "False"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that exited but was not yet reaped still answers; its state says it is gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_the_worker_can_start_under_python_m_bot() -> None:
    """``spawn`` imports the parent's main module in the worker as ``__mp_main__``: `python -m bot
    serve` must not start a second bot there."""
    import runpy

    namespace = runpy.run_module("bot.__main__", run_name="__mp_main__")  # SystemExit if it ran
    assert callable(namespace["main"])
