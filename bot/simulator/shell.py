"""`bizdevops shell`: a chat prompt in the terminal over the :class:`Simulator`.

Interactive when stdin is a terminal; with ``--script FILE`` or piped input it runs the lines,
prints a transcript and exits non-zero if any line failed to run (``--strict``: or the bot
refused it, see strict.py).
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.runtime.timeline import MAX_MOMENTS
from bot.simulator.clocks import movable
from bot.simulator.fake_slack import RecordedCall
from bot.simulator.pasting import say
from bot.simulator.render_text import render_blocks, render_mrkdwn
from bot.simulator.simulator import Simulator, Step
from bot.simulator.strict import refusal
from handlers.grammar.table import COMMANDS

HELP = f"""\
Type what you would type in Slack, as the current user in the current channel:
  {"  ".join(f"{grammar.name} ..." for grammar in COMMANDS)}   (`/deploy help`: its usage)
Simulator commands:
  as @bob        act as another user (new names are created)   alice is an admin
  in #ops        switch channel (new channels are created)
  in #deals private @bob   a new private channel of you, @bob and the bot (`group`: a group DM)
  home           open your App Home tab
  say TEXT       post TEXT as a message ($DASHBOARD: the dashboard's address); with
                 BIZDEVOPS_PUBLIC_URL set, a link to a use case's page unfurls, as in Slack
  click N        press button N of the messages above (or `click approve`: the newest one)
  submit f=v ... fill in the open dialog's fields by name and submit it, e.g.
                 submit slug=churn title="Predict churn" owner=@bob channel=#ops
  submit TEXT    put TEXT into the open dialog's first field and submit it
  time +6w       move the simulated clock forward (m, h, d or w) and show what fell due
  time fri 16:30 move it forward to the next Friday at 16:30 UTC (mon … sun), the same way
  sql NAME STMT  run a statement on the KPI source file's connection NAME (a data engineer
                 changing the warehouse), e.g. sql warehouse INSERT INTO scores VALUES (0.8)
  wait 2s        let real time pass (webhook callbacks, slow commands) and show what happened
  help           this text
  quit           leave (Ctrl-D works too)
Lines starting with # are comments."""

_TIME_RE = re.compile(r"\+(\d+)([mhdw])")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_TIME_RE = re.compile(rf"({'|'.join(_WEEKDAYS)}) ([01]?\d|2[0-3]):([0-5]\d)")
_WAIT_RE = re.compile(r"(\d+(?:\.\d+)?)s?")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class LineFailed(Exception):
    pass


