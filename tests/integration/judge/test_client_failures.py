"""Every judge failure kind through the real client against scripted servers: outcome, attempts, stats, logs.

Faked: the judge model only (scripted server on 127.0.0.1). Backoff is near zero through ``RetryConfig``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest

from askrl.judge.client import JudgeClient
from askrl.judge.config import BreakerConfig, RetryConfig
from askrl.judge.types import FailureKind, FinalVerdict, TurnVerdict, check_hits_length

ClientFactory = Callable[..., JudgeClient]
CORRECT = {"json": {"decision": "correct"}}
GRADE = [{"role": "user", "content": "Grade this answer."}]


async def test_verdict_and_request_shape(judge_server, make_client: ClientFactory) -> None:
    judge_server.script([CORRECT])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, FinalVerdict)
    assert result.ok and result.verdict == FinalVerdict(decision="correct")
    assert result.attempts == 1 and result.endpoint == judge_server.base_url
    assert result.prompt_tokens == 3 and result.completion_tokens == 2  # word counts reported by the server
    (request,) = judge_server.requests()
    assert request["messages"] == GRADE and request["temperature"] == 0.0 and request["model"] == "judge"
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["name"] == "FinalVerdict"
    metrics = client.metrics()
    assert metrics["judge/calls"] == 1 and metrics["judge/retries"] == 0 and metrics["judge/failures"] == 0
    assert metrics["judge/tokens_in"] == 3 and metrics["judge/endpoint/ep0/calls"] == 1


async def test_endpoint_down_fails_over(judge_server, make_client: ClientFactory, dead_url: str, caplog) -> None:
    judge_server.script([CORRECT])
    client = make_client(dead_url, judge_server.base_url)
    caplog.set_level(logging.INFO, logger="askrl.judge.client")
    result = await client.complete(GRADE, FinalVerdict)
    assert result.ok and result.attempts == 2 and result.endpoint == judge_server.base_url
    metrics = client.metrics()
    assert metrics["judge/retries"] == 1 and metrics["judge/failures"] == 0
    assert metrics["judge/endpoint/ep0/failures/http_error"] == 1
    assert metrics["judge/endpoint/ep1/calls"] == 1
    assert any("retrying" in r.getMessage() and "ep0" in r.getMessage() for r in caplog.records)


async def test_all_endpoints_down_is_http_error(make_client: ClientFactory, dead_url: str, caplog) -> None:
    # without a call deadline the retry budget alone bounds a call (with one, it waits: test_outage.py)
    retry = RetryConfig(max_attempts=3, initial_delay_s=0.001, max_delay_s=0.002)
    client = make_client(dead_url, retry=retry, call_timeout_s=None)
    result = await client.complete(GRADE, FinalVerdict)
    assert not result.ok and result.verdict is None
    assert result.failure is FailureKind.HTTP_ERROR and result.attempts == 3
    assert "connection failed" in (result.error or "")
    assert client.metrics()["judge/failures/http_error"] == 1
    assert any(r.levelno == logging.WARNING and "judge call failed" in r.getMessage() for r in caplog.records)


async def test_hang_times_out_then_fails(fast_retry: RetryConfig, judge_server, make_client: ClientFactory) -> None:
    judge_server.script([{"hang": True, "repeat": 2}])
    client = make_client(
        judge_server.base_url, request_timeout_s=0.2, retry=fast_retry.model_copy(update={"max_attempts": 2})
    )
    start = time.monotonic()
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure is FailureKind.TIMEOUT and result.attempts == 2
    assert 0.35 < time.monotonic() - start < 2.0
    metrics = client.metrics()
    assert metrics["judge/failures/timeout"] == 1 and metrics["judge/endpoint/ep0/failures/timeout"] == 2


async def test_hang_on_one_endpoint_fails_over_to_the_other(judge_server_factory, make_client: ClientFactory) -> None:
    hanging, healthy = judge_server_factory(hang_rate=1.0), judge_server_factory()
    client = make_client(hanging.base_url, healthy.base_url, request_timeout_s=0.2)
    results = await asyncio.gather(*(client.complete(GRADE, FinalVerdict) for _ in range(4)))
    assert all(r.ok and r.endpoint == healthy.base_url for r in results)
    assert client.metrics()["judge/endpoint/ep0/failures/timeout"] >= 1


async def test_http_500_is_retried_until_success(judge_server, make_client: ClientFactory) -> None:
    judge_server.script([{"status": 500, "repeat": 2}, CORRECT])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, FinalVerdict)
    assert result.ok and result.attempts == 3
    assert [r["status"] for r in judge_server.requests()] == [500, 500, 200]
    metrics = client.metrics()
    assert metrics["judge/retries"] == 2 and metrics["judge/endpoint/ep0/failures/http_error"] == 2


async def test_http_500_budget_spent_is_explicit_failure(
    fast_retry: RetryConfig, judge_server, make_client: ClientFactory
) -> None:
    judge_server.script([{"status": 500, "repeat": 10}])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure is FailureKind.HTTP_ERROR and result.attempts == fast_retry.max_attempts
    assert "HTTP 500" in (result.error or "")
    assert len(judge_server.requests()) == fast_retry.max_attempts


@pytest.mark.parametrize("status", [401, 404, 422])
async def test_other_4xx_is_not_retried(judge_server, make_client: ClientFactory, status: int) -> None:
    judge_server.script([{"status": status}, CORRECT])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure is FailureKind.HTTP_ERROR and result.attempts == 1
    assert len(judge_server.requests()) == 1


async def test_429_retry_after_is_honoured(judge_server, make_client: ClientFactory) -> None:
    judge_server.script([{"status": 429, "headers": {"retry-after": "0.3"}}, CORRECT])
    client = make_client(judge_server.base_url)  # initial_delay_s is 0.001: any wait comes from Retry-After
    start = time.monotonic()
    result = await client.complete(GRADE, FinalVerdict)
    assert result.ok and result.attempts == 2
    assert time.monotonic() - start >= 0.29


async def test_429_retry_after_beyond_cap_gives_up(
    fast_retry: RetryConfig, judge_server, make_client: ClientFactory
) -> None:
    judge_server.script([{"status": 429, "headers": {"retry-after": "30"}}, CORRECT])
    client = make_client(judge_server.base_url, retry=fast_retry.model_copy(update={"max_retry_after_s": 5.0}))
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure is FailureKind.HTTP_ERROR and result.attempts == 1


async def test_malformed_json_is_reasked_with_repair_note(
    fast_retry: RetryConfig, judge_server, make_client: ClientFactory
) -> None:
    judge_server.script([{"content": "The assistant did fine."}, CORRECT])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, FinalVerdict)
    assert result.ok and result.attempts == 2
    first, second = judge_server.requests()
    assert second["messages"][:1] == GRADE
    assert second["messages"][1] == {"role": "assistant", "content": "The assistant did fine."}
    assert "could not be used" in second["messages"][2]["content"]
    assert second["temperature"] == pytest.approx(first["temperature"] + fast_retry.repair_temperature_step)
    assert client.metrics()["judge/endpoint/ep0/failures/invalid_json"] == 1


async def test_malformed_json_budget_spent(fast_retry: RetryConfig, judge_server, make_client: ClientFactory) -> None:
    judge_server.script([{"content": "no verdict here", "repeat": 5}])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure is FailureKind.INVALID_JSON
    assert result.attempts == 1 + fast_retry.parse_retries
    assert result.raw == "no verdict here"
    assert client.metrics()["judge/failures/invalid_json"] == 1


async def test_string_booleans_are_never_true(judge_server, make_client: ClientFactory) -> None:
    bad = {"answered_final": "false", "hits": ["true", "false"]}
    judge_server.script([{"json": bad, "repeat": 5}])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, TurnVerdict)
    assert result.failure is FailureKind.SCHEMA_MISMATCH and result.verdict is None
    assert "answered_final" in (result.error or "")
    assert client.metrics()["judge/failures/schema_mismatch"] == 1


async def test_wrong_list_length_then_repaired(judge_server, make_client: ClientFactory) -> None:
    short = {"answered_final": False, "hits": [True]}
    good = {"answered_final": False, "hits": [True, False, True]}
    judge_server.script([{"json": short}, {"json": good}])
    client = make_client(judge_server.base_url)
    result = await client.complete(GRADE, TurnVerdict, check=lambda v: check_hits_length(v, 3))
    assert result.ok and result.attempts == 2 and result.verdict is not None
    assert result.verdict.hits == [True, False, True]
    assert "hits has 1 entries" in judge_server.requests()[1]["messages"][2]["content"]


async def test_slow_endpoint_gets_less_traffic(judge_server_factory, make_client: ClientFactory) -> None:
    """With bounded concurrency, fewest-outstanding routing sends the freed slots to the endpoint that frees them."""
    slow, fast = judge_server_factory(latency_ms=300), judge_server_factory()
    client = make_client(slow.base_url, fast.base_url, max_concurrency=4)
    results = await asyncio.gather(
        *(client.complete(GRADE + [{"role": "user", "content": str(i)}], FinalVerdict) for i in range(30))
    )
    assert all(r.ok for r in results)  # the lexical role answers the final-grading schema
    slow_calls, fast_calls = len(slow.requests()), len(fast.requests())
    assert slow_calls + fast_calls == 30 and fast_calls > 3 * slow_calls
    metrics = client.metrics()
    assert metrics["judge/endpoint/ep0/latency_s/p50"] >= 0.3 > metrics["judge/endpoint/ep1/latency_s/p95"]


async def test_circuit_breaker_opens_and_skips_failing_endpoint(
    judge_server_factory, make_client: ClientFactory, caplog
) -> None:
    broken, healthy = judge_server_factory(error_rate=1.0), judge_server_factory()
    client = make_client(broken.base_url, healthy.base_url, breaker=BreakerConfig(failure_threshold=2, cooldown_s=60))
    for i in range(6):
        result = await client.complete(GRADE + [{"role": "user", "content": str(i)}], FinalVerdict)
        assert result.ok
    assert len(broken.requests()) == 2  # two failures opened it; later calls never reached it
    metrics = client.metrics()
    assert metrics["judge/endpoint/ep0/circuit_open"] == 1 and metrics["judge/endpoint/ep0/circuit_opened"] == 1
    assert metrics["judge/endpoint/ep1/circuit_open"] == 0
    assert any("circuit breaker opened" in r.getMessage() for r in caplog.records)


async def test_all_breakers_open_is_no_endpoint_then_probe_recovers(judge_server, make_client: ClientFactory) -> None:
    judge_server.configure(error_rate=1.0)
    breaker = BreakerConfig(failure_threshold=1, cooldown_s=0.3)
    client = make_client(judge_server.base_url, breaker=breaker, call_timeout_s=None)  # no deadline to wait within
    first = await client.complete(GRADE, FinalVerdict)
    assert first.failure is FailureKind.HTTP_ERROR and first.attempts == 1  # the failure opened the only breaker
    second = await client.complete(GRADE, FinalVerdict)
    assert second.failure is FailureKind.NO_ENDPOINT and second.attempts == 0 and second.endpoint is None
    assert len(judge_server.requests()) == 1
    judge_server.configure(error_rate=0.0)
    await asyncio.sleep(0.35)
    third = await client.complete(GRADE, FinalVerdict)
    assert third.ok and client.metrics()["judge/endpoint/ep0/circuit_open"] == 0
    assert client.metrics()["judge/failures/no_endpoint"] == 1


async def test_call_deadline_bounds_retries(judge_server, make_client: ClientFactory) -> None:
    judge_server.script([{"hang": True, "repeat": 10}])
    client = make_client(judge_server.base_url, request_timeout_s=5.0, call_timeout_s=0.3)
    start = time.monotonic()
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure is FailureKind.TIMEOUT
    assert time.monotonic() - start < 1.0


async def test_unreadable_2xx_bodies_are_invalid_json(judge_server, make_client: ClientFactory) -> None:
    judge_server.script(
        [
            {"raw_body": "{not json", "content_type": "application/json"},  # the SDK cannot decode it
            {"raw_body": "<html>proxy error</html>", "content_type": "text/html"},  # not a chat completion
            {"content": ""},  # a completion with empty text
        ]
    )
    client = make_client(judge_server.base_url, retry=RetryConfig(parse_retries=2, initial_delay_s=0.001))
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure is FailureKind.INVALID_JSON and result.attempts == 3
    assert client.metrics()["judge/endpoint/ep0/failures/invalid_json"] == 3
    assert client.metrics()["judge/endpoint/ep0/circuit_open"] == 0  # a garbage body still proves the endpoint is up
