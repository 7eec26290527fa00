"""``one_line``: mrkdwn kept as mrkdwn on one clipped line, never cut inside an entity or escape."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.mrkdwn import ELLIPSIS, escape, one_line

ENTITY = re.compile(r"<[^<>]*>|&(?:amp|lt|gt);")


def test_short_text_stays_as_it_is_mentions_links_and_escapes_included() -> None:
    text = "🚀 <@UBOB> deployed <https://ci.example/1|run 1> in <#C1> · R&amp;D &lt;3"
    assert one_line(text, 200) == text


def test_line_breaks_become_one_space() -> None:
    assert one_line("first\nsecond\r\n\n  third\u2028fourth\n", 200) == "first second third fourth"


@pytest.mark.parametrize("cut", range(7, 20))
def test_a_mention_is_kept_whole_or_left_out(cut: int) -> None:
    text = "hi all <@UBOB123> done"               # the mention spans characters 7..16
    clipped = one_line(text, cut)
    assert len(clipped) <= cut and clipped.endswith(ELLIPSIS)
    assert clipped == ("hi all <@UBOB123>…" if cut >= 18 else "hi all…")


@pytest.mark.parametrize("cut", range(3, 9))
def test_an_escape_is_kept_whole_or_left_out(cut: int) -> None:
    clipped = one_line("R &amp; D and more", cut)
    assert clipped in ("R…", "R &amp;…") and len(clipped) <= cut
    assert "&amp;" in clipped or "&" not in clipped


def test_a_link_longer_than_the_room_ends_the_line() -> None:
    link = "<https://example.com/" + "x" * 300 + "|the run>"
    assert one_line(f"see {link} now", 200) == "see…"


def test_user_text_escaped_before_stays_escaped() -> None:
    hostile = escape("<!channel> & <@U1>") * 20
    clipped = one_line(hostile, 50)
    assert "<!channel>" not in clipped and "<@U1>" not in clipped
    assert not re.search(r"&(?!amp;|lt;|gt;)", clipped), clipped


_ATOMS = st.sampled_from(["a", "b", " ", "\n", "<@UBOB>", "<#C1>", "<!here>", "&amp;", "&lt;",
                          "&gt;", "<https://x.example/a|a link>", "*", "é", "🚀"])


@given(st.lists(_ATOMS, max_size=60), st.integers(min_value=1, max_value=120))
def test_any_clip_is_one_line_within_the_limit_and_whole_entities(atoms: list[str],
                                                                   limit: int) -> None:
    text = "".join(atoms)
    clipped = one_line(text, limit)
    assert len(clipped) <= limit and "\n" not in clipped
    body = clipped.removesuffix(ELLIPSIS)
    flat = " ".join(text.split())  # what one_line keeps of it, up to the spaces
    assert ENTITY.findall(body) == ENTITY.findall(flat)[:len(ENTITY.findall(body))]
    assert "<" not in ENTITY.sub("", body) and "&" not in ENTITY.sub("", body)
