"""``python -m askrl.data build``: the command line of the data builder (flags -> ``BuildSpec`` -> ``run_build``).

Who uses it: ``askrl/data/__main__.py`` registers the subcommand with ``add_parser`` and calls ``run``.
The last stdout line is a JSON summary (``records``, ``kept``, ``rejected``, ``failed``, ``report``); the last stderr
line the counts. Exit status (the evaluator's rule): 0 when failed items are at most ``--max-failed-frac`` of this
run's items (re-running the same command retries them); 3 above it; 1 when the build stopped early within that
share (balancing waits for failed pass rates); 2 for bad input or options (``FILE:LINE: field`` lines) or an
endpoint that does not answer ``/v1/models`` with its model, before any item is built. SIGTERM/SIGINT stop the
build cleanly: the items in flight are recorded in ``failed.jsonl`` (``interrupted``), the report is written.

    python -m askrl.data build --task askmind --input examples/qa_demo.jsonl --out data/demo_askmind \\
        --llm-url http://127.0.0.1:8000/v1 --llm-model default --limit 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from askrl.data.build.gates import GateLimits
from askrl.data.build.inputs import parse_mapping
from askrl.errors import DEGRADED_EXIT, AskrlError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``build`` subcommand and its flags."""
    p = sub.add_parser("build", help="build AskMind / AskOverconfidence records from a QA set with an LLM")
    p.add_argument("--task", choices=["askmind", "overconfidence"], required=True)
    p.add_argument("--input", required=True, help="QA JSONL/parquet, an AskBench set name, or hf:NAME[:split]")
    p.add_argument("--out", type=Path, required=True, help="output folder (resumed when it holds this build)")
    p.add_argument("--llm-url", required=True, help="generator base URL(s) ending in /v1, comma-separated")
    p.add_argument("--llm-model", default="default", help="model name the generator endpoints serve")
    p.add_argument("--map", default=None, help="field mapping, e.g. question=problem,answer=solution")
    p.add_argument("--limit", type=int, default=None, help="build only the first K input records")
    p.add_argument("--pass-rate-samples", type=int, default=0, help="policy samples per item for its pass rate")
    p.add_argument("--policy-url", default=None, help="policy base URL(s) for pass rates (default: --llm-url)")
    p.add_argument("--policy-model", default=None, help="policy model name (default: --llm-model)")
    p.add_argument("--policy-max-tokens", type=int, default=4096)
    p.add_argument("--max-tokens", type=int, default=4096, help="reply budget of the generation, and a cap on every other step's (verify, solve, trajectory turns)")
    p.add_argument("--max-failed-frac", type=float, default=0.05,
                   help="exit 3 when more than this share of the run's items failed (default 0.05)")
    p.add_argument("--balance", action="store_true", help="keep an even spread across pass-rate buckets")
    p.add_argument("--buckets", type=int, default=4, help="equal-width pass-rate buckets")
    p.add_argument("--per-bucket", type=int, default=None, help="items per bucket (default: the smallest bucket)")
    p.add_argument("--trajectories", action="store_true", help="add a multi-turn conversation_history per item")
    p.add_argument("--max-rounds", type=int, default=4, help="ask rounds of a trajectory (max_ask_loops)")
    p.add_argument("--max-points", type=int, default=6, help="longest checklist kept")
    p.add_argument("--min-claims", type=int, default=2, help="fewest false premises of an AskOverconfidence item")
    p.add_argument("--dedup-threshold", type=float, default=0.9, help="word-trigram Jaccard that is a duplicate")
    p.add_argument("--concurrency", type=int, default=128, help="items in flight (about 2x --llm-concurrency)")
    p.add_argument("--llm-concurrency", type=int, default=64, help="LLM requests in flight per client")
    p.add_argument("--request-timeout-s", type=float, default=300.0, help="one LLM request")
    p.add_argument("--call-timeout-s", type=float, default=900.0, help="one call: retries and outage waits")
    p.add_argument("--api-key-env", default=None, help="environment variable holding the API key (none: keyless)")
    p.add_argument("--prompt-version", default="v1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="no progress bar or final table")


def _urls(text: str | None) -> tuple[str, ...]:
    return tuple(u.strip() for u in (text or "").split(",") if u.strip())


def run(args: argparse.Namespace) -> int:
    """Build from parsed flags; the exit status described in the module docstring."""
    from askrl.data.build.runner import BuildSpec, run_build  # lazily: ``validate`` need not load the LLM stack

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        spec = BuildSpec(
            task=args.task,
            input=args.input,
            out=args.out,
            llm_urls=_urls(args.llm_url),
            llm_model=args.llm_model,
            policy_urls=_urls(args.policy_url),
            policy_model=args.policy_model,
            mapping=parse_mapping(args.map),
            limit=args.limit,
            concurrency=args.concurrency,
            llm_concurrency=args.llm_concurrency,
            pass_rate_samples=args.pass_rate_samples,
            balance=args.balance,
            buckets=args.buckets,
            per_bucket=args.per_bucket,
            trajectories=args.trajectories,
            max_rounds=args.max_rounds,
            limits=GateLimits(max_points=args.max_points, min_claims=args.min_claims),
            dedup_threshold=args.dedup_threshold,
            prompt_version=args.prompt_version,
            api_key_env=args.api_key_env,
            request_timeout_s=args.request_timeout_s,
            call_timeout_s=args.call_timeout_s,
            policy_max_tokens=args.policy_max_tokens,
            max_tokens=args.max_tokens,
            max_failed_frac=args.max_failed_frac,
            seed=args.seed,
            progress=not args.no_progress,
        )
        report = asyncio.run(_until_signalled(run_build(spec)))
    except AskrlError as err:
        print(str(err), file=sys.stderr)
        return 2
    except (asyncio.CancelledError, KeyboardInterrupt):  # a signal before the first item: nothing to record
        print("build: interrupted before any item was built", file=sys.stderr)
        return 130
    run = report["run"]
    failed = sum(run["failed"].values())
    summary = {
        "records": report["records"],
        "kept": report["total"]["kept"],
        "rejected": sum(report["total"]["rejected"].values()),
        "failed": failed,
        "report": str(args.out / "report.json"),
    }
    print(json.dumps(summary), flush=True)
    items = run["input_items"] - run["skipped_done"]
    failed_by = ", ".join(f"{kind} {n}" for kind, n in run["failed"].items())
    line = (f"build: {failed} of {items} item(s) failed" + (f" ({failed_by})" if failed else "")
            + f", {run['kept']} kept, {sum(run['rejected'].values())} rejected")  # fmt: skip
    if failed > spec.max_failed_frac * items:
        print(f"{line}: over --max-failed-frac {spec.max_failed_frac:g}; re-run the same command to retry them",
              file=sys.stderr)
        return DEGRADED_EXIT
    if report["stopped"]:
        print(f"{line}; stopped early: {report['stopped']}", file=sys.stderr)
        return 1
    print(line + ("; re-run the same command to retry them" if failed else ""), file=sys.stderr)
    return 0


async def _until_signalled(build: Any) -> Any:
    """Run the build with SIGTERM/SIGINT cancelling it (the runner records the items in flight and reports)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    return await build
