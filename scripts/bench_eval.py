"""Evaluator throughput against its concurrency bound: the askmind suite, scripted candidate and judge servers.

Starts two scripted OpenAI-compatible servers (``askrl/testing/scripted_server.py``, separate processes on
127.0.0.1): one plays the candidate (asks once, then answers), one the judge (the arbiter and the simulated user,
answered by the lexical rules). Both sleep a fixed latency, or a lognormal one around ``--latency-ms`` with shape
``--latency-sigma``. Runs ``eval_hooks.engine.evaluate`` on ``--items`` AskMind items at ``--concurrency`` per
endpoint and reads each server's request log.

The bound (``askrl.bench.bound``, as for the rollout benchmark), from the latencies the servers actually slept:
the *capacity* bound (an endpoint with C slots that serves requests of total latency S needs S / C seconds) and
the *chain* bound (a dialogue's calls are sequential, so nothing finishes before the slowest dialogue's own
latencies, summed; requests are matched to dialogues by the question they carry). ``bound_s`` is the larger,
``bound_items_per_s = items / bound_s`` and ``ratio = bound_s / wall_s`` (1.0: nothing lost to scheduling or
client overhead); a per-turn barrier (the original) loses most of it under heavy-tailed latency. Prints a JSON
line last, with the CPU seconds of the client and each server (on a small machine the CPU, not the schedule, is
what binds at short latencies).

    .venv/bin/python scripts/bench_eval.py --items 400 --latency-ms 200 --latency-sigma 1 --concurrency 100
    .venv/bin/python scripts/bench_eval.py --items 400 --latency-ms 0 --data-dir ../shared/data/askbench   # wall time
    .venv/bin/python scripts/bench_eval.py --items 400 --latency-ms 200 --latency-sigma 1 --lockstep   # the original
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psutil

from askrl.bench.bound import EpisodeTrace, rollout_bound
from askrl.testing.scripted_server import spawn
from eval_hooks.candidate import Candidate
from eval_hooks.conversation import parse_conversation
from eval_hooks.dialogue import run_dialogue
from eval_hooks.engine import EvalSpec, build_judge, evaluate
from eval_hooks.suites import build_samples, get_suite

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "askbench"


def start_server(latency_ms: float, sigma: float, seed: int) -> tuple[subprocess.Popen[str], str]:
    return spawn("--latency-ms", str(latency_ms), "--latency-sigma", str(sigma), "--seed", str(seed))


def _section(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return match.group(1).strip() if match else None


def question_of(entry: dict[str, Any]) -> str | None:
    """The dialogue a logged request belongs to: the candidate's first user message, or the question inside an
    arbiter or simulated-user prompt."""
    messages = [m for m in entry["messages"] if m.get("role") != "system"]
    if not messages:
        return None
    if len(messages) > 1 or "<conversation>" not in messages[0]["content"]:
        return str(messages[0]["content"]).strip()
    text = str(messages[0]["content"])
    shown = _section(text, "question_shown_to_assistant")
    if shown is not None:
        return shown
    history = parse_conversation(_section(text, "conversation") or "")
    return history[0]["content"].strip() if history else None


def served_latencies(url: str) -> list[tuple[str | None, float, bool]]:
    """``(question, seconds slept, is a first turn)`` per logged request."""
    log = httpx.get(f"{url}/admin/requests", timeout=30).json()["requests"]
    return [(question_of(r), float(r.get("latency_ms", 0.0)) / 1000,
             sum(m.get("role") != "system" for m in r["messages"]) == 1) for r in log]  # fmt: skip


def bound_of(cand: list[tuple[str | None, float, bool]], judge: list[tuple[str | None, float, bool]], slots: int) -> Any:
    """Chains of dialogues whose question is shared by another dialogue (the file has such pairs) cannot be told
    apart and are left out: the chain bound stays a lower bound."""
    first_turns = Counter(key for key, _, first in cand if first)
    chains: dict[str | None, tuple[list[float], list[float]]] = {}
    for key, seconds, _ in cand:
        chains.setdefault(key, ([], []))[0].append(seconds)
    for key, seconds, _ in judge:
        chains.setdefault(key, ([], []))[1].append(seconds)
    episodes = [EpisodeTrace(tuple(p), tuple(j)) for key, (p, j) in chains.items() if first_turns[key] == 1]
    return rollout_bound(episodes, policy_service_s=[s for _, s, _ in cand], policy_slots=slots,
                         judge_service_s=[s for _, s, _ in judge], judge_slots=slots)  # fmt: skip


class Phaser:
    """A barrier whose party count shrinks as dialogues end: the original's lock-step, for comparison only."""

    def __init__(self, parties: int) -> None:
        self.parties, self.arrived, self.event = parties, 0, asyncio.Event()

    async def arrive(self) -> None:
        self.arrived += 1
        event = self.event
        if self.arrived >= self.parties:
            self._release()
        else:
            await event.wait()

    def leave(self) -> None:
        self.parties -= 1
        if self.parties and self.arrived >= self.parties:
            self._release()

    def _release(self) -> None:
        self.arrived = 0
        self.event.set()
        self.event = asyncio.Event()


