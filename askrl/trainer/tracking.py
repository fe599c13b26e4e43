"""Step metrics and sample conversations from the rollout's per-trajectory ``extra_fields``.

Why: VERL 0.9.1's trainer logs ``reward_extra_info`` only for validation; on training steps askrl's own numbers
(rubric reward, coverage, accuracy, ask rate, redundant asks, judge failures and latency, turns per episode,
simulator fidelity) would never reach wandb. ``askrl.trainer.hooks.AskTrainerSync`` calls these pure functions on the
batch it already holds in TransferQueue and adds the results to the step's metrics.

Keys follow ``<area>/<name>[/<stat>]``: ``reward/...``, ``rollout/...``, ``judge/...``. Masked trajectories (judge
failures) count in ``reward/judge_failed_frac`` and ``reward/masked_frac`` but not in any reward mean.

    metrics.update(step_metrics(extra_fields))            # one dict per trajectory of the step
    rows = conversation_rows(extra_fields, decoded, step=7, limit=4)
    append_step_metrics(run_dir, step=7, metrics=metrics)  # one line of <run dir>/metrics.jsonl

``metrics.jsonl`` is the run's local record of every logged step (``{"step": N, "time": unix_s, "metrics":
{key: float}}``), read by the console's progress display, the end-of-run summary and ``python -m askrl.report``,
so offline runs have curves without wandb.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from askrl.rollout.fidelity import aggregate_rollout_metrics

METRIC_KEY = re.compile(r"^(reward|rollout|judge|eval)/[a-z0-9_]+(/[a-z0-9_]+)*$")

# reward_extra_info key -> (metric key, over unmasked trajectories only)
_REWARD_KEYS: dict[str, tuple[str, bool]] = {
    "score": ("reward/episode/mean", True),
    "final_correct": ("reward/final_correct_rate", True),
    "premature_answer": ("reward/premature_answer_rate", True),
    "redundant_turns": ("reward/redundant_turns/mean", True),
    "guard_turns": ("reward/guard_turns/mean", True),
    "resolved_frac": ("reward/checklist_coverage/mean", True),
    "turns": ("reward/graded_turns/mean", True),
    "judge_failed": ("reward/judge_failed_frac", False),
    "masked": ("reward/masked_frac", False),
    "judge_latency_s": ("judge/latency_s/episode_mean", False),
    # the episode's whole judge cost, grading and simulated user (askrl.rollout.judge_cost)
    "judge_cost/calls": ("judge/calls_per_episode", False),
    "judge_cost/prompt_tokens": ("judge/prompt_tokens_per_episode", False),
    "judge_cost/completion_tokens": ("judge/completion_tokens_per_episode", False),
    "judge_cost/user_latency_s": ("judge/user_latency_s/episode_mean", False),
    "reward/overlong_penalty": ("reward/overlong_penalty/mean", True),
}


# reward_extra_info key -> step total (grading calls; the simulated user's are judge/user_calls)
_SUMMED_KEYS: dict[str, str] = {
    "judge_calls": "judge/grading_calls",
    "judge_cost/user_calls": "judge/user_calls",
    "judge_retries": "judge/grading_retries",
    "judge_failed": "judge/failed_episodes",
}


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def step_metrics(extra_fields: Sequence[Any]) -> dict[str, float]:
    """Aggregate one step's trajectories (their ``extra_fields`` dicts) into flat metrics."""
    infos = [ef.get("reward_extra_info") or {} for ef in extra_fields if isinstance(ef, Mapping)]
    infos = [i for i in infos if isinstance(i, Mapping)]
    out = aggregate_rollout_metrics(infos)
    unmasked = [i for i in infos if not i.get("masked")]
    for name, (metric, only_unmasked) in _REWARD_KEYS.items():
        pool = unmasked if only_unmasked else infos
        value = _mean([float(i[name]) for i in pool if isinstance(i.get(name), int | float)])
        if value is not None:
            out[metric] = value
    for name, metric in _SUMMED_KEYS.items():
        values = [float(i[name]) for i in infos if isinstance(i.get(name), int | float)]
        if values:
            out[metric] = sum(values)
    replied = sum(float(i.get("judge_cost/replied") or 0.0) for i in infos)
    if replied > 0:  # masked episodes included: a judge answering garbage is what masks them
        out["judge/parse_ok_frac"] = 1.0 - sum(float(i.get("judge_cost/unparsed") or 0.0) for i in infos) / replied
    if infos:
        out["reward/trajectories"] = float(len(infos))
    stops: dict[str, int] = {}
    for ef in extra_fields:
        if isinstance(ef, Mapping) and isinstance(ef.get("askrl_stop_reason"), str):
            stops[ef["askrl_stop_reason"]] = stops.get(ef["askrl_stop_reason"], 0) + 1
    for reason, count in stops.items():
        out[f"rollout/stop/{re.sub(r'[^a-z0-9_]', '_', reason.lower())}_rate"] = count / len(infos or extra_fields)
    return out


def render_conversation(prompt: str, response_ids: Sequence[int], turns: Sequence[Mapping[str, Any]], decode) -> str:
    """A readable transcript: the prompt, then each policy turn (with its reward) and the user's reply."""
    lines = [f"USER: {prompt.strip()}"]
    for k, turn in enumerate(turns, start=1):
        text = decode(list(response_ids[int(turn["start"]) : int(turn["end"])])).strip()
        outcome = turn.get("outcome") or {}
        label = outcome.get("label") if isinstance(outcome, Mapping) else None
        lines.append(f"ASSISTANT[{k}] (reward {turn.get('reward')}, {label or 'n/a'}): {text}")
        if turn.get("user_reply"):
            lines.append(f"USER: {str(turn['user_reply']).strip()}")
    return "\n".join(lines)


def conversation_rows(
    extra_fields: Sequence[Any],
    prompts: Sequence[str],
    responses: Sequence[Sequence[int]],
    decode,
    *,
    step: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit`` sample conversations of this step, as rows for a wandb table or a JSONL file."""
    rows = []
    for ef, prompt, ids in zip(extra_fields, prompts, responses, strict=True):
        if len(rows) >= limit:
            break
        if not isinstance(ef, Mapping) or "askrl_turns" not in ef:
            continue
        info = ef.get("reward_extra_info") or {}
        rows.append(
            {
                "step": step,
                "conversation": render_conversation(prompt, ids, ef["askrl_turns"], decode),
                "turn_rewards": json.dumps([t.get("reward") for t in ef["askrl_turns"]]),
                "score": info.get("score"),
                "masked": bool(info.get("masked")),
                "stop_reason": ef.get("askrl_stop_reason"),
            }
        )
    return rows


METRICS_FILE = "metrics.jsonl"


def _as_float(value: Any) -> float | None:
    """A finite float for numbers (Python, numpy or 0-d tensors); None for anything else."""
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def append_step_metrics(run_dir: str | Path, *, step: int, metrics: Mapping[str, Any]) -> Path:
    """Append one step's numeric metrics to ``<run_dir>/metrics.jsonl`` (non-numbers and NaN/inf are left out)."""
    numeric = {k: f for k, v in metrics.items() if (f := _as_float(v)) is not None}
    path = Path(run_dir) / METRICS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"step": int(step), "time": time.time(), "metrics": numeric}, sort_keys=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return path
