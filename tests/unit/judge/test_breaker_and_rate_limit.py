"""Circuit breaker state machine (fake clock) and the async token bucket (real clock, sub-second waits)."""

from __future__ import annotations

import time

from askrl.judge.breaker import CircuitBreaker
from askrl.judge.rate_limit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)
    assert breaker.record_failure() is False
    assert breaker.record_failure() is False
    breaker.record_success()  # resets the run
    assert breaker.record_failure() is False
    assert breaker.record_failure() is False
    assert breaker.record_failure() is True
    assert breaker.state == "open" and not breaker.available()
    assert breaker.times_opened == 1


def test_breaker_half_open_lets_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10, clock=clock)
    breaker.record_failure()
    clock.now += 9.9
    assert not breaker.available()
    clock.now += 0.2
    assert breaker.state == "half_open" and breaker.available()
    breaker.on_send()
    assert not breaker.available()  # only one probe at a time
    breaker.record_success()
    assert breaker.state == "closed" and breaker.available()


def test_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    breaker.on_send()
    assert breaker.record_failure() is True
    assert breaker.state == "open" and breaker.times_opened == 2
    clock.now += 5
    assert not breaker.available()


def test_cancelled_probe_frees_the_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=0, clock=clock)
    breaker.record_failure()
    breaker.on_send()
    assert not breaker.available()
    breaker.release()
    assert breaker.available()


def test_cooldown_left_is_what_a_waiting_call_sleeps() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10, clock=clock)
    assert breaker.cooldown_left_s() == 0.0  # closed
    breaker.record_failure()
    clock.now += 4
    assert breaker.cooldown_left_s() == 6.0
    clock.now += 7
    assert breaker.cooldown_left_s() == 0.0 and breaker.available()
    breaker.on_send()
    breaker.record_failure()  # the probe failed: a full cooldown again
    assert breaker.cooldown_left_s() == 10.0


async def test_token_bucket_waits_for_refill() -> None:
    bucket = TokenBucket(per_min=600)  # 10 per second, burst 600
    start = time.monotonic()
    await bucket.acquire(600)
    assert time.monotonic() - start < 0.05
    await bucket.acquire(2)  # empty: needs 0.2 s of refill
    assert 0.15 <= time.monotonic() - start < 1.0


async def test_token_bucket_adjust_creates_debt() -> None:
    bucket = TokenBucket(per_min=600)
    bucket.adjust(601)  # reported usage exceeded the reservation by a full bucket
    start = time.monotonic()
    await bucket.acquire(1)
    assert time.monotonic() - start >= 0.15
