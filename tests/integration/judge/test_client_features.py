"""Client features beyond failure handling: response_format fallback, cache, limits, cancellation, determinism.

Faked: the judge model only (scripted server on 127.0.0.1); the client and HTTP stack are real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from askrl.judge.client import JudgeClient
from askrl.judge.types import FailureKind, FinalVerdict

ClientFactory = Callable[..., JudgeClient]
GRADE = [{"role": "user", "content": "Grade this answer."}]


def grade(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Grade answer {i}."}]


async def test_response_format_rejected_falls_back_and_remembers(
    judge_server_factory, make_client: ClientFactory
) -> None:
    server = judge_server_factory(reject_response_format=True)
    server.script([{"json": {"decision": "correct"}, "repeat": 2}])  # served only once the format is dropped
    client = make_client(server.base_url)
    first = await client.complete(GRADE, FinalVerdict)
    second = await client.complete(GRADE, FinalVerdict)
    assert first.ok and second.ok and first.attempts == 1
    formats = [r["response_format"] for r in server.requests()]
    assert formats[0]["type"] == "json_schema" and formats[1:] == [None, None]
    assert [r["status"] for r in server.requests()] == [400, 200, 200]


async def test_json_object_and_none_modes(judge_server, make_client: ClientFactory) -> None:
    judge_server.script([{"json": {"decision": "wrong"}, "repeat": 2}])
    as_object = make_client(judge_server.base_url, endpoint={"response_format": "json_object"})
    plain = make_client(judge_server.base_url, endpoint={"response_format": "none"})
    assert (await as_object.complete(GRADE, FinalVerdict)).ok
    assert (await plain.complete(GRADE, FinalVerdict)).ok
    assert [r["response_format"] for r in judge_server.requests()] == [{"type": "json_object"}, None]


async def test_cache_hit_skips_the_server_and_persists(
    judge_server, make_client: ClientFactory, tmp_path: Path
) -> None:
    judge_server.script([{"json": {"decision": "correct"}}])
    client = make_client(judge_server.base_url, cache_dir=tmp_path)
    first = await client.complete(GRADE, FinalVerdict)
    second = await client.complete(GRADE, FinalVerdict)
    assert first.ok and not first.cached
    assert second.cached and second.verdict == first.verdict and second.attempts == 0
    assert len(judge_server.requests()) == 1
    assert client.metrics()["judge/cache_hits"] == 1
    other = make_client(judge_server.base_url, cache_dir=tmp_path)  # a new process would see the same file
    assert (await other.complete(GRADE, FinalVerdict)).cached
    changed = await other.complete(GRADE, FinalVerdict, temperature=0.7)  # sampling is part of the key
    assert not changed.cached and len(judge_server.requests()) == 2


async def test_failures_are_not_cached(judge_server, make_client: ClientFactory, tmp_path: Path) -> None:
    judge_server.script([{"status": 404}, {"json": {"decision": "correct"}}])
    client = make_client(judge_server.base_url, cache_dir=tmp_path)
    assert (await client.complete(GRADE, FinalVerdict)).failure is FailureKind.HTTP_ERROR
    result = await client.complete(GRADE, FinalVerdict)
    assert result.ok and not result.cached


async def test_per_endpoint_concurrency_limit(judge_server_factory, make_client: ClientFactory) -> None:
    server = judge_server_factory(latency_ms=100)
    client = make_client(server.base_url, endpoint={"max_concurrency": 2})
    start = time.monotonic()
    results = await asyncio.gather(*(client.complete(grade(i), FinalVerdict) for i in range(6)))
    elapsed = time.monotonic() - start
    assert all(r.ok for r in results)
    assert 0.29 < elapsed < 1.5  # three waves of two, not one wave of six


async def test_global_concurrency_limit(judge_server_factory, make_client: ClientFactory) -> None:
    a, b = judge_server_factory(latency_ms=100), judge_server_factory(latency_ms=100)
    client = make_client(a.base_url, b.base_url, max_concurrency=2)
    start = time.monotonic()
    await asyncio.gather(*(client.complete(grade(i), FinalVerdict) for i in range(4)))
    assert time.monotonic() - start > 0.19


async def test_requests_per_minute_limit(judge_server, make_client: ClientFactory) -> None:
    client = make_client(judge_server.base_url, endpoint={"requests_per_min": 600})  # 10/s, burst 600
    # drain the burst without network, then time two real calls
    client._endpoints[0].rpm.adjust(600)  # noqa: SLF001  (white-box: start from an empty bucket)
    start = time.monotonic()
    await asyncio.gather(client.complete(grade(1), FinalVerdict), client.complete(grade(2), FinalVerdict))
    assert time.monotonic() - start >= 0.18


async def test_cancellation_propagates_and_frees_the_endpoint(judge_server, make_client: ClientFactory) -> None:
    judge_server.script([{"hang": True}])
    client = make_client(judge_server.base_url)
    task = asyncio.create_task(client.complete(GRADE, FinalVerdict))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    endpoint = client._endpoints[0]  # noqa: SLF001  (white-box: load accounting after a cancel)
    assert endpoint.outstanding == 0 and endpoint.breaker.state == "closed"
    assert client.metrics()["judge/calls"] == 0  # a cancelled call is not an outcome
    assert (await client.complete(GRADE, FinalVerdict)).ok


async def test_seeded_faults_are_deterministic(judge_server_factory, make_client: ClientFactory) -> None:
    def served(server) -> list[str]:
        return [r["served"] for r in server.requests()]

    a = judge_server_factory(error_rate=0.3, malformed_rate=0.3, seed=7)
    b = judge_server_factory(error_rate=0.3, malformed_rate=0.3, seed=7)
    c = judge_server_factory(error_rate=0.3, malformed_rate=0.3, seed=8)
    for server in (a, b, c):
        client = make_client(server.base_url)
        await asyncio.gather(*(client.complete(grade(i), FinalVerdict) for i in range(12)))
    assert sorted(served(a)) == sorted(served(b))
    assert {"fault_500", "fault_malformed", "judge_final"} <= set(served(a))
    assert sorted(served(a)) != sorted(served(c))


async def test_seed_is_sent(judge_server, make_client: ClientFactory) -> None:
    client = make_client(judge_server.base_url, seed=1234)
    await client.complete(GRADE, FinalVerdict)
    assert judge_server.requests()[0]["seed"] == 1234


async def test_tokens_per_minute_limit(judge_server, make_client: ClientFactory) -> None:
    client = make_client(judge_server.base_url, endpoint={"tokens_per_min": 600})  # 10 tokens/s
    bucket = client._endpoints[0].tpm  # noqa: SLF001  (white-box: start from an empty bucket)
    bucket.adjust(600)
    start = time.monotonic()
    result = await client.complete([{"role": "user", "content": "x" * 20}], FinalVerdict)  # ~5 tokens reserved
    assert time.monotonic() - start >= 0.4
    assert result.prompt_tokens == 1  # the server's usage ("one word"), which settles the reservation
