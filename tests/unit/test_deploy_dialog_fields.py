"""The deploy dialog's fields read by the rules of `/deploy <slug> <version> override="…"`."""

from __future__ import annotations

import pytest

from bot.slack import ids
from handlers.grammar.deploy_grammar import start_from_dialog
from handlers.grammar.parsing import FieldErrors


def test_an_override_given_in_the_dialog_is_the_command_s() -> None:
    command = start_from_dialog("churn", {ids.DEPLOY_VERSION_TYPED: "1.4.0",
                                          ids.DEPLOY_OVERRIDE: "  hotfix *approved*  "})
    assert (command.slug, command.version, command.override) == ("churn", "1.4.0", "hotfix *approved*")
    assert start_from_dialog("churn", {ids.DEPLOY_VERSION_TYPED: "1.4.0"}).override == ""


def test_a_blank_override_is_a_field_error_naming_what_to_write() -> None:
    with pytest.raises(FieldErrors) as bad:
        start_from_dialog("churn", {ids.DEPLOY_VERSION_TYPED: "1.4.0", ids.DEPLOY_OVERRIDE: "   "})
    assert "Say why the freeze must be passed" in bad.value.errors[ids.DEPLOY_OVERRIDE]
