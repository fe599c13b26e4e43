"""The rubric reward as a VERL 0.9.1 custom reward function, for offline turn samples (one assistant turn each).

askrl's own offline rows run the ``askrl_offline_turn`` agent loop instead, which scores the turn itself (so a
masked judge failure leaves the loss, and ``askrl.reward.overlong`` applies); this function serves rows that run
VERL's stock loops. It ignores ``RewardConfig.overlong`` (it has no token counts; use VERL's ``dapo`` manager there).

Who calls it: VERL's reward loop (``RewardLoopWorker`` → ``NaiveRewardManager.run_single``), selected with the
0.9.1 keys — never the legacy top-level ``custom_reward_function.*``, which 0.9.1's ``main_ppo`` silently ignores:

    reward.custom_reward_function.path=pkg://reward.verl_fn
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.judge=${askrl.judge}      # JudgeConfig fields
    +reward.custom_reward_function.reward_kwargs.reward=${askrl.reward}    # RewardConfig fields (optional)

VERL merges ``reward_kwargs`` into every call. Nothing here imports VERL.

Contract: ``compute_score(data_source, solution_str, ground_truth, extra_info, *, judge, reward=None)`` is async
(VERL awaits it on the worker's loop). ``extra_info`` holds the original's turn-sample fields (``reward.samples``);
the task comes from ``data_source`` (``ask_mind_qa`` / ``overconfidence_qa``) or the fields. It returns
``{"score": float, <scalar extras>}`` with always the same keys (VERL builds one array per key):
``judge_failed``, ``masked``, ``guard``, ``is_final_turn``, ``correct``, ``premature_answer``, ``redundant``,
``hits``, ``judge_latency_s`` (0/1 flags, counts, seconds). The judge is built lazily, once per process and event
loop, from ``reward_kwargs.judge``; the RewardConfig likewise.

How it fails: a masked judge failure returns ``score = MASKED_PLACEHOLDER_SCORE`` (0.0) with ``judge_failed = 1``
and ``masked = 1``; the score is a placeholder that never reaches the gradient because the rollout's ``as_dict``
zeroes the trajectory's ``response_mask`` (= VERL's loss mask) and askrl's advantage estimator drops all-zero rows
from the group baseline (``reward.masking``). Bad sample fields raise ``DataError``; a missing or invalid judge or
reward config raises ``ConfigError``; unknown keyword arguments raise ``ConfigError`` (a misspelt reward_kwargs key
must not silently fall back to defaults).

    result = await compute_score("ask_mind_qa", response, "12", extra_info, judge={"backend": "lexical"})
    result["score"], result["judge_failed"]
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from askrl.errors import ConfigError
from askrl.judge.build import build_judge
from askrl.judge.config import JudgeConfig
from askrl.judge.types import Judge
from reward.config import RewardConfig, provenance
from reward.masking import JUDGE_FAILED_KEY, MASKED_KEY, MASKED_PLACEHOLDER_SCORE
from reward.outcome import TurnOutcome
from reward.samples import parse_turn_sample, task_for
from reward.scoring import score_turn

logger = logging.getLogger(__name__)

#: Keyword arguments VERL's reward managers add on their own (generative-RM plumbing); accepted and unused.
VERL_EXTRA_KWARGS = frozenset({"reward_router_address", "reward_model_tokenizer"})

_JUDGES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Judge]] = weakref.WeakKeyDictionary()
_REWARD_CONFIGS: dict[str, RewardConfig] = {}


def _plain(value: Any) -> Any:
    """OmegaConf containers (what VERL passes for ``reward_kwargs``) → plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_plain(v) for v in value]
    return value


def _validated(model: type, data: Any, key: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"reward.custom_reward_function.reward_kwargs.{key}: {problems}") from err


def reward_config(reward: Any) -> RewardConfig:
    """The RewardConfig for ``reward_kwargs.reward`` (defaults when absent), parsed once per process."""
    data = _plain(reward) if reward is not None else {}
    key = json.dumps(data, sort_keys=True)
    if key not in _REWARD_CONFIGS:
        _REWARD_CONFIGS[key] = _validated(RewardConfig, data, "reward")
    return _REWARD_CONFIGS[key]


def judge_for(judge: Any, cfg: RewardConfig) -> Judge:
    """The judge for ``reward_kwargs.judge``, built on first use in this process and event loop."""
    if judge is None:
        raise ConfigError(
            "the rubric reward needs a judge: set +reward.custom_reward_function.reward_kwargs.judge "
            "(the askrl.judge block, e.g. backend=llm with client.endpoints, or backend=lexical)"
        )
    data = _plain(judge)
    key = json.dumps(data, sort_keys=True)
    judges = _JUDGES.setdefault(asyncio.get_running_loop(), {})
    if key not in judges:
        judge_cfg = _validated(JudgeConfig, data, "judge")
        judges[key] = build_judge(judge_cfg)
        logger.info("rubric reward judge built: %s", provenance(cfg, judge_cfg))
    return judges[key]


def verl_result(outcome: TurnOutcome) -> dict[str, float]:
    """The dict VERL receives for one scored turn (always the same keys; see the module docstring)."""
    return {
        "score": MASKED_PLACEHOLDER_SCORE if outcome.reward is None else float(outcome.reward),
        JUDGE_FAILED_KEY: float(outcome.outcome == "judge_failed"),
        MASKED_KEY: float(outcome.masked),
        "guard": float(outcome.outcome == "guard"),
        "is_final_turn": float(outcome.kind == "final"),
        "correct": float(outcome.label == "correct"),
        "premature_answer": float(outcome.premature),
        "redundant": float(outcome.redundant),
        "hits": float(len(outcome.hit_indices)),
        "judge_latency_s": float(outcome.latency_s),
    }


async def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    judge: Any = None,
    reward: Any = None,
    **verl_kwargs: Any,
) -> dict[str, float]:
    """Score one offline turn sample for VERL.

    Args:
        data_source: ``ask_mind_qa`` / ``overconfidence_qa`` (or any name; the fields then decide the task).
        solution_str: the decoded assistant turn.
        ground_truth: the expected answer (used when ``extra_info`` has no ``expected_answer``).
        extra_info: the turn sample's fields (``reward.samples``).
        judge: ``JudgeConfig`` fields (VERL's ``reward_kwargs.judge``).
        reward: ``RewardConfig`` fields (VERL's ``reward_kwargs.reward``); defaults when absent.

    Returns:
        ``{"score": ..., "judge_failed": 0/1, "masked": 0/1, ...}``; see the module docstring.

    Raises:
        ConfigError: missing/invalid judge or reward config, or an unknown keyword argument.
        DataError: a sample field is missing or mistyped.
        RubricError: ``on_judge_failure="raise"`` and the judge failed.
    """
    unknown = sorted(set(verl_kwargs) - VERL_EXTRA_KWARGS)
    if unknown:
        raise ConfigError(
            f"unknown reward_kwargs {unknown} for reward.verl_fn.compute_score; known: ['judge', 'reward']"
        )
    cfg = reward_config(reward)
    judge_obj = judge_for(judge, cfg)
    fields = extra_info if extra_info is not None else {}
    sample = parse_turn_sample(
        fields, task=task_for(data_source, fields), response=solution_str, ground_truth=ground_truth
    )
    outcome = await score_turn(judge_obj, sample.request, cfg, truncated=sample.truncated)
    return verl_result(outcome)
