"""Every word the example sessions make the bot say, byte for byte.

Each script in examples/shell runs in the simulator on a clock that starts at a fixed instant, and
two things are compared with the files in tests/snapshots/: the transcript (what people in the
channel see, ephemeral answers included) and every Web API call's arguments (blocks and the
plain-text fallback exactly as Slack receives them). A change to any message fails here until the
snapshot is regenerated on purpose:

    BIZDEVOPS_UPDATE_SNAPSHOTS=1 python3 scripts/dev.py test tests/scenario/test_message_snapshots.py

and the diff of tests/snapshots/ is the change a reviewer reads.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.simulator.shell import Shell, _scripted
from bot.simulator.simulator import OffsetClock, Simulator
from examples.mlflow_seed import main as seed
from tests.servers.mlflow import MlflowServer, unique

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
UPDATE = os.environ.get("BIZDEVOPS_UPDATE_SNAPSHOTS") == "1"
MESSAGE_METHODS = ("chat.", "views.")

# What a script needs besides its lines (the README's command for it).
SCRIPTS = {
    "rollout": {"pipelines_path": "examples/pipelines.rollout.toml"},
    "weekend": {"pipelines_path": "examples/pipelines.rehearsal.toml"},
    "freezes": {"pipelines_path": "examples/pipelines.rehearsal.toml"},
    "dialogs": {},
    "kpis": {"kpi_sources_path": "examples/kpis.local.toml"},
}


class StartsAt:
    """Wall time moved to a fixed start: the same dates in every run, real seconds between."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


def _steady(text: str, folder: Path) -> str:
    """Only what depends on the machine is rewritten: ports, folders (a session's own too), how
    many real seconds a step took (a loaded machine says "1 second" where another says "less
    than") and the size of a chart's file."""
    text = text.replace(str(folder), "<folder>").replace(tempfile.gettempdir(), "<tmp>")
    text = re.sub(r"bizdevops-shell/[\w-]+/", "bizdevops-shell/<session>/", text)  # its own folder
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    text = re.sub(r"\(\d+ kB\) →", "(<size> kB) →", text)  # a chart's PNG, by matplotlib's version
    return re.sub(r"\b(less than a second|\d+ seconds?|\d+ s)\b", "<seconds>", text)


def _calls(sim: Simulator) -> str:
    """One line per message call; a button's single-use token and a dialog's trigger are
    random by design, so only their places are kept."""
    lines = []
    for call in sim.fake.calls:
        if call.method.startswith(MESSAGE_METHODS):
            line = json.dumps({"method": call.method, "args": call.args},
                              sort_keys=True, ensure_ascii=False)
            line = re.sub(r'"value": "[\w-]{22}"', '"value": "<token>"', line)
            lines.append(re.sub(r'"trigger_id": "[^"]+"', '"trigger_id": "<trigger>"', line))
    return "\n".join(lines) + "\n"


def _compare(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist: written now, check it in")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "snapshot",
                                    "now", n=1, lineterm="")
        pytest.fail(f"{name} changed:\n" + "\n".join(list(diff)[:40]) +
                    "\nIf the change is intended, regenerate with BIZDEVOPS_UPDATE_SNAPSHOTS=1.")


@pytest.mark.parametrize("script", sorted(SCRIPTS))
async def test_the_example_sessions_say_what_they_said(
        script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await _session(script, tmp_path, monkeypatch, SCRIPTS[script])


async def test_the_mlflow_session_says_what_it_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_server: MlflowServer) -> None:
    """examples/shell/mlflow.txt against a real MLflow, seeded as the README's recipe says
    (under a name of its own: the server is shared; the transcript says the example's)."""
    model = unique("churn-xgb")
    await asyncio.to_thread(seed, mlflow_server.url, model)
    await _session("mlflow", tmp_path, monkeypatch,
                   {"pipelines_path": "examples/pipelines.mlflow.toml",
                    "mlflow_url": mlflow_server.url}, model=model)


async def _session(script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   config: dict[str, str], *, model: str = "churn-xgb") -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)  # the example pipelines run their scripts by relative path
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{tmp_path}/warehouse.db")
    settings = replace(Settings(), database_url=f"sqlite+aiosqlite:///{tmp_path}/shell.db",
                       outbox_poll_seconds=0.05, **config)  # type: ignore[arg-type]
    script_text = (tmp_path / "examples" / "shell" / f"{script}.txt").read_text()
    lines = script_text.replace("churn-xgb", model).splitlines()
    out = io.StringIO()
    strict = "--strict" in script_text  # its header says nothing in it is refused: checked
    async with Simulator(settings, clock=OffsetClock(StartsAt(START))) as sim:
        assert await _scripted(Shell(sim, out, color=False), lines, strict=strict) == 0, \
            out.getvalue()
        calls = _calls(sim)
    _compare(f"{script}.transcript.txt", _steady(out.getvalue(), tmp_path).replace(model, "churn-xgb"))
    _compare(f"{script}.calls.jsonl", _steady(calls, tmp_path).replace(model, "churn-xgb"))