class Shell:
    def __init__(self, sim: Simulator, out: TextIO, *, color: bool) -> None:
        self.sim = sim
        self.out = out
        self.color = color
        self._saved: set[str] = set()
        self._files: Path | None = None  # this session's folder of uploaded files
        self.refused: str | None = None  # what refused the line just run (see strict.py)

    def prompt(self) -> str:
        return f"{self.sim.name_of(self.sim.user)} in #{self.sim.name_of(self.sim.channel)}> "

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def run_line(self, line: str) -> bool:
        """Run one line; False means quit. Raises LineFailed when the line could not run."""
        line, self.refused = line.strip(), None
        word, _, rest = line.partition(" ")
        if not line or line.startswith("#"):
            return True
        if word in ("quit", "exit"):
            return False
        if word == "help":
            self.say(HELP)
        elif line.startswith("/"):
            self.show(await self.sim.command(line))
        elif word == "as" and rest.strip():
            self.say(f"(you are now @{self.sim.switch_user(rest.strip())})")
        elif word == "in" and rest.strip():
            self.say(self._switch_channel(rest.split()))
        elif word == "say" and rest.strip():
            self.show((await say(self.sim, rest.strip().replace("$DASHBOARD", self.sim.base_url)))[1])
        elif word == "home":
            step, view = await self.sim.open_home()
            self.show(step, show_home=view)
        elif word == "click" and rest.strip():
            try:
                target = rest.strip()
                number = int(target) if target.isdigit() else self.sim.button_number(target)
                self.show(await self.sim.click(number))
            except LookupError as missing:
                raise LineFailed(str(missing)) from None
        elif word == "submit" and rest.strip():
            try:
                self.show(await self.sim.submit(rest.strip()))
            except LookupError as missing:
                raise LineFailed(str(missing)) from None
        elif not await self._time_and_data(word, rest):
            raise LineFailed(f"I don't understand {line!r}; type `help`.")
        return True

    def _switch_channel(self, words: list[str]) -> str:
        """``in #ops``; a new ``in #deals private @bob`` or ``in #deals group @bob`` (a group DM)
        is closed: only you, the people named and the bot are in it."""
        kind = words[1].lower() if len(words) > 1 else ""
        if kind not in ("", "private", "group"):
            raise LineFailed("Write `in #channel`, `in #channel private @user ...` or "
                             "`in #channel group @user ...`.")
        closed = words[2:] if kind else None
        name = self.sim.switch_channel(words[0], private_with=closed, group_dm=kind == "group")
        return f"(you are now in #{name})"

    async def _time_and_data(self, word: str, rest: str) -> bool:
        """`wait`, `time +…` and `sql …`; False if the line is none of them."""
        if word == "wait" and (w := _WAIT_RE.fullmatch(rest.strip() or "1s")):
            self.show(await self.sim.wait(min(float(w.group(1)), 600.0)))
        elif word == "time" and (m := _TIME_RE.fullmatch(rest.strip())):
            await self._move_clock(timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}))
        elif word == "time" and (d := _DAY_TIME_RE.fullmatch(rest.strip().lower())):
            await self._move_clock(_until(self.sim.clock.now(), _WEEKDAYS.index(d.group(1)),
                                          int(d.group(2)), int(d.group(3))))
        elif word == "sql" and len(rest.split(None, 1)) == 2:
            name, statement = rest.split(None, 1)
            try:
                self.say(await self.sim.warehouse(name, statement))
            except LookupError as missing:
                raise LineFailed(str(missing)) from None
        else:
            return False
        return True

    async def _move_clock(self, delta: timedelta) -> None:
        """Everything that falls due on the way happens at its own moment, in order."""
        if not movable(self.sim.clock):
            raise LineFailed("this simulator's clock can't be moved")
        self.say(f"(simulated time is now {self.sim.clock.now() + delta:%Y-%m-%d %H:%M} UTC)")
        step, passed = await self.sim.pass_time(delta)
        self.show(step)
        if passed.caught_up:
            self.say(f"({passed.moments} moments fell due: past {MAX_MOMENTS}, KPI pulls were "
                     "made once, the newest, as after a restart; move in smaller steps for each)")

    def show(self, step: Step, *, show_home: dict[str, Any] | None = None) -> None:
        if step.status != 200:
            raise LineFailed(f"the bot answered HTTP {step.status}")
        refused = refusal(step)
        if self.refused is None and refused is not None:
            self.refused = render_mrkdwn(refused, names=self.sim.fake.name_of, color=False)
        for field, problem in ((step.reply or {}).get("errors") or {}).items():
            self.say(f"  ✗ {field}: {problem}")
        if step.reply and (step.reply.get("text") or step.reply.get("blocks")):
            self._render("(only visible to you)", step.reply, channel=self.sim.channel)
        if step.reply and step.reply.get("response_action") == "update":
            view = step.reply.get("view") or {}
            self._render("the dialog now says", view, channel=None, view=view)
        for call in step.calls:
            self._render_call(call)
        for _token, body in step.responses:
            self._render("(only visible to you)", body, channel=self.sim.channel)
        if show_home is not None:
            self._render("App Home", show_home, channel=None, view=show_home)

    def _render_call(self, call: RecordedCall) -> None:
        if call.status != 200 or not call.response.get("ok"):
            return
        channel = call.args.get("channel")
        where = f"#{self.sim.name_of(channel)}" if channel else ""
        if channel and channel[0] in "UWD":  # posted to a person (U…), or edited in the DM (D…)
            person = self.sim.name_of(channel)  # a DM's name is its person's user ID
            where = f"direct message to @{self.sim.name_of(person) if channel[0] == 'D' else person}"
        if call.method == "chat.postMessage":
            message = {**call.args, "ts": call.response.get("ts")}
            thread = " ↳ in the thread" if call.args.get("thread_ts") else ""
            self._render(f"{where} · bizdevops{thread}", message, channel=channel)
        elif call.method == "chat.update":
            self._render(f"{where} · bizdevops (edited)", call.args, channel=channel)
        elif call.method == "chat.unfurl":  # where: the message's channel, or the composer
            for url, preview in (call.args.get("unfurls") or {}).items():
                self._render(f"{where or 'your message'} · preview of {url}", preview, channel=None)
        elif call.method == "files.completeUploadExternal":
            self._show_uploads(call)
        elif call.method == "views.open":
            view = call.args.get("view") or {}
            title = (view.get("title") or {}).get("text", "dialog")
            self._render(f"dialog: {title} (answer with `submit field=value ...`)", view,
                         channel=None, view=view)
        elif call.method == "chat.postEphemeral":
            who = self.sim.name_of(call.args.get("user", ""))
            self._render(f"{where} · bizdevops (only visible to @{who})", call.args,
                         channel=channel)

    def _show_uploads(self, call: RecordedCall) -> None:
        """Files land on disk so a chart can be opened from the terminal: in a folder of this
        session's own (file IDs start again at each session; an earlier chart stays as it was)."""
        if self._files is None:
            shared = Path(tempfile.gettempdir()) / "bizdevops-shell"
            shared.mkdir(exist_ok=True)
            self._files = Path(tempfile.mkdtemp(prefix=f"{datetime.now():%Y%m%d-%H%M%S}-",
                                                dir=shared))
        folder = self._files
        for upload in self.sim.fake.uploads:
            if upload["file_id"] in self._saved:
                continue
            self._saved.add(upload["file_id"])
            path = folder / f"{upload['file_id']}-{upload['filename']}"
            path.write_bytes(upload["content"])
            where = f"#{self.sim.name_of(upload.get('channel_id') or '')}"
            self.say(f"  📎 {where} · {upload['title']} ({len(upload['content']) // 1024} kB) → {path}")

    def _render(self, title: str, message: dict[str, Any], *, channel: str | None,
                view: dict[str, Any] | None = None) -> None:
        text, buttons = render_blocks(
            message.get("blocks"), message.get("text", ""), names=self.sim.fake.name_of,
            color=self.color, first_button=self.sim.next_button_number(),
        )
        self.sim.register_buttons(buttons, channel=channel, message=None if view else message,
                                  view=view)
        self.say(f"  ┌ {title}")
        for line in text.splitlines():
            self.say(f"  │ {line}")
        self.say("  └")


