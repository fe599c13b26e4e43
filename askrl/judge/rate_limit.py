"""An async token bucket for requests-per-minute and tokens-per-minute limits of one endpoint.

Who uses it: ``JudgeClient``, one bucket per configured limit (instance state, never a class global).
Contract: ``acquire(n)`` waits (asynchronously, FIFO) until ``n`` units are available, then takes them; the bucket
holds at most one minute's worth. ``adjust(delta)`` corrects an estimate afterwards (a TPM reservation made from
the prompt length, fixed up with the reported usage) and may leave the bucket in debt. It never raises.

    rpm = TokenBucket(per_min=600); await rpm.acquire(1)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """Refills continuously at ``per_min / 60`` units per second up to ``per_min``."""

    def __init__(self, per_min: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = per_min
        self._rate_per_s = per_min / 60.0
        self._clock = clock
        self._tokens = per_min
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate_per_s)
        self._stamp = now

    async def acquire(self, amount: float) -> None:
        """Take ``amount`` units, waiting for the refill; a request larger than the bucket waits for a full one."""
        need = min(amount, self._capacity)
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= need:
                    self._tokens -= amount
                    return
                await asyncio.sleep((need - self._tokens) / self._rate_per_s)

    def adjust(self, delta: float) -> None:
        """Take ``delta`` more units (negative: give some back) without waiting."""
        self._refill()
        self._tokens = min(self._capacity, self._tokens - delta)
