"""Token buckets per key with a fixed clock: the burst, the wait until the next token, refill,
independence of keys, and memory that stays bounded."""

from __future__ import annotations

import pytest

from updraft.guards.throttle import RateLimiter


def test_burst_then_the_exact_wait() -> None:
    limiter = RateLimiter(rate_per_second=2, burst=3)
    assert [limiter.take("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 100.0) == pytest.approx(0.5)
    assert limiter.take("a", 100.2) == pytest.approx(0.3)  # refused calls take nothing
    assert limiter.take("a", 100.5) == 0.0
    assert limiter.take("a", 100.5) == pytest.approx(0.5)


def test_steady_rate() -> None:
    limiter = RateLimiter(rate_per_second=10, burst=1)
    allowed = sum(limiter.take("a", t / 100) == 0.0 for t in range(0, 1000))  # every 10 ms for 10 s
    assert allowed == 100


def test_refill_caps_at_the_burst() -> None:
    limiter = RateLimiter(rate_per_second=1, burst=2)
    limiter.take("a", 0.0)
    limiter.take("a", 0.0)
    assert [limiter.take("a", 3600.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_slow_rates() -> None:
    limiter = RateLimiter(rate_per_second=0.1, burst=1)
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 4.0) == pytest.approx(6.0)
    assert limiter.take("a", 10.0) == 0.0


def test_keys_are_independent() -> None:
    limiter = RateLimiter(rate_per_second=1, burst=1)
    assert limiter.take("alice", 0.0) == 0.0
    assert limiter.take("alice", 0.0) > 0
    assert limiter.take("bob", 0.0) == 0.0


def test_a_clock_that_steps_back_adds_no_tokens() -> None:
    limiter = RateLimiter(rate_per_second=1, burst=1)
    assert limiter.take("a", 10.0) == 0.0
    assert limiter.take("a", 5.0) == pytest.approx(1.0)
    assert limiter.take("a", 10.5) == pytest.approx(0.5)


def test_idle_keys_are_forgotten() -> None:
    limiter = RateLimiter(rate_per_second=1, burst=5)  # a bucket is full again after 5 s idle
    for i in range(1000):
        limiter.take(f"k{i}", 0.0)
    assert len(limiter) == 1000
    limiter.take("k0", 4.9)
    assert len(limiter) == 1000  # nobody idle long enough yet
    limiter.take("late", 5.0)
    assert len(limiter) == 2  # k1..k999 forgotten; k0 (used at 4.9) and "late" remain
    limiter.take("late", 9.95)
    assert len(limiter) == 1


def test_forgetting_changes_nothing_a_client_sees() -> None:
    remembered = RateLimiter(rate_per_second=1, burst=3)
    forgetful = RateLimiter(rate_per_second=1, burst=3)
    for limiter in (remembered, forgetful):
        for _ in range(3):
            limiter.take("a", 0.0)
    forgetful.take("other", 3.0)  # "a" is full again by now: forgotten
    assert len(forgetful) == 1
    assert [remembered.take("a", 3.0) for _ in range(4)] == [forgetful.take("a", 3.0) for _ in range(4)]


def test_max_keys_bounds_memory() -> None:
    limiter = RateLimiter(rate_per_second=0.001, burst=1, max_keys=100)
    for i in range(10_000):
        limiter.take(f"k{i}", float(i) / 1000)
    assert len(limiter) == 100
    assert limiter.take("k9999", 10.0) > 0  # the most recent keys are the ones kept
    assert limiter.take("k0", 10.0) == 0.0  # the oldest was dropped, so it starts full


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rate_per_second": 0, "burst": 1}, "rate_per_second must be more than 0"),
    ({"rate_per_second": -1, "burst": 1}, "rate_per_second must be more than 0"),
    ({"rate_per_second": float("nan"), "burst": 1}, "rate_per_second must be more than 0"),
    ({"rate_per_second": 1, "burst": 0}, "burst must be a whole number, 1 or more"),
    ({"rate_per_second": 1, "burst": 1.5}, "burst must be a whole number, 1 or more"),
    ({"rate_per_second": 1, "burst": True}, "burst must be a whole number, 1 or more"),
    ({"rate_per_second": 1, "burst": 1, "max_keys": 0}, "max_keys must be a whole number, 1 or more"),
])
def test_invalid_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimiter(**kwargs)


def test_wait_tells_what_take_would_without_taking() -> None:
    from updraft.guards.throttle import RateLimiter

    limiter = RateLimiter(1.0, 2)
    assert limiter.wait("a", 0.0) == 0.0 and len(limiter) == 0  # nothing remembered by asking
    assert limiter.take("a", 0.0) == 0.0 and limiter.take("a", 0.0) == 0.0
    assert limiter.wait("a", 0.0) == limiter.take("a", 0.0) == 1.0
    assert limiter.wait("a", 0.5) == 0.5
