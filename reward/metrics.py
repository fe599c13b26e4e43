"""Per-step ``reward/...`` metrics from turn outcomes and episodes, each family built by one small function.

Who calls it: the trainer's metric hook and the rollout (per step), ``reward.score`` (the CLI summary). Pure Python.

Contract: every key matches ``reward/<name>[/<stat>]`` in snake_case; ratios over turns end in ``_rate``/``_frac``.
A mean or rate whose denominator is empty is left out (never reported as 0). Masked turns carry no reward, so they
are left out of every reward mean and counted in ``reward/judge_failed_frac`` instead.

| key | over |
|---|---|
| ``reward/turn/mean``, ``reward/turn_nonfinal/mean``, ``reward/turn_final/mean`` | turns with a reward |
| ``reward/checklist_coverage/mean`` | graded non-final turns: share of the checklist targeted |
| ``reward/premature_answer_rate``, ``reward/redundant_ask_rate`` | graded non-final turns |
| ``reward/final_correct_rate``, ``reward/final_still_asking_rate`` | graded final turns |
| ``reward/final_early_frac`` | graded final turns: share answered before the last turn (timely answers) |
| ``reward/judge_failed_frac`` | all turns (``reward/judge_failed/count`` alongside) |
| ``reward/judge_latency_s/mean``, ``/max`` | turns that called the judge |
| ``reward/guard/<kind>/count`` | every guard kind, always reported |
| ``reward/episode/...`` | episodes: ``mean`` (unmasked totals), ``masked_frac``, ``resolved_frac/mean`` |

    metrics = turn_metrics(outcomes)
    metrics |= episode_metrics(states)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from reward.episode import EpisodeState
from reward.outcome import TurnOutcome
from reward.table import GuardKind

PREFIX = "reward"


def _key(*parts: str) -> str:
    return "/".join((PREFIX, *parts))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _put(out: dict[str, float], key: str, value: float | None) -> None:
    if value is not None:
        out[key] = float(value)


def reward_means(outcomes: Sequence[TurnOutcome]) -> dict[str, float]:
    """Mean reward over all rewarded turns and by turn kind."""
    out: dict[str, float] = {}
    _put(out, _key("turn", "mean"), _mean([o.reward for o in outcomes if o.reward is not None]))
    for kind in ("nonfinal", "final"):
        _put(
            out,
            _key(f"turn_{kind}", "mean"),
            _mean([o.reward for o in outcomes if o.kind == kind and o.reward is not None]),
        )
    return out


def nonfinal_behaviour(outcomes: Sequence[TurnOutcome]) -> dict[str, float]:
    """Checklist coverage, premature answers and redundant asks over graded non-final turns."""
    graded = [o for o in outcomes if o.outcome == "ok" and o.kind == "nonfinal"]
    out: dict[str, float] = {}
    _put(out, _key("checklist_coverage", "mean"), _mean([f for o in graded if (f := o.hit_fraction) is not None]))
    _put(out, _key("premature_answer_rate"), _mean([float(o.premature) for o in graded]))
    _put(out, _key("redundant_ask_rate"), _mean([float(o.redundant) for o in graded]))
    return out


def final_behaviour(outcomes: Sequence[TurnOutcome]) -> dict[str, float]:
    """Accuracy, still-asking rate and timely early answers over graded final turns."""
    graded = [o for o in outcomes if o.outcome == "ok" and o.kind == "final"]
    out: dict[str, float] = {}
    _put(out, _key("final_correct_rate"), _mean([float(o.label == "correct") for o in graded]))
    _put(out, _key("final_still_asking_rate"), _mean([float(o.label == "still_asking") for o in graded]))
    _put(out, _key("final_early_frac"), _mean([float(o.answered_early) for o in graded]))
    return out


def judge_health(outcomes: Sequence[TurnOutcome]) -> dict[str, float]:
    """Judge failure share and latency."""
    failed = sum(o.outcome == "judge_failed" for o in outcomes)
    latencies = [o.latency_s for o in outcomes if o.judge_called]
    out: dict[str, float] = {_key("judge_failed", "count"): float(failed)}
    _put(out, _key("judge_failed_frac"), failed / len(outcomes) if outcomes else None)
    _put(out, _key("judge_latency_s", "mean"), _mean(latencies))
    _put(out, _key("judge_latency_s", "max"), max(latencies) if latencies else None)
    return out


def guard_counts(outcomes: Sequence[TurnOutcome]) -> dict[str, float]:
    """How many turns each guard stopped (every kind reported, zeros included)."""
    return {_key("guard", kind, "count"): float(sum(o.guard == kind for o in outcomes)) for kind in get_args(GuardKind)}


def turn_metrics(outcomes: Sequence[TurnOutcome]) -> dict[str, float]:
    """All turn-level metrics of one step."""
    out = {_key("turns", "count"): float(len(outcomes))}
    for family in (reward_means, nonfinal_behaviour, final_behaviour, judge_health, guard_counts):
        out.update(family(outcomes))
    return out


def episode_metrics(episodes: Sequence[EpisodeState]) -> dict[str, float]:
    """Episode totals, masked share and checklist resolution of one step (online mode)."""
    out: dict[str, float] = {_key("episode", "count"): float(len(episodes))}
    _put(out, _key("episode", "mean"), _mean([t for e in episodes if (t := e.total_reward) is not None]))
    _put(out, _key("episode", "masked_frac"), _mean([float(e.masked) for e in episodes]))
    _put(
        out, _key("episode", "resolved_frac", "mean"), _mean([e.reward_extra_info()["resolved_frac"] for e in episodes])
    )
    return out
