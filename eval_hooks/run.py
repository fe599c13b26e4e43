"""CLI of the evaluator: ``python -m eval_hooks.run --suite S1,S2 --model-url URL (--judge-url URL | --judge lexical)
--out DIR``. Writes ``DIR/<suite>/results.jsonl``, ``DIR/summary.json`` and ``DIR/summary.md``; prints the summary
as one JSON line at the end, then (on stderr, the last line) the sample counts. Exit codes: 0 done, 2 bad input or
configuration (one line saying what to fix), 3 more than ``--max-failed-frac`` of the samples failed (judge or
candidate failures after retries: the summary covers the valid ones only; re-running the command retries them).

    python -m eval_hooks.run --suite askmind,calibration,math500 --model-url http://127.0.0.1:8000/v1 \\
        --judge-url http://127.0.0.1:8012/v1,http://127.0.0.1:8013/v1 --out results/qwen7b
    python -m eval_hooks.run --suite askmind --model-url http://127.0.0.1:8000/v1 --judge lexical --limit 5 --out /tmp/e
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from askrl.errors import DEGRADED_EXIT, AskrlError, ConfigError
from eval_hooks.candidate import CandidateSettings
from eval_hooks.engine import EvalSpec, evaluate_sync
from eval_hooks.judges import JudgeSettings
from eval_hooks.run_config import failed_line
from eval_hooks.suites import SUITES
from eval_hooks.summary import load_summary


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval_hooks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", required=True, type=_csv, help=f"comma list of: {', '.join(SUITES)}")
    p.add_argument("--model-url", required=True, help="candidate base URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model-name", default="default", help="the candidate's served model name")
    judge = p.add_mutually_exclusive_group(required=True)
    judge.add_argument("--judge-url", type=_csv, help="judge base URL(s), comma-separated")
    judge.add_argument("--judge", choices=["lexical"], help="lexical: the offline deterministic judge (no network)")
    p.add_argument("--judge-model", default="default", help="the judge's served model name")
    p.add_argument("--data-dir", type=Path, help="local AskBench data root (default $ASKRL_DATA_DIR, else the hub)")
    p.add_argument("--limit", type=int, help="first K items per suite")
    p.add_argument("--strict", action="store_true", help="the strict two-turn (hard) protocol")
    p.add_argument("--max-turns", type=int, default=3)
    p.add_argument("--guidance", choices=["none", "weak", "strong", "fata"], default="none")
    p.add_argument("--attempts", type=int, default=1, help="samples per item (pass@1 averaged over attempts)")
    p.add_argument("--concurrency", type=int, default=64, help="requests in flight per endpoint")
    p.add_argument("--fresh", action="store_true", help="discard earlier results in --out instead of resuming")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--seed", type=int, default=0, help="GPQA option shuffle seed")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--top-p", type=float, default=0.8)
    p.add_argument("--max-tokens", type=int, default=4096)
    p.add_argument("--system-prompt", help="system message for the candidate on every path")
    p.add_argument("--no-strip-think", action="store_true", help="keep the text before </think>")
    p.add_argument("--candidate-seed", type=int, help="sampling seed sent to the candidate (+ attempt index)")
    p.add_argument("--user-temperature", type=float, help="simulated user temperature (default 0.5 / 0.3)")
    p.add_argument("--judge-max-tokens", type=int, default=2048)
    p.add_argument("--judge-timeout-s", type=float, default=300.0,
                   help="a judge call's whole deadline, retries and outage waits included (default 300)")
    p.add_argument("--max-failed-frac", type=float, default=0.05,
                   help="exit 3 when more than this share of the samples failed (default 0.05)")
    p.add_argument("--no-progress", action="store_true")
    return p


def spec_from_args(args: argparse.Namespace) -> EvalSpec:
    return EvalSpec(
        suites=args.suite,
        model_url=args.model_url,
        model_name=args.model_name,
        judge="lexical" if args.judge == "lexical" else "llm",
        judge_urls=args.judge_url or [],
        judge_model=args.judge_model,
        data_dir=args.data_dir,
        limit=args.limit,
        strict=args.strict,
        max_turns=args.max_turns,
        guidance=args.guidance,
        attempts=args.attempts,
        concurrency=args.concurrency,
        fresh=args.fresh,
        out=args.out,
        seed=args.seed,
        candidate=CandidateSettings(
            temperature=args.temperature,
            top_p=args.top_p,
            max_tokens=args.max_tokens,
            system_prompt=args.system_prompt,
            strip_think=not args.no_strip_think,
            seed=args.candidate_seed,
        ),
        judge_settings=JudgeSettings(user_temperature=args.user_temperature, max_tokens=args.judge_max_tokens),
        judge_call_timeout_s=args.judge_timeout_s,
        max_failed_frac=args.max_failed_frac,
        progress=not args.no_progress,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        spec = spec_from_args(args)
        summary = evaluate_sync(spec)
    except ValidationError as err:
        print(f"eval: {ConfigError.from_validation(err, 'eval', 'evaluation options')}", file=sys.stderr)
        return 2
    except AskrlError as err:
        print(f"eval: {err}", file=sys.stderr)
        return 2
    print(f"eval: wrote {args.out}/summary.json and summary.md", file=sys.stderr)
    print(json.dumps(summary), flush=True)
    _, config = load_summary(args.out)
    assert config is not None  # this run just wrote it
    print(f"eval: {failed_line(config)}", file=sys.stderr)
    return DEGRADED_EXIT if config["status"] == "degraded" else 0


if __name__ == "__main__":
    sys.exit(main())