class _Gated:
    """Every call of the wrapped candidate or judge first waits for all live dialogues to reach the same phase."""

    def __init__(self, inner: Any, phaser: Phaser) -> None:
        self._inner, self._phaser = inner, phaser

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in ("reply", "arbitrate", "simulate_user"):
            return attr

        async def gated(*args: Any, **kwargs: Any) -> Any:
            await self._phaser.arrive()
            return await attr(*args, **kwargs)

        return gated


async def lockstep(spec: EvalSpec) -> dict[str, dict[str, int]]:
    """The askmind dialogues with a barrier before every phase (candidate turn, arbiter, simulated user)."""
    samples = build_samples(get_suite("askmind"), data_dir=spec.data_dir, limit=spec.limit, attempts=1, seed=0)
    phaser = Phaser(len(samples))
    judge = build_judge(spec)
    async with Candidate(spec.candidate, base_url=spec.model_url, model=spec.model_name,
                         concurrency=spec.concurrency) as candidate:  # fmt: skip

        async def one(sample: Any) -> str:
            try:
                record = await run_dialogue(sample.scenario, _Gated(candidate, phaser), _Gated(judge, phaser),
                                            spec.protocol)  # type: ignore[arg-type]  # fmt: skip
            finally:
                phaser.leave()
            return str(record["status"])

        statuses = await asyncio.gather(*(one(x) for x in samples))
    await judge.aclose()
    return {"askmind": {"n": statuses.count("ok"), "judge_failed": statuses.count("judge_failed"),
                        "candidate_failed": statuses.count("candidate_failed")}}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=400)
    p.add_argument("--latency-ms", type=float, default=200.0)
    p.add_argument("--latency-sigma", type=float, default=0.0)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lockstep", action="store_true", help="the original's schedule: a barrier before every phase")
    args = p.parse_args(argv)
    cand, cand_url = start_server(args.latency_ms, args.latency_sigma, args.seed)
    judge, judge_url = start_server(args.latency_ms, args.latency_sigma, args.seed + 1)
    try:
        with tempfile.TemporaryDirectory() as out:
            spec = EvalSpec(
                suites=["askmind"], model_url=f"{cand_url}/v1", model_name="scripted", judge="llm",
                judge_urls=[f"{judge_url}/v1"], judge_model="scripted", data_dir=args.data_dir, limit=args.items,
                concurrency=args.concurrency, out=Path(out), fresh=True, progress=False,
            )  # fmt: skip
            start = time.monotonic()
            summary = asyncio.run(lockstep(spec) if args.lockstep else evaluate(spec))
            wall = time.monotonic() - start
        cand_log, judge_log = served_latencies(cand_url), served_latencies(judge_url)
        cpu = {"client": time.process_time(), **{name: sum(psutil.Process(p.pid).cpu_times()[:2])
                                                  for name, p in (("candidate_server", cand), ("judge_server", judge))}}  # fmt: skip
    finally:
        for proc in (cand, judge):
            proc.terminate()
            proc.wait(timeout=10)
    items = summary["askmind"]["n"] + summary["askmind"]["judge_failed"] + summary["askmind"]["candidate_failed"]
    bound = bound_of(cand_log, judge_log, args.concurrency)
    bound_s = max(bound.chain_s, bound.policy_capacity_s, bound.judge_capacity_s)
    result = {
        "items": items,
        "wall_s": round(wall, 3),
        "items_per_s": round(items / wall, 2),
        "bound_s": round(bound_s, 3),
        "bound_items_per_s": round(items / bound_s, 2) if bound_s else None,
        "ratio": round(bound_s / wall, 3) if bound_s else None,
        "chain_bound_s": round(bound.chain_s, 3),
        "capacity_bound_s": round(max(bound.policy_capacity_s, bound.judge_capacity_s), 3),
        "candidate_requests": len(cand_log),
        "judge_requests": len(judge_log),
        "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        "judge_failed": summary["askmind"]["judge_failed"],
        "candidate_failed": summary["askmind"]["candidate_failed"],
        "latency_ms": args.latency_ms,
        "latency_sigma": args.latency_sigma,
        "concurrency": args.concurrency,
        "schedule": "lockstep" if args.lockstep else "askrl",
    }
    print(f"askmind x{items}: {wall:.2f} s, {result['items_per_s']} items/s; bound {result['bound_items_per_s']} "
          f"items/s; ratio {result['ratio']}", file=sys.stderr)  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
