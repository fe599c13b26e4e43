"""``should_retry``, ``retry_delay``, ``parse_retry_after``: table tests of the pure retry policy (no I/O, no fakes)."""

from __future__ import annotations

import asyncio

import httpx2
import openai
import pytest

from askrl.judge.attempt_errors import JudgeParseError, JudgeSchemaError, JudgeTimeoutError, JudgeTransportError
from askrl.judge.retry import parse_retry_after, retry_delay, should_retry

_REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (400, False),
        (401, False),
        (404, False),
        (422, False),
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (True, False),  # a bool is not a status
        (JudgeTimeoutError("slow"), True),
        (TimeoutError(), True),
        (JudgeTransportError("refused", status_code=None), True),
        (JudgeTransportError("500", status_code=500), True),
        (JudgeTransportError("400", status_code=400), False),
        (JudgeParseError("no json", raw=""), False),
        (JudgeSchemaError("bad", raw=""), False),
        (asyncio.CancelledError(), False),
        (ValueError("bug"), False),
        (openai.APIConnectionError(request=_REQUEST), True),
        (openai.APITimeoutError(request=_REQUEST), True),
    ],
)
def test_should_retry_table(error: int | BaseException, expected: bool) -> None:
    assert should_retry(error) is expected


@pytest.mark.parametrize(
    ("retry_after_s", "expected"),
    [(None, True), (1.0, True), (120.0, True), (121.0, False), (3600.0, False)],
)
def test_should_retry_refuses_retry_after_beyond_cap(retry_after_s: float | None, expected: bool) -> None:
    assert should_retry(429, retry_after_s=retry_after_s, max_retry_after_s=120.0) is expected


@pytest.mark.parametrize(
    ("attempt", "retry_after_s", "rand", "expected"),
    [
        (1, None, 0.0, 0.5),
        (2, None, 0.0, 1.0),
        (3, None, 0.0, 2.0),
        (4, None, 0.0, 4.0),
        (5, None, 0.0, 8.0),
        (9, None, 0.0, 8.0),  # capped at max_s
        (10_000, None, 0.0, 8.0),  # no overflow
        (0, None, 0.0, 0.5),  # a nonsense attempt number is treated as the first
        (1, None, 1.0, 0.375),  # full jitter removes 25 %
        (3, None, 0.5, 1.75),
        (1, 3.0, 0.0, 3.0),  # Retry-After wins
        (4, 0.25, 1.0, 0.25),  # ... also below the backoff, and without jitter
        (1, 0.0, 0.0, 0.5),  # zero: back off normally
        (1, -5.0, 0.0, 0.5),  # negative: back off normally
        (2, 500.0, 0.0, 1.0),  # beyond max_retry_after_s: ignored
        (2, float("inf"), 0.0, 1.0),
    ],
)
def test_retry_delay_table(attempt: int, retry_after_s: float | None, rand: float, expected: float) -> None:
    delay = retry_delay(
        attempt, retry_after_s, initial_s=0.5, max_s=8.0, jitter_ratio=0.25, max_retry_after_s=120.0, rand=lambda: rand
    )
    assert delay == pytest.approx(expected)


def test_retry_delay_near_zero_config() -> None:
    """What the integration tests rely on: a tiny initial delay keeps every backoff tiny."""
    assert retry_delay(4, None, initial_s=0.001, max_s=0.01) <= 0.008


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected
