"""Token buckets: Slack takes about one message per second per channel (short bursts allowed)
and a few hundred a minute per workspace. Pure; time is passed in (monotonic seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float     # tokens per second
    burst: float    # the most that can be spent at once
    tokens: float = field(init=False)
    stamp: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def _refill(self, now: float) -> None:
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def ready(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= 1

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


@dataclass
class Pacer:
    """One bucket per channel and one for everything this process sends."""

    per_channel: float = 1.0
    channel_burst: float = 3.0
    overall: float = 20.0
    overall_burst: float = 40.0
    _channels: dict[str, TokenBucket] = field(default_factory=dict)
    _all: TokenBucket | None = None

    def _bucket(self, channel: str) -> TokenBucket:
        if channel not in self._channels:
            self._channels[channel] = TokenBucket(self.per_channel, self.channel_burst)
        return self._channels[channel]

    def _overall(self) -> TokenBucket:
        if self._all is None:
            self._all = TokenBucket(self.overall, self.overall_burst)
        return self._all

    def room(self, now: float) -> int:
        """How many messages may go out right now in all."""
        bucket = self._overall()
        bucket.ready(now)
        return int(bucket.tokens)

    def busy_channels(self, now: float) -> set[str]:
        return {c for c, bucket in self._channels.items() if not bucket.ready(now)}

    def sent(self, channel: str, now: float) -> None:
        self._bucket(channel).take(now)
        self._overall().take(now)


def unpaced() -> Pacer:
    """For the simulator and tests: every message at once."""
    return Pacer(per_channel=1e9, channel_burst=1e9, overall=1e9, overall_burst=1e9)
