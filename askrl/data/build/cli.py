"""``python -m askrl.data build``: the command line of the data builder (flags -> ``BuildSpec`` -> ``run_build``).

Who uses it: ``askrl/data/__main__.py`` registers the subcommand with ``add_parser`` and calls ``run``.
The last stdout line is a JSON summary (``records``, ``kept``, ``rejected``, ``failed``, ``report``). Exit status: 0 when every item was kept or rejected; 1 when some items failed (an LLM problem after retries;
re-running the same command retries exactly those) or the build stopped early (the LLM went away, or balancing
waits for failed pass rates); 2 for bad input or options, with ``FILE:LINE: field``
lines on stderr and no LLM call made.

    python -m askrl.data build --task askmind --input examples/qa_demo.jsonl --out data/demo_askmind \\
        --llm-url http://127.0.0.1:8000/v1 --llm-model default --limit 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from askrl.data.build.gates import GateLimits
from askrl.data.build.inputs import parse_mapping
from askrl.errors import AskrlError


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
            seed=args.seed,
            progress=not args.no_progress,
        )
        report = asyncio.run(run_build(spec))
    except AskrlError as err:
        print(str(err), file=sys.stderr)
        return 2
    failed = sum(report["run"]["failed"].values())
    summary = {
        "records": report["records"],
        "kept": report["total"]["kept"],
        "rejected": sum(report["total"]["rejected"].values()),
        "failed": failed,
        "report": str(args.out / "report.json"),
    }
    print(json.dumps(summary))
    if failed or report["stopped"]:
        print(f"{failed} item(s) failed after retries; re-run the same command to retry them", file=sys.stderr)
        return 1
    return 0
