"""``python -m reward.score``: score offline turn samples (JSONL) with the rubric reward, one output line per sample.

Who calls it: people and scripts, to check a judge or a reward table on saved turns; nothing imports it.

    python -m reward.score --task askmind --input turns.jsonl --judge-url http://127.0.0.1:8012/v1 \
        [--judge-model default] [--out scored.jsonl]
    python -m reward.score --task overconfidence --input turns.jsonl --judge lexical
    python -m reward.score --task askmind --input turns.jsonl --judge-config judge.yaml   # full JudgeConfig

Contract: each input line is one JSON object: the original's turn-sample fields (``reward.samples``), either nested
under ``extra_info`` or at top level, plus the assistant's ``response`` (optional ``id``, ``ground_truth`` or
``reward_model.ground_truth``). Every line is validated before any judge call. Output (``--out`` or stdout), in
input order: ``{"line", "id", "reward", "outcome", "kind", "label", "guard", "failure", "verdict", ...}`` where
``reward`` is a number, or null when the judge failed under the default ``--on-judge-failure mask``, and
``outcome`` is ``ok``, ``judge_failed`` or ``guard``. A summary goes to stderr: counts, mean reward, failure rate,
judge latency, the table hash and the reward fingerprint.

How it fails: bad input prints ``FILE:LINE: field 'X': problem`` (every bad line, then stops) and exits 2, as does a
bad flag or config; ``--on-judge-failure raise`` exits 1 on the first failed judge call. Never a traceback for
bad input; never a reward for a failed judge call unless ``--on-judge-failure penalize``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml
from pydantic import ValidationError

from askrl.errors import AskrlError, ConfigError, DataError, RubricError
from askrl.judge.build import build_judge
from askrl.judge.config import EndpointConfig, JudgeClientConfig, JudgeConfig
from askrl.judge.llm import LLMJudge
from askrl.judge.types import TaskKind
from reward.config import RewardConfig, provenance
from reward.metrics import turn_metrics
from reward.outcome import TurnOutcome
from reward.samples import TurnSample, parse_turn_sample
from reward.scoring import score_turns

EXIT_BAD_INPUT = 2
EXIT_JUDGE_RAISED = 1
_MAX_REPORTED_ERRORS = 20


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reward.score", description=__doc__.splitlines()[0])
    p.add_argument("--task", required=True, choices=["askmind", "overconfidence"])
    p.add_argument("--input", required=True, type=Path, help="JSONL of turn samples")
    p.add_argument("--out", type=Path, help="output JSONL (default: stdout)")
    p.add_argument("--judge", choices=["llm", "lexical"], default="llm", help="judge backend (default: llm)")
    p.add_argument("--judge-url", help="OpenAI-compatible base URL including /v1 (llm backend)")
    p.add_argument("--judge-model", default="default", help="model name the judge endpoint serves (default: default)")
    p.add_argument("--judge-config", type=Path, help="YAML/JSON file with the full askrl.judge block (JudgeConfig)")
    p.add_argument("--judge-concurrency", type=int, default=None, help="requests in flight (llm backend)")
    p.add_argument("--table", default="paper_v1", help="reward table name or .yaml path (default: paper_v1)")
    p.add_argument("--on-judge-failure", choices=["mask", "penalize", "raise"], default="mask")
    return p


def judge_config(args: argparse.Namespace) -> JudgeConfig:
    """The JudgeConfig the flags describe.

    Raises:
        ConfigError: contradictory or incomplete judge flags, or an invalid config file.
    """
    if args.judge_config is not None:
        if args.judge_url or args.judge == "lexical":
            raise ConfigError("--judge-config replaces --judge/--judge-url; pass only one of them")
        try:
            data = yaml.safe_load(args.judge_config.read_text(encoding="utf-8"))
            return JudgeConfig.model_validate(data)
        except (OSError, yaml.YAMLError, ValidationError) as err:
            raise ConfigError(f"--judge-config {args.judge_config}: {err}") from err
    if args.judge == "lexical":
        if args.judge_url or args.judge_concurrency is not None:
            raise ConfigError("--judge lexical takes no --judge-url or --judge-concurrency")
        return JudgeConfig(backend="lexical")
    if not args.judge_url:
        raise ConfigError("the llm judge needs --judge-url URL (or use --judge lexical, or --judge-config FILE)")
    url = args.judge_url.rstrip("/").removesuffix("/chat/completions")
    client: dict[str, Any] = {"endpoints": [EndpointConfig(name="cli", base_url=url, model=args.judge_model)]}
    if args.judge_concurrency is not None:
        client["max_concurrency"] = args.judge_concurrency
    try:
        return JudgeConfig(backend="llm", client=JudgeClientConfig(**client))
    except ValidationError as err:
        raise ConfigError(f"judge flags: {err}") from err


def read_samples(path: Path, task: TaskKind) -> tuple[list[tuple[int, dict[str, Any], TurnSample]], list[str]]:
    """Parse every line; returns the good samples (line number, record, sample) and the located errors."""
    good: list[tuple[int, dict[str, Any], TurnSample]] = []
    errors: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        return [], [f"{path}: cannot read: {err}"]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append(f"{where}: invalid JSON: {err.msg} (column {err.colno})")
            continue
        if not isinstance(record, dict):
            errors.append(f"{where}: expected a JSON object, got {type(record).__name__}")
            continue
        fields = record.get("extra_info", record)
        ground_truth = record.get("ground_truth")
        if ground_truth is None and isinstance(record.get("reward_model"), dict):
            ground_truth = record["reward_model"].get("ground_truth")
        try:
            sample = parse_turn_sample(fields, task=task, response=record.get("response"), ground_truth=ground_truth)
        except DataError as err:
            errors.append(f"{where}: {err}")
            continue
        good.append((number, record, sample))
    if not good and not errors:
        errors.append(f"{path}: no samples (the file is empty)")
    return good, errors


async def _score(judge_cfg: JudgeConfig, cfg: RewardConfig, samples: Sequence[TurnSample]) -> list[TurnOutcome]:
    judge = build_judge(judge_cfg)
    try:
        return await score_turns(judge, [s.request for s in samples], cfg, truncated=[s.truncated for s in samples])
    finally:
        if isinstance(judge, LLMJudge):
            await judge.aclose()


def _summary(outcomes: Sequence[TurnOutcome], info: dict[str, str], err: TextIO) -> None:
    m = turn_metrics(outcomes)
    counts = {kind: sum(o.outcome == kind for o in outcomes) for kind in ("ok", "guard", "judge_failed")}
    rewarded = [o.reward for o in outcomes if o.reward is not None]
    mean = f"{sum(rewarded) / len(rewarded):+.4f}" if rewarded else "n/a"
    print(
        f"scored {len(outcomes)} turns: ok {counts['ok']}, guard {counts['guard']}, "
        f"judge_failed {counts['judge_failed']}",
        file=err,
    )
    print(
        f"mean reward {mean} over {len(rewarded)} rewarded turns; "
        f"judge failure rate {m.get('reward/judge_failed_frac', 0.0):.4f}",
        file=err,
    )
    if "reward/judge_latency_s/mean" in m:
        print(
            f"judge latency mean {m['reward/judge_latency_s/mean']:.3f} s, max {m['reward/judge_latency_s/max']:.3f} s",
            file=err,
        )
    guards = {k.split("/")[2]: int(v) for k, v in m.items() if k.startswith("reward/guard/") and v}
    if guards:
        print(f"guards: {guards}", file=err)
    print(" ".join(f"{k}={v}" for k, v in info.items()), file=err)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        judge_cfg = judge_config(args)
        cfg = RewardConfig(table=args.table, on_judge_failure=args.on_judge_failure)
    except AskrlError as error:
        print(f"error: {error}", file=err)
        return EXIT_BAD_INPUT
    good, errors = read_samples(args.input, args.task)
    if not errors and args.out is not None and not args.out.parent.is_dir():
        errors.append(f"--out {args.out}: folder {args.out.parent} does not exist")
    if errors:
        for line in errors[:_MAX_REPORTED_ERRORS]:
            print(line, file=err)
        if len(errors) > _MAX_REPORTED_ERRORS:
            print(f"... and {len(errors) - _MAX_REPORTED_ERRORS} more bad lines", file=err)
        return EXIT_BAD_INPUT
    try:
        outcomes = asyncio.run(_score(judge_cfg, cfg, [s for _, _, s in good]))
    except RubricError as error:
        print(f"error: {error}", file=err)
        return EXIT_JUDGE_RAISED
    target = args.out.open("w", encoding="utf-8") if args.out is not None else out
    try:
        for (number, record, _), outcome in zip(good, outcomes, strict=True):
            row = {"line": number, "id": record.get("id"), **outcome.to_json()}
            target.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if args.out is not None:
            target.close()
    _summary(outcomes, provenance(cfg, judge_cfg), err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
