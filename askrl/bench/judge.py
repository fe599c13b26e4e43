"""Judge client throughput benchmark against a scripted server with fixed latency (``scripts/bench_judge.py``).

Who uses it: developers checking that the client is I/O-bound: with latency L ms and C requests in flight the
bound is ``C * 1000 / L`` calls per second, and the client should reach most of it while spending little CPU per
call. It starts ``python -m askrl.testing.scripted_server`` as a subprocess (so server CPU is not charged to the
client), pushes N ``grade_turn`` calls through ``LLMJudge`` + ``JudgeClient`` (prompt rendering, HTTP, JSON
extraction and validation included), then a few calls one at a time (the original's sequential pattern).

How it fails: ``EvalError`` if the server does not start or a call fails (a benchmark of failures is meaningless).
The last stdout line of ``main`` is JSON: ``calls_per_s``, ``bound_calls_per_s``, ``ratio`` and more.

    python scripts/bench_judge.py --calls 2000 --latency-ms 200 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict, dataclass

from askrl.errors import EvalError
from askrl.judge.client import JudgeClient
from askrl.judge.config import EndpointConfig, JudgeClientConfig
from askrl.judge.llm import LLMJudge
from askrl.judge.stats import percentile
from askrl.judge.types import JudgeRequest, JudgeResult, Turn, TurnVerdict
from askrl.testing.scripted_server import spawn


@dataclass(frozen=True)
class RunStats:
    """One timed batch of calls."""

    mode: str
    calls: int
    wall_s: float
    calls_per_s: float
    latency_p50_s: float
    latency_p95_s: float
    client_cpu_ms_per_call: float


def _request(i: int) -> JudgeRequest:
    """A distinct AskMind turn per call (distinct bodies, so nothing is served from a cache)."""
    return JudgeRequest(
        task="askmind",
        ori_question=f"Tom has {i + 5} apples and eats 2 at lunch. How many apples are left?",
        hidden_info=f"Tom starts with {i + 5} apples. He eats 2 apples at lunch.",
        checklist=("How many apples Tom has at the start", "How many apples Tom eats"),
        expected_answer=str(i + 3),
        history=(Turn("user", "Tom has some apples and eats some at lunch. How many are left?"),),
        response=f"How many apples does Tom have at the start (case {i})?",
    )


async def _timed(judge: LLMJudge, mode: str, indices: range, sequential: bool) -> RunStats:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    results: list[JudgeResult[TurnVerdict]] = []
    if sequential:
        for i in indices:
            results.append(await judge.grade_turn(_request(i)))
    else:
        results = list(await asyncio.gather(*(judge.grade_turn(_request(i)) for i in indices)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    failed = [r for r in results if not r.ok]
    if failed:
        raise EvalError(f"{len(failed)} of {len(results)} benchmark calls failed, first: {failed[0].error}")
    latencies = [r.latency_s for r in results]
    return RunStats(
        mode=mode,
        calls=len(results),
        wall_s=wall,
        calls_per_s=len(results) / wall,
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        client_cpu_ms_per_call=1000 * cpu / len(results),
    )


async def run_benchmark(url: str, calls: int, concurrency: int, sequential_calls: int) -> list[RunStats]:
    """Warm up, then time ``calls`` concurrent calls and ``sequential_calls`` one at a time."""
    cfg = JudgeClientConfig(
        endpoints=[EndpointConfig(name="bench", base_url=f"{url}/v1", model="judge", max_concurrency=concurrency)],
        max_concurrency=concurrency,
        request_timeout_s=60,
    )
    judge = LLMJudge(JudgeClient(cfg))
    try:
        await _timed(judge, "warmup", range(-concurrency, 0), sequential=False)
        concurrent = await _timed(judge, f"concurrent (C={concurrency})", range(calls), sequential=False)
        sequential = await _timed(judge, "sequential", range(calls, calls + sequential_calls), sequential=True)
    finally:
        await judge.aclose()
    return [concurrent, sequential]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Judge client throughput against a scripted server.")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sequential-calls", type=int, default=20, help="calls timed one at a time")
    args = parser.parse_args(argv)
    proc, url = spawn("--latency-ms", str(args.latency_ms))
    try:
        concurrent, sequential = asyncio.run(run_benchmark(url, args.calls, args.concurrency, args.sequential_calls))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    header = f"{'mode':<20} {'calls':>6} {'wall_s':>8} {'calls/s':>9} {'p50_s':>7} {'p95_s':>7} {'cpu_ms/call':>11}"
    print(header)
    for s in (concurrent, sequential):
        print(
            f"{s.mode:<20} {s.calls:>6} {s.wall_s:>8.2f} {s.calls_per_s:>9.1f} {s.latency_p50_s:>7.3f} "
            f"{s.latency_p95_s:>7.3f} {s.client_cpu_ms_per_call:>11.2f}"
        )
    print("(latency per call includes time queued behind the client's concurrency limit; cpu = client process only)")
    bound = args.concurrency * 1000.0 / args.latency_ms if args.latency_ms > 0 else float("inf")
    summary = {
        "calls": args.calls,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "calls_per_s": round(concurrent.calls_per_s, 2),
        "bound_calls_per_s": round(bound, 2),
        "ratio": round(concurrent.calls_per_s / bound, 4),
        "sequential_calls_per_s": round(sequential.calls_per_s, 2),
        "speedup_vs_sequential": round(concurrent.calls_per_s / sequential.calls_per_s, 1),
        "client_cpu_ms_per_call": round(concurrent.client_cpu_ms_per_call, 3),
        "runs": [asdict(concurrent), asdict(sequential)],
    }
    print(json.dumps(summary))
