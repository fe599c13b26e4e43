"""The masking contract: how a trajectory whose judge failed is kept out of the loss and out of the group baseline.

Who uses it: the reward producers (``reward.verl_fn`` offline, ``reward.episode`` online) set the flag; the rollout
(``askrl/rollout/output.py``: the ``AgentLoopOutput.as_dict`` override) and the advantage estimators
(``reward/advantages.py``) consume it. Pure Python; imports nothing from VERL.

Contract (``on_judge_failure: mask``, the default):
1. **Flag.** Every trajectory's ``reward_extra_info`` (VERL: ``extra_fields["reward_extra_info"]``, scalars only)
   carries ``masked`` = 1 when a turn's judge call failed under ``mask`` (else 0) and ``judge_failed`` = 1 when any
   judge call failed under any policy. Both keys are always present, so VERL's per-key arrays stay aligned. A
   masked trajectory's score is ``MASKED_PLACEHOLDER_SCORE`` (0.0): a placeholder, never a reward — the flag is
   authoritative.
   - offline rows (one sample per turn) run ``askrl_offline_turn`` (``askrl/rollout/offline_turn_loop.py``), which
     scores its turn like the online loop (``EpisodeState``) and returns a ``TurnRewardOutput``.
   - rows scored by VERL's reward loop (``reward.verl_fn``): ``compute_score`` returns ``{"score": 0.0, "judge_failed": 1,
     "masked": 1, ...}``; VERL's reward loop (``AgentLoopWorker._compute_score``) stores the dict in the output's
     ``extra_fields["reward_extra_info"]`` and the score as ``reward_score`` *before* the same worker calls
     ``output.as_dict()``, so an ``as_dict`` override sees the flag (step 2).
   - online (the clarify agent loop scores its own turns): ``EpisodeState.reward_extra_info()`` and
     ``EpisodeState.rm_scores()`` (all zeros when masked).
2. **Out of the loss.** VERL 0.9.1's v1 trainer reads only ``uid``, ``response_mask``, ``rm_scores`` and log-probs
   from TransferQueue when computing advantages, and uses ``response_mask`` as the loss mask. So the agent loop's
   output (``askrl.rollout.output.TurnRewardOutput.as_dict``) replaces ``response_mask`` with
   ``masked_response_mask(...)`` (all zeros when flagged): no token of a masked trajectory then carries loss,
   whatever the estimator. Offline rows must therefore run through an askrl loop whose output is a
   ``TurnRewardOutput`` (``askrl_offline_turn``, which ``askrl.data.offline_turns`` rows name); VERL's stock
   ``single_turn_agent`` returns a plain ``AgentLoopOutput`` whose ``as_dict`` ignores the flag, so there the
   placeholder 0.0 would be trained on (still counted in step 4).
3. **Out of the group baseline.** An all-zero ``response_mask`` row is the signal: askrl's advantage estimator
   leaves such rows out of the group mean/std and gives them zero advantage (``is_masked_row``). VERL's stock
   ``grpo`` would still count the placeholder 0.0 in the group mean — use ``askrl_traj_grpo``/``askrl_turn_grpo``
   (``reward/advantages.py``) with ``mask``.
4. **Counted.** ``reward/judge_failed_frac`` (``reward.metrics``) each step.
``on_judge_failure: penalize`` sets ``judge_failed`` too (the failure is still counted) but the trajectory keeps a
real penalty reward and is **not** masked: ``masked_response_mask`` leaves it alone because ``masked`` is 0.

How it fails: never guesses; a missing flag means "not masked" only for dicts that come from outside askrl.

    info = {"judge_failed": 1, "masked": 1}
    masked_response_mask([1, 1, 0, 1], info)   # [0, 0, 0, 0]
    is_masked_row([0, 0, 0, 0])                # True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: reward_extra_info key: 1 when a judge call of this trajectory failed after its retries (any policy), else 0.
JUDGE_FAILED_KEY = "judge_failed"
#: reward_extra_info key: 1 when the trajectory must leave the loss and the group baseline (``mask`` policy), else 0.
MASKED_KEY = "masked"
#: The score VERL receives for a masked trajectory; a placeholder the mask removes, never a reward.
MASKED_PLACEHOLDER_SCORE = 0.0


def is_masked(reward_extra_info: Mapping[str, object]) -> bool:
    """True when the trajectory's ``reward_extra_info`` says it is masked."""
    return bool(reward_extra_info.get(MASKED_KEY, 0))


def masked_response_mask(response_mask: Sequence[int], reward_extra_info: Mapping[str, object]) -> list[int]:
    """The loss mask a trajectory should carry: all zeros when masked, the original mask otherwise."""
    if is_masked(reward_extra_info):
        return [0] * len(response_mask)
    return [int(bit) for bit in response_mask]


def is_masked_row(response_mask_row: Sequence[int]) -> bool:
    """For the advantage estimator: a row with no policy token at all is a masked trajectory."""
    return not any(response_mask_row)
