"""The agent-loop output that carries one reward per policy turn into VERL's ``rm_scores``.

Who calls it: ``ClarifyAgentLoop`` builds it; VERL's v1 worker (``AgentLoopWorkerTQ._agent_loop_postprocess``)
calls ``as_dict()`` and stores the result in TransferQueue, where the advantage estimators read ``rm_scores`` and
``response_mask``. (VERL's legacy v0 worker ignores ``as_dict`` and keeps only ``reward_score``: use v1.)

Contract (per trajectory; ``L = len(response_ids) <= rollout.response_length``):

- ``turn_end_positions[k]``: index in the response of the last policy token of turn ``k`` (mask 1 there),
  strictly increasing; ``turn_rewards[k]``: that turn's reward in reward-table units.
- ``as_dict()["rm_scores"]`` (L,) float32: ``turn_rewards[k]`` at ``turn_end_positions[k]``, 0 elsewhere
  (``reward.placement.place_turn_rewards``), so ``rm_scores.sum() == reward_score``, what GRPO, DAPO's group
  filter and validation read.
- Masking (``reward.masking``): when ``extra_fields["reward_extra_info"]["masked"]`` is 1, ``rm_scores`` and
  ``response_mask`` are all 0, so VERL's ``loss_mask`` (= ``response_mask``) drops the trajectory from the loss
  and askrl's estimators drop it from the group baseline. ``reward_score`` is then the 0.0 placeholder (never
  ``None``, which would make VERL run its own reward loop).

How it fails: inconsistent positions (out of range, not on a policy token, not increasing, counts that differ)
raise ``RolloutError`` at construction, before anything reaches TransferQueue.

    out = TurnRewardOutput(prompt_ids=p, response_ids=r, response_mask=m, turn_end_positions=[4, 9],
                           turn_rewards=[0.8, 1.0], reward_score=1.8, metrics=AgentLoopMetrics(),
                           extra_fields={"reward_extra_info": {"masked": 0.0, ...}})
    out.as_dict()["rm_scores"]   # 0.8 at index 4, 1.0 at index 9
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import model_validator

from askrl import _verl
from askrl.errors import RolloutError
from reward.masking import is_masked, masked_response_mask
from reward.placement import place_turn_rewards


class TurnRewardOutput(_verl.AgentLoopOutput):
    """``AgentLoopOutput`` plus per-turn reward positions; ``as_dict`` places them into ``rm_scores``."""

    turn_end_positions: list[int] = []
    """Response index of each turn's last policy token."""
    turn_rewards: list[float] = []
    """Reward of each turn, aligned with ``turn_end_positions`` (ignored when the trajectory is masked)."""

    @property
    def masked(self) -> bool:
        """The reward's masking flag (``extra_fields["reward_extra_info"]["masked"]``)."""
        return is_masked(self.extra_fields.get("reward_extra_info", {}))

    @model_validator(mode="after")
    def _check_turns(self) -> TurnRewardOutput:
        if len(self.response_mask) != len(self.response_ids):
            raise RolloutError(f"response_mask has {len(self.response_mask)} entries for {len(self.response_ids)} ids")
        if not self.masked:
            self.rm_scores_list()  # raises RolloutError on any inconsistency
        return self

    def rm_scores_list(self) -> list[float]:
        """Token-level rewards (all zeros when masked)."""
        if self.masked:
            return [0.0] * len(self.response_ids)
        return place_turn_rewards(self.response_mask, self.turn_rewards, self.turn_end_positions)

    def as_dict(self) -> dict[str, Any]:
        """VERL's dict with ``rm_scores`` holding one reward per turn and the masking applied."""
        output = super().as_dict()
        output.pop("turn_end_positions", None)
        output.pop("turn_rewards", None)
        info = self.extra_fields.get("reward_extra_info", {})
        output["response_mask"] = torch.tensor(masked_response_mask(self.response_mask, info), dtype=torch.int64)
        output["rm_scores"] = torch.tensor(self.rm_scores_list(), dtype=torch.float32)
        return output
