"""The command table (handlers/grammar/table.py) is what Slack, the shell and README say: a
sub-command added to a grammar shows up everywhere or fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.simulator.shell import HELP as SHELL_HELP
from bot.slack.manifest import build_manifest
from handlers.grammar.table import COMMANDS, USAGE_HINT_LIMIT, Grammar

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _ways(grammar: Grammar) -> list[str]:
    return [" ".join(way.split()) for line in grammar.usage.values() for way in line.split("  |  ")]


@pytest.mark.parametrize("grammar", COMMANDS, ids=lambda g: g.name)
def test_readme_writes_every_usage_as_the_grammar_does(grammar: Grammar) -> None:
    readme = [" ".join(line.split()) for line in README.splitlines()]
    missing = [way for way in _ways(grammar) if not any(line.startswith(way) for line in readme)]
    assert not missing, f"README's usage of {grammar.name} lacks: {missing}"


@pytest.mark.parametrize("grammar", COMMANDS, ids=lambda g: g.name)
def test_the_manifest_hints_every_sub_command_within_slacks_limit(grammar: Grammar) -> None:
    command = next(c for c in build_manifest("https://bot.example.com")["features"]["slash_commands"]
                   if c["command"] == grammar.name)
    assert command["description"] == grammar.description
    hint = command["usage_hint"]
    assert len(hint) <= USAGE_HINT_LIMIT
    for way in _ways(grammar):
        assert way.removeprefix(grammar.name).strip() in hint
    assert hint.endswith("| help")


@pytest.mark.parametrize("grammar", COMMANDS, ids=lambda g: g.name)
def test_help_and_the_shell_name_every_sub_command(grammar: Grammar) -> None:
    helped = {usage for usage, _ in grammar.help_lines}
    assert {line for key, line in grammar.usage.items() if key} <= helped | {grammar.usage.get("")}
    assert f"{grammar.name} ..." in SHELL_HELP
