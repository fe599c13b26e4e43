"""When to retry a failed judge attempt and how long to wait: two pure functions, table-tested.

Who uses it: ``JudgeClient``'s retry loop, which owns all retries (each ``AsyncOpenAI`` has ``max_retries=0``).
Policy (after openai-python's ``_should_retry`` / ``_calculate_retry_timeout``): retry timeouts, connection
errors and 408/409/429/5xx; never another 4xx; never when the server asks for a ``Retry-After`` longer than the cap.
Delays grow exponentially from ``initial_s`` to ``max_s`` with jitter; a valid ``Retry-After`` wins.
Neither function raises or sleeps.

    if should_retry(503, retry_after_s=None):
        await asyncio.sleep(retry_delay(attempt=1, retry_after_s=None))
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Mapping

import openai

from askrl.judge import constants as C
from askrl.judge.attempt_errors import JudgeParseError, JudgeTimeoutError, JudgeTransportError

_RETRYABLE_STATUS = frozenset({408, 409, 429})


def should_retry(
    error: int | BaseException, *, retry_after_s: float | None = None, max_retry_after_s: float = C.MAX_RETRY_AFTER_S
) -> bool:
    """Whether a failed attempt is worth another try.

    Args:
        error: the HTTP status of the answer, or the exception the attempt raised.
        retry_after_s: the server's ``Retry-After`` in seconds, if it sent one.
        max_retry_after_s: a longer ``Retry-After`` means the server will not recover in time: do not retry.

    Returns:
        True for timeouts, refused or dropped connections, 408/409/429 and 5xx. False for other statuses, for
        replies that are not the schema (they have their own re-ask budget), for cancellation and unknown errors.
    """
    if retry_after_s is not None and math.isfinite(retry_after_s) and retry_after_s > max_retry_after_s:
        return False
    if isinstance(error, bool):  # bool is an int; a flag here is a caller bug, not a status
        return False
    if isinstance(error, int):
        return error in _RETRYABLE_STATUS or error >= 500
    if isinstance(error, asyncio.CancelledError | JudgeParseError):
        return False
    if isinstance(error, JudgeTransportError):
        return True if error.status_code is None else should_retry(error.status_code)
    if isinstance(error, openai.APIStatusError):
        return should_retry(error.status_code)
    return isinstance(error, JudgeTimeoutError | TimeoutError | openai.APIConnectionError)


def retry_delay(
    attempt: int,
    retry_after_s: float | None,
    *,
    initial_s: float = C.INITIAL_RETRY_DELAY_S,
    max_s: float = C.MAX_RETRY_DELAY_S,
    jitter_ratio: float = C.RETRY_JITTER_RATIO,
    max_retry_after_s: float = C.MAX_RETRY_AFTER_S,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    A server's ``Retry-After`` in ``(0, max_retry_after_s]`` is honoured exactly. Otherwise the delay is
    ``min(initial_s * 2**(attempt-1), max_s)`` reduced by a random fraction up to ``jitter_ratio`` (so many
    callers that failed together do not retry together). Never negative.
    """
    if retry_after_s is not None and math.isfinite(retry_after_s) and 0 < retry_after_s <= max_retry_after_s:
        return retry_after_s
    exponent = min(max(attempt, 1) - 1, 60)
    base = min(initial_s * 2.0**exponent, max_s)
    return max(base * (1.0 - jitter_ratio * rand()), 0.0)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (numeric forms only), ``None`` when absent or malformed."""
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    return None
