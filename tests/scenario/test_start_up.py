"""`bizdevops serve` starts with garbage collection off (bot.cli: start-up's objects live until
exit, and collecting while they were made cost 0.2–0.5 s) and turns it back on once they are
frozen: a server that left it off would never collect a cycle again."""

from __future__ import annotations

import gc
import shutil
from dataclasses import replace
from pathlib import Path

from bot import server
from bot.config import Settings
from bot.simulator.fake_slack import FakeSlack
from tests.scenario.scale_support import SECRET, TOKEN


async def test_collection_is_on_again_once_the_server_has_started(
        sqlite_template: Path, tmp_path: Path, unused_tcp_port: int) -> None:
    path = tmp_path / "bizdevops.db"
    shutil.copy(sqlite_template, path)
    fake = FakeSlack(bot_token=TOKEN)
    await fake.start()
    settings = replace(Settings(), database_url=f"sqlite+aiosqlite:///{path}", port=unused_tcp_port,
                       slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                       slack_api_url=fake.api_url)
    gc.disable()  # as bot.cli does before it imports the server
    try:
        started = await server._start(settings)
        assert started is not None
        assert gc.isenabled()
        app, runner = started
        await runner.cleanup()
        await app.stop()
    finally:
        gc.enable()
        await fake.stop()
