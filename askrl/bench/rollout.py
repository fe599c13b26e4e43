"""Rollout-phase benchmark: N clarify episodes through VERL's agent-loop machinery, against their bound.

Who uses it: ``scripts/bench_rollout.py`` (a thin wrapper). What runs is real: VERL's ``AgentLoopBase`` under
askrl's ``ClarifyAgentLoop``, built per trajectory from the shipped ``agent_loops.yaml`` registry entry with
``hydra.utils.instantiate`` exactly as ``AgentLoopWorker._run_agent_loop`` does and run concurrently (one task per
trajectory, as the worker runs them), the tiny model's tokenizer and chat template, the reward's episode state,
``LLMJudge`` + ``JudgeClient`` over HTTP. The two model servers are stand-ins: ``LatencyPolicy``
(``askrl/testing/policy_server.py``: scripted turns timed by a per-token latency model) and the scripted judge
(``python -m askrl.testing.scripted_server`` as a subprocess, lognormal latency), so the figures measure scheduling,
not models. Episodes: the first ``prompts`` AskMind records of the shared AskBench data, ``group`` episodes each.

What it reports (the last stdout line is JSON): the wall time; the bound (``askrl.bench.bound``: the longest
episode's own chain of policy and judge service times, and each server's capacity bound, the larger of all);
``ratio = bound / wall``; ``policy_idle_share`` (the share of the wall time the policy server had nothing in
service while a judge request was in service); judge calls, prompt and completion tokens per episode (the scripted
server counts words as tokens); the shared-prefix fraction of the judge prompts (``askrl.judge.prefix_share``,
prompts tokenized with the tiny model's chat template; also in whole 16-token blocks, as vLLM caches); masked
episodes. ``--outage-at-s T --outage-s D`` kills
the judge server T s into the run and restarts it on the same port D s later (masked episodes then show what an
outage costs).

``--judge-url URL[,URL]`` runs the same episodes against a real judge (a vLLM server: ``python -m askrl.serve judge``)
instead of the scripted one and reports, next to the token-count estimate over the prompts the client sent (in
the server's tokenizer), vLLM's own prefix-cache hit rate: ``vllm:prefix_cache_hits_total`` over
``vllm:prefix_cache_queries_total`` from its ``/metrics``, over the timed episodes. There is no bound then (the
service times of a real server are not known to the client).

How it fails: ``EvalError`` when the server does not start or a prompt matches no record; the data must exist.

    python scripts/bench_rollout.py --prompts 32 --group 8 --judge-median-ms 200 [--prompt-version v1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm
from transformers import AutoTokenizer

from askrl.bench.bound import EpisodeTrace, idle_share, rollout_bound
from askrl.bench.vllm_metrics import prefix_cache_tokens
from askrl.data.loading import load_records
from askrl.data.verl_rows import records_to_rows
from askrl.judge.config import JudgeConfig
from askrl.judge.prefix_share import shared_prefix
from askrl.models import prepare
from askrl.rollout.config import settings_from_trainer_config
from askrl.rollout.shared_judge import close_shared_judges, shared_judge
from askrl.testing.agent_loops import build_loop, register_agent_loops
from askrl.testing.policy_server import MARKER, LatencyPolicy
from askrl.testing.scripted_server import ServerHandle, spawn

logger = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "askbench"
ASK_MIND = Path("ask_bench") / "ask_mind" / "test.jsonl"
SAMPLING = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": False}


@dataclass
class JudgeServer:
    """The scripted judge subprocess, restartable on the same port; keeps the logs of every instance."""

    options: list[str]
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    log: list[dict[str, Any]] | None = None

    def start(self, port: int = 0) -> None:
        self.proc, self.url = spawn(*self.options, port=port)
        self.log = self.log or []

    def kill(self) -> None:
        """Keep this instance's request log, then kill it (connections drop as in a crash)."""
        assert self.proc is not None and self.log is not None
        handle = ServerHandle(self.url)
        self.log.extend(handle.requests())
        handle.close()
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def trainer_config(args: argparse.Namespace, base_url: str) -> DictConfig:
    """The parts of VERL's trainer config an agent loop reads, with an LLM judge on ``base_url`` (or ``--judge-url``)."""
    if args.judge_url:
        endpoints = [{"name": f"judge{i}", "base_url": url, "model": args.judge_model,
                      "max_concurrency": args.judge_slots} for i, url in enumerate(args.judge_url.split(","))]
    else:
        endpoints = [{"name": "scripted", "base_url": base_url, "model": "scripted", "max_concurrency": args.judge_slots}]
    judge = {
        "backend": "llm",
        "prompt_version": args.prompt_version,
        "client": {
            "endpoints": endpoints,
            "max_concurrency": args.judge_slots,
            "request_timeout_s": 60.0,
        },
    }
    return OmegaConf.create(
        {
            "actor_rollout_ref": {"rollout": {"prompt_length": 4096, "response_length": args.response_length}},
            "data": {"apply_chat_template_kwargs": {}},
            "askrl": {"judge": judge, "rollout": {"max_turns": args.max_turns}},
        }
    )


