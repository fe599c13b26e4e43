"""Data-build throughput against a scripted LLM server with fixed latency (``scripts/bench_build.py``).

Who uses it: developers checking that a build is bound by LLM latency, not by askrl. It starts
``python -m askrl.testing.scripted_server`` as a subprocess (its generator role answers every build step), writes N
distinct QA items, runs ``run_build`` and counts the server's requests. The bound: an item is a chain of ``depth``
sequential LLM rounds (AskMind: generation, then the verifier and solver together; AskOverconfidence: generation,
then the verifier; with trajectories every further call is one more round), so with ``concurrency`` items in flight
at most ``concurrency / (depth * L)`` items/s; and ``llm_concurrency`` requests in flight allow at most
``llm_concurrency / (calls_per_item * L)``. The bound is the smaller of the two; ``ratio`` is measured / bound.

How it fails: ``EvalError`` if the server does not start or any item fails (a benchmark of failures is
meaningless). The last stdout line is JSON: ``items_per_s``, ``bound_items_per_s``, ``ratio`` and more.

    python scripts/bench_build.py --items 1000 --latency-ms 200 --concurrency 128 --llm-concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from askrl.data.build.runner import BuildSpec, run_build
from askrl.errors import EvalError
from askrl.testing.scripted_server import spawn

_NAMES = ("Maya", "Leo", "Nina", "Omar", "Ana", "Sam", "Tom", "Ivy", "Raj", "Zoe", "Kai")
_THINGS = ("notebooks", "apples", "tickets", "pencils", "bottles", "plants", "lamps", "chairs", "boxes")


def write_items(path: Path, n: int) -> None:
    """``n`` distinct arithmetic QA items (two blurred numbers each, and an item number that stays)."""
    with path.open("w", encoding="utf-8") as handle:
        for k in range(n):
            a, b = k % 9 + 2, k % 7 + 2
            question = (
                f"{_NAMES[k % len(_NAMES)]} buys {a} {_THINGS[k % len(_THINGS)]} that cost {b} dollars each "
                f"for order {k}. How many dollars does the order cost?"
            )
            handle.write(
                json.dumps({"id": f"bench-{k}", "ori_question": question, "expected_answer": str(a * b)}) + "\n"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Data-build throughput against a scripted LLM server.")
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=128, help="items in flight")
    parser.add_argument("--llm-concurrency", type=int, default=64, help="LLM requests in flight")
    parser.add_argument("--task", choices=["askmind", "overconfidence"], default="askmind")
    parser.add_argument("--trajectories", action="store_true")
    args = parser.parse_args(argv)
    proc, url = spawn("--latency-ms", str(args.latency_ms))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            qa = Path(tmp) / "qa.jsonl"
            write_items(qa, args.items)
            spec = BuildSpec(
                task=args.task, input=str(qa), out=Path(tmp) / "out", llm_urls=(f"{url}/v1",),
                llm_model="scripted", concurrency=args.concurrency, llm_concurrency=args.llm_concurrency, trajectories=args.trajectories,
                progress=False,
            )  # fmt: skip
            cpu0, wall0 = time.process_time(), time.perf_counter()
            report = asyncio.run(run_build(spec))
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        calls = len(httpx.get(f"{url}/admin/requests", timeout=30).json()["requests"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    run = report["run"]
    if run["failed"]:
        raise EvalError(f"benchmark items failed: {run['failed']}")
    latency_s = args.latency_ms / 1000
    calls_per_item = calls / args.items
    if args.trajectories:
        depth = calls_per_item - (1 if args.task == "askmind" else 0)  # every call is a round but verify || solve
    else:
        depth = 2.0
    item_bound = args.concurrency / (depth * latency_s)
    llm_bound = args.llm_concurrency / (calls_per_item * latency_s)
    bound = min(item_bound, llm_bound)
    items_per_s = args.items / wall
    print(
        f"{'items':>6} {'kept':>5} {'rejected':>8} {'calls':>6} {'wall_s':>7} {'items/s':>8} {'bound':>7} {'ratio':>6}"
    )
    rejected = sum(run["rejected"].values())
    print(
        f"{args.items:>6} {run['kept']:>5} {rejected:>8} {calls:>6} {wall:>7.2f} {items_per_s:>8.2f} "
        f"{bound:>7.2f} {items_per_s / bound:>6.3f}"
    )
    summary = {
        "task": args.task, "trajectories": args.trajectories, "items": args.items, "latency_ms": args.latency_ms,
        "concurrency": args.concurrency, "llm_concurrency": args.llm_concurrency, "kept": run["kept"],
        "rejected": rejected, "calls": calls, "calls_per_item": round(calls_per_item, 3), "depth": round(depth, 3),
        "wall_s": round(wall, 3), "items_per_s": round(items_per_s, 2),
        "item_bound_items_per_s": round(item_bound, 2), "llm_bound_items_per_s": round(llm_bound, 2),
        "bound_items_per_s": round(bound, 2), "ratio": round(items_per_s / bound, 4),
        "client_cpu_ms_per_item": round(1000 * cpu / args.items, 2),
    }  # fmt: skip
    print(json.dumps(summary))
