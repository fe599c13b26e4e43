"""``OfflineTurnAgentLoop``: VERL agent loop for one offline turn sample -- generate ONE assistant message, grade it.

Why: the original AskBench recipe trains on one sample per assistant turn of a pre-built dialogue. Run through
VERL's stock ``single_turn_agent`` + ``reward.verl_fn``, a judge failure's placeholder 0.0 would be trained on (its
plain ``AgentLoopOutput`` ignores the masking flag, ``reward.masking`` step 2). This loop grades the turn itself and
returns a ``TurnRewardOutput``, so masking, ``rm_scores`` and the overlong penalty work as in the online loop.

Who calls it: VERL's ``AgentLoopWorker`` instantiates it per trajectory for rows whose ``agent_name`` is
``askrl_offline_turn`` (``askrl.data.offline_turns.record_to_turn_rows`` sets it; registered by
``askrl/rollout/agent_loops.yaml``) and awaits ``run(sampling_params, **row)``. Settings: ``askrl.judge``,
``askrl.reward`` and ``askrl.rollout.max_tokens_per_turn`` of the trainer config (``askrl.rollout.config``).

Contract:
- The prompt is the row's ``raw_prompt`` (the dialogue up to the current user message), chat-templated with the
  generation prompt; the policy writes one turn token-in/token-out (``AskrlLoopBase._generate``: ``max_tokens`` =
  the response budget ``rollout.response_length``, or ``askrl.rollout.max_tokens_per_turn`` when smaller).
- The judge grades it with ``EpisodeState.score_turn`` (``credit="paper"``: the paper's exact per-sample values):
  history = the row's prior conversation, as the final turn when ``extra_info.is_final_turn`` is true
  (``row_inputs.turn_sample_inputs``).
- Output (``AskrlLoopBase._output``): ``response_ids`` = the turn's tokens, ``response_mask`` all 1, its reward
  (plus the overlong penalty) on the last token, ``reward_score`` = that reward, ``reward_extra_info`` with the
  clarify loop's keys, ``askrl_stop_reason`` ``answered`` / ``asked`` / ``premature`` / ``truncated`` / ``guard`` /
  ``judge_failed``. A judge failure (``mask`` policy) masks the trajectory: placeholder score 0.0, all-zero stored
  ``response_mask`` and ``rm_scores``.

How it fails: ``RolloutError`` for a malformed row (the message names the field), a server that returns no tokens
or an aborted request; judge failures are outcomes, never exceptions.

    # agent_loops.yaml: - {name: askrl_offline_turn, _target_: askrl.rollout.offline_turn_loop.OfflineTurnAgentLoop}
    loop = OfflineTurnAgentLoop(trainer_config=DictConfigWrap(cfg), server_manager=server, tokenizer=tok, ...)
    out = await loop.run({"temperature": 1.0, "top_p": 1.0, "top_k": -1, "logprobs": False}, **row)
"""

from __future__ import annotations

import time
from typing import Any

from askrl.rollout import OFFLINE_AGENT_NAME
from askrl.rollout.judge_cost import MeteredJudge
from askrl.rollout.loop_base import AskrlLoopBase, stop_after
from askrl.rollout.output import TurnRewardOutput
from askrl.rollout.row_inputs import turn_sample_inputs
from askrl.rollout.shared_judge import shared_judge
from reward.episode import EpisodeState


class OfflineTurnAgentLoop(AskrlLoopBase):
    """One assistant turn of a pre-built dialogue, graded by the rubric judge."""

    agent_name = OFFLINE_AGENT_NAME

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> TurnRewardOutput:
        sample = turn_sample_inputs(kwargs)
        judge = MeteredJudge(shared_judge(self.settings.judge))
        state = EpisodeState(
            sample.spec,
            self.settings.reward,
            history=sample.history,
            resolved=sample.resolved,
            credit="paper",  # one independent sample per turn: the paper's exact per-sample values
            strict=self.settings.rollout.strict,
        )
        traj = await self._start(sample.messages, sampling_params)
        turn = await self._generate(traj, sampling_params)
        started = time.perf_counter()
        turn.outcome = await state.score_turn(
            judge, turn.text, is_final_turn=sample.is_final_turn, truncated=turn.truncated
        )
        traj.judge_s = time.perf_counter() - started
        return self._output(traj, state, stop=stop_after(turn) or "asked", judge_cost=judge.cost())
