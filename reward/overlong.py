"""DAPO's overlong penalty, counted on the policy's own tokens only.

Why: askrl's agent loops set ``reward_score`` themselves, so VERL skips its reward loop and with it the ``dapo``
reward manager's ``overlong_buffer`` (which would also count simulated-user tokens: it measures the whole
response). This is the same formula on the tokens the policy wrote.

Who calls it: ``askrl.rollout.loop_base`` (both agent loops) when building a trajectory's output, with
``max_len = actor_rollout_ref.rollout.response_length``; the result is added to the trajectory's LAST turn reward,
so it lands on the last policy token (``reward.placement``) and counts once in ``rm_scores.sum()``. It is reported
as ``reward_extra_info["reward/overlong_penalty"]`` (0.0 when disabled or masked). Pure; no I/O.

Contract (``cfg = RewardConfig.overlong``; DAPO, arXiv 2503.14476 §3.4):

    expected_len = max_len - buffer_tokens
    exceed       = policy_tokens - expected_len
    penalty      = min(-exceed / buffer_tokens * penalty_factor, 0)

``policy_tokens`` = ``sum(response_mask)`` (mask 1 only). A masked trajectory (``reward.masking``) never gets it:
it leaves the loss anyway, and its reward is a placeholder.

How it fails: ``ConfigError`` when ``buffer_tokens`` exceeds ``max_len`` (every response, even an empty one, would be
penalised) or ``max_len`` < 1; checked only when enabled.

    overlong_penalty(896, max_len=1024, cfg=OverlongConfig(enable=True, buffer_tokens=256))   # -0.5
    policy_token_count([1, 1, 0, 0, 1])                                                     # 3
"""

from __future__ import annotations

from collections.abc import Sequence

from askrl.errors import ConfigError
from reward.config import OverlongConfig

#: ``reward_extra_info`` key of the penalty a trajectory received (always present; 0.0 when none).
OVERLONG_KEY = "reward/overlong_penalty"


def policy_token_count(response_mask: Sequence[int]) -> int:
    """Tokens the policy generated: the 1s of VERL's ``response_mask`` (simulated-user and template tokens are 0)."""
    return sum(1 for bit in response_mask if bit)


def check_fits(cfg: OverlongConfig, max_len: int) -> None:
    """Refuse a buffer larger than the budget (when enabled): the agent loops call it once at construction.

    Raises:
        ConfigError: ``max_len`` < 1 or ``buffer_tokens`` > ``max_len``.
    """
    if not cfg.enable:
        return
    if max_len < 1:
        raise ConfigError(f"the overlong penalty needs a response budget of at least 1 token, got {max_len}")
    if cfg.buffer_tokens > max_len:
        raise ConfigError(
            f"askrl.reward.overlong.buffer_tokens={cfg.buffer_tokens} exceeds actor_rollout_ref.rollout."
            f"response_length={max_len}: every response would be penalised; lower buffer_tokens"
        )


def overlong_penalty(policy_tokens: int, *, max_len: int, cfg: OverlongConfig, masked: bool = False) -> float:
    """The penalty (<= 0) for a trajectory whose policy wrote ``policy_tokens`` tokens of a ``max_len`` budget.

    Returns 0.0 when ``cfg.enable`` is false or the trajectory is ``masked``.

    Raises:
        ConfigError: as ``check_fits``.
    """
    if not cfg.enable or masked:
        return 0.0
    check_fits(cfg, max_len)
    expected_len = max_len - cfg.buffer_tokens
    exceed = policy_tokens - expected_len
    return min(-exceed / cfg.buffer_tokens * cfg.penalty_factor, 0.0)
