"""Evaluator throughput against its concurrency bound: the askmind suite, scripted candidate and judge servers.

Starts two scripted OpenAI-compatible servers (``askrl/judge/scripted_server.py``, separate processes on
127.0.0.1): one plays the candidate (asks once, then answers), one the judge (the arbiter and the simulated user,
answered by the lexical rules). Both sleep a fixed latency, or a lognormal one around ``--latency-ms`` with shape
``--latency-sigma``. Runs ``eval_hooks.engine.evaluate`` on ``--items`` AskMind items at ``--concurrency`` per
endpoint and reads each server's request log.

The bound: an endpoint with C slots that must serve requests of total latency S needs at least S / C seconds, so
``bound_s = max(S_candidate, S_judge) / C`` (from the latencies the servers actually slept) and
``bound_items_per_s = items / bound_s``. ``ratio = items_per_s / bound_items_per_s``; a per-turn barrier (the
original) loses most of it under heavy-tailed latency. Prints a JSON line last.

    .venv/bin/python scripts/bench_eval.py --items 400 --latency-ms 200 --latency-sigma 1 --concurrency 100
    .venv/bin/python scripts/bench_eval.py --items 400 --latency-ms 0 --data-dir ../shared/data/askbench   # wall time
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from eval_hooks.engine import EvalSpec, evaluate

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "askbench"


def start_server(latency_ms: float, sigma: float, seed: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "askrl.judge.scripted_server", "--port", "0", "--latency-ms", str(latency_ms),
           "--latency-sigma", str(sigma), "--seed", str(seed)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"scripted server {url} did not start")


def service_s(url: str) -> tuple[float, int]:
    log = httpx.get(f"{url}/admin/requests", timeout=30).json()["requests"]
    return sum(float(r.get("latency_ms", 0.0)) for r in log) / 1000, len(log)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=400)
    p.add_argument("--latency-ms", type=float, default=200.0)
    p.add_argument("--latency-sigma", type=float, default=0.0)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--seed", type=int, default=1)
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
            summary = asyncio.run(evaluate(spec))
            wall = time.monotonic() - start
        cand_s, cand_n = service_s(cand_url)
        judge_s, judge_n = service_s(judge_url)
    finally:
        for proc in (cand, judge):
            proc.terminate()
            proc.wait(timeout=10)
    items = summary["askmind"]["n"] + summary["askmind"]["judge_failed"] + summary["askmind"]["candidate_failed"]
    bound_s = max(cand_s, judge_s) / args.concurrency
    result = {
        "items": items,
        "wall_s": round(wall, 3),
        "items_per_s": round(items / wall, 2),
        "bound_s": round(bound_s, 3),
        "bound_items_per_s": round(items / bound_s, 2) if bound_s else None,
        "ratio": round(bound_s / wall, 3) if bound_s else None,
        "candidate_requests": cand_n,
        "judge_requests": judge_n,
        "judge_failed": summary["askmind"]["judge_failed"],
        "candidate_failed": summary["askmind"]["candidate_failed"],
        "latency_ms": args.latency_ms,
        "latency_sigma": args.latency_sigma,
        "concurrency": args.concurrency,
    }
    print(f"askmind x{items}: {wall:.2f} s, {result['items_per_s']} items/s; bound {result['bound_items_per_s']} "
          f"items/s; ratio {result['ratio']}", file=sys.stderr)  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
