"""GitHub's rate-limit headers as the github-actions executor reads them (pure, no server)."""

from __future__ import annotations

import pytest

from bot.executors.github_limits import MAX_WAIT, SECONDARY_LIMIT_WAIT, Limit, floor, rate_limit, until_words

NOW = 1_772_442_000.0  # 2026-03-02 09:00:00 UTC


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (429, {"Retry-After": "30"}, Limit(NOW + 30)),
    (429, {"Retry-After": "0"}, Limit(NOW)),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 600)}, Limit(NOW + 600)),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 600)}, Limit(NOW - 600)),
    (429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, Limit(NOW + SECONDARY_LIMIT_WAIT)),
    (429, {}, Limit(NOW + SECONDARY_LIMIT_WAIT)),
    (403, {}, None),                                   # no permission, not a rate limit
    (403, {"x-ratelimit-remaining": "12", "x-ratelimit-reset": "1"}, None),
    (404, {"Retry-After": "5"}, None),
])
def test_what_an_answer_asks_for(status: int, headers: dict[str, str], expected: Limit | None) -> None:
    assert rate_limit(status, headers, NOW) == expected


@pytest.mark.parametrize("headers", [
    {"Retry-After": "99999999999999"},
    {"Retry-After": "9" * 5000},                       # int() would refuse this many digits
    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999999999999"},
])
def test_an_absurd_wait_is_clamped(headers: dict[str, str]) -> None:
    assert rate_limit(429 if "Retry-After" in headers else 403, headers, NOW) == \
        Limit(NOW + MAX_WAIT, clamped=True)


def test_digits_that_are_not_ascii_are_no_number() -> None:
    assert rate_limit(429, {"Retry-After": "²"}, NOW) == Limit(NOW + SECONDARY_LIMIT_WAIT)


def test_the_time_is_said_in_utc() -> None:
    assert until_words(NOW + 67) == "09:01:07 UTC"
    assert until_words(NOW + MAX_WAIT, clamped=True) == "at least 11:00:00 UTC"


def test_the_floor_doubles_up_to_a_minute() -> None:
    assert [floor(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert floor(10_000) == 60
