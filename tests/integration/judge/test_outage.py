"""Judge outages: the scripted server (a subprocess) is killed and restarted on the same port while calls run.

Real: the client, the openai SDK, HTTP on 127.0.0.1, a server process that really goes away (connections refused)
and comes back. Faked: the judge model only (the scripted server's lexical role answers the verdict schema).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from askrl.judge.client import UNAVAILABLE, JudgeClient
from askrl.judge.config import BreakerConfig, RetryConfig
from askrl.judge.types import FailureKind, FinalVerdict
from askrl.testing.scripted_server import ServerHandle, spawn

GRADE = [{"role": "user", "content": "Grade this answer."}]
RETRY = RetryConfig(max_attempts=2, initial_delay_s=0.01, max_delay_s=0.05, jitter_ratio=0.0)
BREAKER = BreakerConfig(failure_threshold=3, cooldown_s=0.3)


class Judge:
    """A scripted judge subprocess on a fixed port: ``kill()`` it, ``start()`` it again on the same port."""

    def __init__(self) -> None:
        self.proc, self.url = spawn()
        self.port = int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def start(self) -> None:
        self.proc, _ = spawn(port=self.port)


@pytest.fixture
def judge() -> Iterator[Judge]:
    server = Judge()
    yield server
    server.kill()


def calls(n: int) -> list[list[dict[str, str]]]:
    return [GRADE + [{"role": "user", "content": f"case {i}"}] for i in range(n)]


async def test_calls_wait_through_an_outage_and_none_fails(
    judge: Judge, make_client: Callable[..., JudgeClient]
) -> None:
    client = make_client(f"{judge.url}/v1", retry=RETRY, breaker=BREAKER, call_timeout_s=20.0)
    assert (await client.complete(GRADE, FinalVerdict)).ok
    judge.kill()
    pending = [asyncio.create_task(client.complete(m, FinalVerdict)) for m in calls(20)]
    await asyncio.sleep(1.5)  # far more than the retry budget (2 attempts) would last without waiting
    assert not any(t.done() for t in pending)
    await asyncio.to_thread(judge.start)
    results = await asyncio.gather(*pending)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    metrics = client.metrics()
    assert metrics["judge/failures"] == 0 and metrics["judge/calls"] == 21
    assert metrics["judge/endpoint/ep0/failures/http_error"] >= BREAKER.failure_threshold  # refused, counted
    assert metrics["judge/endpoint/ep0/circuit_opened"] >= 1 and metrics["judge/endpoint/ep0/circuit_open"] == 0


async def test_a_lone_call_outlasts_its_retry_budget_when_the_endpoint_is_down(
    judge: Judge, make_client: Callable[..., JudgeClient]
) -> None:
    client = make_client(f"{judge.url}/v1", retry=RETRY, breaker=BREAKER, call_timeout_s=20.0)
    judge.kill()
    task = asyncio.create_task(client.complete(GRADE, FinalVerdict))
    await asyncio.sleep(1.0)
    await asyncio.to_thread(judge.start)
    result = await task
    assert result.ok and result.attempts > RETRY.max_attempts  # refused connections used no transport budget


async def test_a_call_that_reaches_no_endpoint_until_its_deadline_says_the_judge_is_gone(
    judge: Judge, make_client: Callable[..., JudgeClient]
) -> None:
    client = make_client(f"{judge.url}/v1", retry=RETRY, breaker=BREAKER, call_timeout_s=1.0)
    judge.kill()
    start = time.monotonic()
    result = await client.complete(GRADE, FinalVerdict)
    assert result.failure in (FailureKind.HTTP_ERROR, FailureKind.NO_ENDPOINT) and time.monotonic() - start <= 1.1
    assert (result.error or "").startswith(UNAVAILABLE)  # the trainer stops the run on this
    assert f"ep0 (http://127.0.0.1:{judge.port}/v1" in result.error
    assert "call_timeout_s=1" in result.error and "\n" not in result.error
    assert client.metrics()["judge/failures"] == 1
    judge.start()  # the fixture kills it again


async def test_a_judge_that_answered_during_the_call_is_not_gone(
    judge: Judge, make_client: Callable[..., JudgeClient]
) -> None:
    ServerHandle(judge.url).script([{"status": 500}])
    slow_retry = RETRY.model_copy(update={"initial_delay_s": 0.5, "max_delay_s": 0.5, "max_attempts": 10})
    client = make_client(f"{judge.url}/v1", retry=slow_retry, breaker=BREAKER, call_timeout_s=1.0)
    call = asyncio.create_task(client.complete(GRADE, FinalVerdict))
    await asyncio.sleep(0.2)  # the 500 came back; the retry waits 0.5 s
    judge.kill()
    result = await call
    assert not result.ok and not (result.error or "").startswith(UNAVAILABLE)  # a masked call, not a stopped run
    judge.start()


async def test_queueing_counts_against_the_deadline(judge: Judge, make_client: Callable[..., JudgeClient]) -> None:
    judge.kill()
    judge.proc, _ = spawn("--latency-ms", "800", port=judge.port)
    client = make_client(f"{judge.url}/v1", max_concurrency=1, call_timeout_s=0.5)
    first, second = await asyncio.gather(*(client.complete(m, FinalVerdict) for m in calls(2)))
    assert {first.failure, second.failure} == {FailureKind.TIMEOUT}
    assert second.attempts == 0 or first.attempts == 0  # one of them never got the only slot
