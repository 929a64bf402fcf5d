"""Request rate limiting (pure: the clock is a parameter): one token bucket per key, e.g. per
access key, so one busy client cannot starve the others. The server answers a refused request
with ThrottlingException and RetryAfterSeconds, which the AWS SDKs retry with back-off.

Each bucket holds at most `burst` tokens and refills at `rate_per_second`; a request takes one.
Memory stays bounded: a bucket idle long enough to be full again is the same as a new one, so it
is forgotten (checked oldest-first on every call, O(1) amortized); beyond `max_keys` live buckets
the least recently used is dropped too (that key then starts with a full bucket again)."""

from __future__ import annotations

from collections import OrderedDict

_EPSILON = 1e-9


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: int, *, max_keys: int = 10_000) -> None:
        if not rate_per_second > 0:
            raise ValueError(f"rate_per_second must be more than 0, got {rate_per_second!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a whole number, 1 or more, got {burst!r}")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ValueError(f"max_keys must be a whole number, 1 or more, got {max_keys!r}")
        self.rate = float(rate_per_second)
        self.burst = burst
        self.max_keys = max_keys
        self._refill_s = burst / self.rate  # an idle bucket is full again after this long
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at), oldest first

    def __len__(self) -> int:
        """How many keys are remembered (for tests and metrics)."""
        return len(self._buckets)

    def _forget_idle(self, now: float) -> None:
        while self._buckets:
            key, (tokens, at) = next(iter(self._buckets.items()))
            if now - at < self._refill_s and len(self._buckets) <= self.max_keys:
                return
            del self._buckets[key]

    def wait(self, key: str, now: float) -> float:
        """What `take` would answer now, without taking a token or touching the bucket."""
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        return 0.0 if tokens >= 1.0 - _EPSILON else (1.0 - tokens) / self.rate

    def take(self, key: str, now: float) -> float:
        """0.0 if the request may go ahead (a token is taken), else the seconds until a token is
        available (nothing is taken). `now` is a monotonic clock reading in seconds."""
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        at = max(at, now)  # a clock that steps back never adds tokens
        if tokens >= 1.0 - _EPSILON:  # refills summed in floating point fall a hair short of whole tokens
            self._buckets[key] = (max(0.0, tokens - 1.0), at)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, at)
            wait = (1.0 - tokens) / self.rate
        self._forget_idle(now)
        return wait