def read_script(script: str | None) -> list[str] | None:
    """The lines to run, or None for an interactive session (no script, stdin a terminal)."""
    if script is not None:
        with open(script, encoding="utf-8") as source:
            return source.read().splitlines()
    return None if sys.stdin.isatty() else sys.stdin.read().splitlines()


async def run_shell(settings: Settings, *, lines: list[str] | None, color: str,
                    strict: bool = False) -> int:
    use_color = color == "always" or (color == "auto" and sys.stdout.isatty())
    async with Simulator(settings) as sim:
        shell = Shell(sim, sys.stdout, color=use_color)
        if lines is None:
            return await _interactive(shell)
        return await _scripted(shell, lines, strict=strict)


async def _scripted(shell: Shell, lines: list[str], *, strict: bool = False) -> int:
    """Run the lines; 1 if a line could not run (``strict``: or the bot refused it)."""
    failures = refused = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            shell.say(shell.prompt() + line.strip())
        try:
            if not await shell.run_line(line):
                break
        except LineFailed as failed:
            failures += 1
            shell.say(f"!! line {number} failed: {failed}")
        if strict and shell.refused is not None:
            refused += 1
            shell.say(f"!! line {number} was refused: {shell.refused}")
    if failures:
        shell.say(f"!! {failures} line(s) failed")
    if refused:
        shell.say(f"!! {refused} line(s) refused (--strict)")
    return 1 if failures or refused else 0


async def _interactive(shell: Shell) -> int:
    try:
        import readline  # noqa: F401 - arrow keys and history at the prompt
    except ImportError:
        pass
    shell.say("bizdevops simulator — type `help` for what you can do, `quit` to leave.")
    shell.say(f"Web dashboard: {shell.sim.base_url}/ — a browser here signs in as the current user.")
    while True:
        try:
            line = await asyncio.to_thread(input, shell.prompt())
        except EOFError:
            shell.say()
            return 0
        try:
            if not await shell.run_line(line):
                return 0
        except LineFailed as failed:
            shell.say(f"!! {failed}")


def _until(now: datetime, weekday: int, hour: int, minute: int) -> timedelta:
    """From ``now`` to the next such weekday and time (UTC), a week ahead if that is now."""
    at = now.astimezone(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    at += timedelta(days=(weekday - at.weekday()) % 7)
    return at - now if at > now else at + timedelta(days=7) - now
