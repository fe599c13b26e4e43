"""A per-endpoint circuit breaker: an endpoint that keeps failing is left out, then probed with one request.

Who uses it: ``JudgeClient`` (one breaker per endpoint, instance state). States: ``closed`` (requests flow),
``open`` (no requests until ``cooldown_s`` has passed), ``half_open`` (one probe in flight; its success closes the
breaker, its failure re-opens it). Only transport failures count (timeouts, refused connections, 429, 5xx); a
reply that is not the schema proves the endpoint is up. Not thread-safe: it lives on one event loop, and
``available``/``on_send`` are called with no ``await`` between them.

    if breaker.available():
        breaker.on_send(); ...; breaker.record_success()  # or record_failure() / release()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Counts consecutive transport failures of one endpoint."""

    def __init__(self, failure_threshold: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._probe_in_flight or self._clock() - self._opened_at >= self._cooldown_s:
            return "half_open"
        return "open"

    def cooldown_left_s(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when closed or already cooled down)."""
        if self._opened_at is None:
            return 0.0
        return max(self._opened_at + self._cooldown_s - self._clock(), 0.0)

    def available(self) -> bool:
        """Whether a request may be sent now (closed, or cooled down with no probe in flight)."""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._probe_in_flight)

    def on_send(self) -> None:
        """Mark a request as sent; in ``half_open`` it becomes the single probe."""
        if self._opened_at is not None:
            self._probe_in_flight = True

    def record_success(self) -> None:
        """The endpoint answered: close the breaker and forget past failures."""
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def record_failure(self) -> bool:
        """A transport failure. Returns True when this failure opened (or re-opened) the breaker."""
        self._failures += 1
        was_probe = self._probe_in_flight
        self._probe_in_flight = False
        if was_probe or (self._opened_at is None and self._failures >= self._threshold):
            self._opened_at = self._clock()
            self.times_opened += 1
            return True
        return False

    def release(self) -> None:
        """A request ended without a verdict on the endpoint (cancelled): free the probe slot, change nothing else."""
        self._probe_in_flight = False