def row_run_kwargs(row: dict[str, Any]) -> dict[str, Any]:
    """What VERL passes to ``run(**kwargs)`` for a row (RLHFDataset's fields)."""
    return {
        "raw_prompt": row["prompt"],
        "data_source": row["data_source"],
        "reward_model": row["reward_model"],
        "extra_info": row["extra_info"],
        "index": row["extra_info"]["index"],
        "tools_kwargs": {},
        "interaction_kwargs": {},
    }


async def _outage(server: JudgeServer, at_s: float, for_s: float) -> None:
    await asyncio.sleep(at_s)
    port = server.port
    await asyncio.to_thread(server.kill)
    logger.warning("judge server killed (%.1f s into the run); restarting on port %d in %.1f s", at_s, port, for_s)
    await asyncio.sleep(for_s)
    await asyncio.to_thread(server.start, port)


async def _run(args: argparse.Namespace, server: JudgeServer | None, tokenizer: Any, records: list[Any]) -> dict[str, Any]:
    """A warm-up episode (a worker is long-lived: imports, templates and the judge's pool are ready), then the
    timed episodes with a fresh policy server, the judge's log and counters reset. Without a scripted ``server``
    (``--judge-url``) the judge's prompts are recorded client-side and vLLM's prefix-cache counters read around
    the timed episodes."""
    register_agent_loops()
    config = trainer_config(args, f"{server.url}/v1" if server is not None else "")
    judge = shared_judge(settings_from_trainer_config(config).judge)
    sent: list[list[dict[str, str]]] = []
    if server is None:
        judge.client.complete = _recording(judge.client.complete, sent)  # type: ignore[attr-defined]

    def new_policy() -> LatencyPolicy:
        return LatencyPolicy(
            tokenizer, records, per_token_ms=args.per_token_ms, prefill_ms_per_1k=args.prefill_ms_per_1k,
            slots=args.policy_slots,
        )  # fmt: skip

    rows = [row_run_kwargs(row) for row in records_to_rows(records) for _ in range(args.group)]
    await build_loop(config, new_policy(), tokenizer).run(dict(SAMPLING), **rows[0])
    urls = args.judge_url.split(",") if args.judge_url else []
    if server is not None:
        handle = ServerHandle(server.url)
        handle.reset()
        handle.close()
    sent.clear()
    cache_before = prefix_cache_tokens(urls)
    judge.metrics(reset=True)
    policy = new_policy()
    outage = asyncio.create_task(_outage(server, args.outage_at_s, args.outage_s)) if args.outage_s else None
    progress = tqdm(total=len(rows), desc="episodes", unit="ep", leave=False)

    async def episode(row: dict[str, Any]) -> Any:
        out = await build_loop(config, policy, tokenizer).run(dict(SAMPLING), **row)
        progress.update(1)
        return out

    start = time.time()
    outputs = await asyncio.gather(*(episode(row) for row in rows))
    end = time.time()
    progress.close()
    if outage is not None:
        await outage
    judge_metrics = judge.metrics()
    await close_shared_judges()
    return {"start": start, "end": end, "outputs": outputs, "policy": policy, "judge_metrics": judge_metrics,
            "sent": sent, "prefix_cache": prefix_cache_tokens(urls, since=cache_before) if urls else None}


