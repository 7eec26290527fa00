"""The areas' tables merge into one only when no key is claimed twice."""

from __future__ import annotations

import pytest

from bot.render.blocks import one_table


def test_a_key_two_tables_claim_is_refused() -> None:
    assert one_table({"a": 1}, {"b": 2}) == {"a": 1, "b": 2}
    with pytest.raises(ValueError, match=r"claimed by two tables: \['a'\]"):
        one_table({"a": 1}, {"a": 2, "c": 3})
