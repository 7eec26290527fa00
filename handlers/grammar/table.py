"""The slash commands, one row each: name, words for Slack's command list, grammar, help and
usage. The listeners (handlers/slash_commands.py), the app manifest's usage hints
(bot/slack/manifest.py) and the shell's help read this table; README's usage is tested against
it (tests/unit/test_command_table.py), so a sub-command added to a grammar's USAGE shows up in
all of them or fails a test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.grammar import deploy_grammar, digest_grammar, metric_grammar, usecase_grammar

USAGE_HINT_LIMIT = 1000  # Slack refuses a manifest whose usage hint is longer


@dataclass(frozen=True, eq=False)  # one of each: compared and hashed by identity
class Grammar:
    name: str                         # "/deploy"
    description: str                  # Slack's list of commands
    title: str                        # the head of `help`
    parse: Callable[[str], Any]       # text → a command of bot/services/commands.py
    usage: dict[str, str]             # sub-command → how to write it
    help_lines: Sequence[tuple[str, str]]

    def usage_hint(self) -> str:
        """Every way to write it, without the command's name: what Slack shows as you type."""
        ways = dict.fromkeys(" ".join(way.strip().removeprefix(self.name).split())
                             for line in self.usage.values() for way in line.split("  |  "))
        return " | ".join(w for w in ways if w) + " | help"


USECASE = Grammar("/usecase", "Track a data-science use case through Biz → Dev → Ops → Continuous",
                  "/usecase — track use cases from Biz to Ops", usecase_grammar.parse_usecase,
                  usecase_grammar.USAGE, usecase_grammar.HELP)
# `/deploy <slug> <version>` has no verb of its own: a refusal shows how to start one.
DEPLOY = Grammar("/deploy", "Start and follow staged deployments with approvals",
                 "/deploy — staged deployments from chat", deploy_grammar.parse_deploy,
                 {**deploy_grammar.USAGE, "": deploy_grammar.USAGE["start"]}, deploy_grammar.HELP)
METRIC = Grammar("/metric", "Record and show KPIs, targets and DORA metrics",
                 "/metric — shared KPIs and DORA metrics", metric_grammar.parse_metric,
                 metric_grammar.USAGE, metric_grammar.HELP)
DIGEST = Grammar("/digest", "Post or schedule this channel's BizDevOps digest",
                 "/digest — status digests for this channel", digest_grammar.parse_digest,
                 digest_grammar.USAGE, digest_grammar.HELP)
COMMANDS: tuple[Grammar, ...] = (USECASE, DEPLOY, METRIC, DIGEST)