def _recording(complete: Any, sent: list[list[dict[str, str]]]) -> Any:
    """``JudgeClient.complete`` that first keeps a copy of each call's messages (the prompts the judge was sent)."""

    async def recorded(messages: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append([dict(m) for m in messages])
        return await complete(messages, *args, **kwargs)

    return recorded


def analyse_live(run: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Figures of a run against a real judge (``--judge-url``): wall time, judge cost, and vLLM's own prefix-cache
    hit rate beside the token-count estimate over the same prompts, tokenized as the server does (its model's
    tokenizer, from ``/v1/models``' ``root``)."""
    url = args.judge_url.split(",")[0]
    root = httpx.get(f"{url}/models", timeout=10).json()["data"][0]["root"]
    tokenizer = AutoTokenizer.from_pretrained(root)
    prompts = [tokenizer.apply_chat_template(m, tokenize=True, add_generation_prompt=True, return_dict=True)
               ["input_ids"] for m in run["sent"]]  # fmt: skip
    hits, queries = run["prefix_cache"]
    n = len(run["outputs"])
    m = run["judge_metrics"]
    return {
        "episodes": n,
        "prompt_version": args.prompt_version,
        "judge_url": args.judge_url,
        "wall_s": round(run["end"] - run["start"], 3),
        "judge_calls_per_episode": round(m.get("judge/calls", 0.0) / n, 3),
        "judge_prompt_tokens_per_episode": round(m.get("judge/tokens_in", 0.0) / n, 1),
        "judge_completion_tokens_per_episode": round(m.get("judge/tokens_out", 0.0) / n, 1),
        "judge_failures": m.get("judge/failures", 0.0),
        "vllm_prefix_cache_hit_rate": round(hits / queries, 4) if queries else 0.0,
        "vllm_prefix_cache_queried_tokens": queries,
        "shared_prefix_fraction": round(shared_prefix(prompts).fraction, 4),
        f"shared_prefix_fraction_{args.cache_block_size}_token_blocks":
            round(shared_prefix(prompts, block_size=args.cache_block_size).fraction, 4),
        "judge_prompt_tokens_server_tokenizer": sum(len(p) for p in prompts),
        "masked_episodes": sum(1 for o in run["outputs"] if o.masked),
    }


def _episode_key(entry: dict[str, Any]) -> tuple[int, int] | None:
    """(episode, turn) of a judge request: the latest turn marker in its prompt (earlier turns are history)."""
    text = "\n".join(str(m.get("content", "")) for m in entry.get("messages") or [])
    marks = [(int(e), int(t)) for e, t in MARKER.findall(text)]
    return max(marks, key=lambda m: m[1]) if marks else None


def analyse(run: dict[str, Any], log: list[dict[str, Any]], args: argparse.Namespace, tokenizer: Any) -> dict[str, Any]:
    """The benchmark's figures from the policy calls and the judge's request log (see the module docstring)."""
    policy: LatencyPolicy = run["policy"]
    served = [e for e in log if e.get("status") == 200 and "done_s" in e]
    phases: dict[tuple[int, int], float] = defaultdict(float)
    for entry in served:
        key = _episode_key(entry)
        if key is not None:
            phases[key] = max(phases[key], entry.get("latency_ms", 0.0) / 1000.0)
    turns: dict[int, list[float]] = defaultdict(list)
    for call in sorted(policy.calls, key=lambda c: (c.episode, c.turn)):
        turns[call.episode].append(call.service_s)
    traces = [
        EpisodeTrace(tuple(turns[ep]), tuple(s for (e, _), s in sorted(phases.items()) if e == ep)) for ep in turns
    ]
    bound = rollout_bound(
        traces,
        policy_service_s=[c.service_s for c in policy.calls],
        policy_slots=args.policy_slots,
        judge_service_s=[e.get("latency_ms", 0.0) / 1000.0 for e in served],
        judge_slots=args.judge_slots,
    )
    start, end = run["start"], run["end"]
    wall = end - start
    idle = idle_share(
        policy=[(c.start, c.end) for c in policy.calls],
        judge=[(e["arrived_s"], e["done_s"]) for e in served],
        start=start,
        end=end,
    )
    prompts = [
        tokenizer.encode(tokenizer.apply_chat_template(e["messages"], tokenize=False), add_special_tokens=False)
        for e in sorted(log, key=_arrival)
    ]
    prefix = shared_prefix(prompts)
    blocks = shared_prefix(prompts, block_size=16)  # what vLLM's prefix cache (16-token blocks) could reuse
    outputs = run["outputs"]
    n = len(outputs)
    m = run["judge_metrics"]
    return {
        "episodes": n,
        "prompt_version": args.prompt_version,
        "judge_median_ms": args.judge_median_ms,
        "wall_s": round(wall, 3),
        "bound_s": round(bound.bound_s, 3),
        "binding": bound.binding,
        "chain_bound_s": round(bound.chain_s, 3),
        "policy_capacity_s": round(bound.policy_capacity_s, 3),
        "judge_capacity_s": round(bound.judge_capacity_s, 3),
        "ratio": round(bound.bound_s / wall, 4) if wall > 0 else 0.0,
        "policy_idle_share": round(idle, 4),
        "judge_calls_per_episode": round(m.get("judge/calls", 0.0) / n, 3),
        "judge_prompt_tokens_per_episode": round(m.get("judge/tokens_in", 0.0) / n, 1),
        "judge_completion_tokens_per_episode": round(m.get("judge/tokens_out", 0.0) / n, 1),
        "judge_failures": m.get("judge/failures", 0.0),
        "judge_retries": m.get("judge/retries", 0.0),
        "shared_prefix_fraction": round(prefix.fraction, 4),
        "shared_prefix_fraction_16_token_blocks": round(blocks.fraction, 4),
        "judge_prompt_tokens_chat_template": prefix.tokens,
        "masked_episodes": sum(1 for o in outputs if o.masked),
        "policy_turns_per_episode": round(len(policy.calls) / n, 3),
        "outage_s": args.outage_s,
    }


def _arrival(entry: dict[str, Any]) -> float:
    return float(entry.get("arrived_s", 0.0))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Clarify-loop rollout phase against its bound.")
    parser.add_argument("--prompts", type=int, default=32, help="AskMind records (episode groups)")
    parser.add_argument("--group", type=int, default=8, help="episodes per prompt (GRPO's n)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--judge-median-ms", type=float, default=200.0)
    parser.add_argument("--judge-sigma", type=float, default=0.5, help="lognormal shape of the judge's latency")
    parser.add_argument("--judge-slots", type=int, default=64, help="the judge client's concurrency limit")
    parser.add_argument("--per-token-ms", type=float, default=5.0, help="policy decode time per generated token")
    parser.add_argument("--prefill-ms-per-1k", type=float, default=20.0, help="policy prefill per 1000 prompt tokens")
    parser.add_argument("--policy-slots", type=int, default=256, help="policy requests in service at once")
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--response-length", type=int, default=2048)
    parser.add_argument("--prompt-version", default=JudgeConfig.model_fields["prompt_version"].default,
                        help="judge prompt set (askrl/judge/prompts/*_<v>.txt; default: the training default)")
    parser.add_argument("--outage-at-s", type=float, default=2.0, help="with --outage-s: when the judge dies")
    parser.add_argument("--outage-s", type=float, default=0.0, help="kill the judge for this long (0: no outage)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--judge-url", default=None,
                        help="a real judge (comma-separated /v1 URLs, e.g. vLLM) instead of the scripted one: reports "
                             "vLLM's prefix-cache hit rate from /metrics; the bound needs the scripted judge")
    parser.add_argument("--judge-model", default="default", help="with --judge-url: the served model name")
    parser.add_argument("--cache-block-size", type=int, default=16,
                        help="with --judge-url: the server's KV block size for the block estimate (vLLM CPU: 128)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tokenizer = AutoTokenizer.from_pretrained(prepare("tiny"))
    records = load_records(args.data_dir / ASK_MIND, kind="askmind").records[: args.prompts]
    if args.judge_url:
        summary = analyse_live(asyncio.run(_run(args, None, tokenizer, records)), args)
    else:
        server = JudgeServer(
            ["--latency-ms", str(args.judge_median_ms), "--latency-sigma", str(args.judge_sigma), "--seed", str(args.seed)]
        )
        server.start()
        try:
            run = asyncio.run(_run(args, server, tokenizer, records))
        finally:
            if server.proc is not None:
                server.kill()
        assert server.log is not None
        summary = analyse(run, server.log, args, tokenizer)
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(summary))
