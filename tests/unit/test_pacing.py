from __future__ import annotations

from bot.runtime.pacing import Pacer, TokenBucket


def test_a_bucket_allows_a_burst_then_one_per_interval() -> None:
    bucket = TokenBucket(rate=1.0, burst=3)
    sent = 0
    while bucket.ready(0.0):
        bucket.take(0.0)
        sent += 1
    assert sent == 3
    assert not bucket.ready(0.5)
    assert bucket.ready(1.0)


def test_pacer_keeps_busy_channels_apart_and_caps_the_total() -> None:
    pacer = Pacer(per_channel=1.0, channel_burst=2, overall=10.0, overall_burst=4)
    for _ in range(2):
        pacer.sent("C1", 0.0)
    assert pacer.busy_channels(0.0) == {"C1"}
    assert pacer.room(0.0) == 2
    pacer.sent("C2", 0.0)
    pacer.sent("C3", 0.0)
    assert pacer.room(0.0) == 0
    assert pacer.busy_channels(1.0) == set() and pacer.room(1.0) >= 4
