"""``AskrlLoopBase``: what askrl's agent loops share -- settings, policy turns token-in/token-out, the reward output.

Who calls it: ``ClarifyAgentLoop`` (online episodes) and ``OfflineTurnAgentLoop`` (one turn of a pre-built
dialogue) subclass it; VERL's ``AgentLoopWorker`` builds them per trajectory (``askrl/rollout/agent_loops.yaml``).

Contract:
- ``__init__``: the ``askrl`` block as ``ClarifySettings`` (parsed once per config object), the response budget
  ``actor_rollout_ref.rollout.response_length``, and an early ``ConfigError`` for an overlong buffer that does not
  fit that budget.
- ``_start(messages, sampling_params)``: the prompt tokens (chat template + generation prompt) of a ``Trajectory``.
- ``_generate(traj, sampling_params)``: one policy turn with ``max_tokens = min(askrl.rollout.max_tokens_per_turn,
  tokens left of the budget)``, merged as generated (``ct_merge_assistant_token``: mask 1, never re-tokenised); a
  turn that fills its limit without a special (stop) token is truncated.
- ``_output(traj, state, stop=...)``: a ``TurnRewardOutput`` with each turn's reward (``EpisodeState.turn_rewards``)
  on its last policy token; DAPO's overlong penalty (``reward.overlong``, policy tokens only) is added to the LAST
  turn's reward, so it sits on the trajectory's last policy token. ``reward_score`` = the sum of the turn rewards.
  ``extra_fields``: ``reward_extra_info`` (scalars, the same keys for every trajectory of either loop: the reward's
  summary, the ``rollout/...`` shape keys of ``fidelity``, ``reward/overlong_penalty``, the episode's judge cost
  ``judge_cost/...`` of ``judge_cost.MeteredJudge``), ``askrl_turns`` (per turn:
  token span, reward, outcome, user reply), ``askrl_stop_reason``, ``min/max_global_steps``.
- Judge failures (``reward.masking``): a failed grading call, or a failed simulated-user call
  (``stop == "user_sim_failed"``, recorded with ``EpisodeState.user_reply_failed``), stops the episode under every
  ``on_judge_failure`` policy (``stop_after``). Under ``mask`` the trajectory is masked: the 0.0 placeholder score,
  every turn reward 0 (earlier graded turns included), no overlong penalty, and ``TurnRewardOutput`` zeroes its
  stored mask. Under ``penalize`` the failed turn carries the table's ``judge_failure_penalty`` and is the last.

How it fails: ``RolloutError`` for a server that returns no tokens, an aborted request, missing logprobs, or no
budget left; judge failures are outcomes (masking), never exceptions.

    class MyLoop(AskrlLoopBase):
        async def run(self, sampling_params, **row):
            traj = await self._start(messages, sampling_params)
            turn = await self._generate(traj, sampling_params)
            turn.outcome = await state.score_turn(judge, turn.text, is_final_turn=True, truncated=turn.truncated)
            return self._output(traj, state, stop=stop_after(turn) or "asked")
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import uuid4

from askrl import _verl
from askrl.errors import RolloutError
from askrl.rollout.config import ClarifySettings, settings_from_trainer_config
from askrl.rollout.fidelity import EpisodeShape, ReplyAudit, episode_metrics
from askrl.rollout.judge_cost import zero_cost
from askrl.rollout.output import TurnRewardOutput
from reward.episode import EpisodeState
from reward.masking import MASKED_PLACEHOLDER_SCORE, is_masked
from reward.outcome import TurnOutcome
from reward.overlong import OVERLONG_KEY, check_fits, overlong_penalty, policy_token_count

#: Why a trajectory ended (``extra_fields["askrl_stop_reason"]``). ``asked``: an offline turn sample whose graded
#: turn was a question (its dialogue goes on outside the sample); ``budget``: a reply did not fit (clarify only).
StopReason = Literal[
    "answered", "asked", "premature", "truncated", "guard", "judge_failed", "user_sim_failed", "budget"
]


@dataclass
class PolicyTurn:
    """One policy turn as generated (before and after grading)."""

    text: str
    start: int
    end: int  # response index of the last token
    truncated: bool
    outcome: TurnOutcome | None = None
    reply: str | None = None


@dataclass
class Trajectory:
    """The token stream of one trajectory: prompt + response ids, the response mask, the turns in it."""

    request_id: str
    logprobs: list[float] | None  # response logprobs, when the sampling params ask for them
    ids: list[int] = field(default_factory=list)  # prompt + response tokens
    prompt_len: int = 0
    mask: list[int] = field(default_factory=list)  # response mask
    turns: list[PolicyTurn] = field(default_factory=list)
    min_global_steps: Any = None
    max_global_steps: Any = None
    generate_s: float = 0.0
    judge_s: float = 0.0

    @property
    def response_ids(self) -> list[int]:
        return self.ids[self.prompt_len :]


def stop_after(turn: PolicyTurn) -> StopReason | None:
    """Why an episode ends after this graded turn, or None when the turn was a question that may go on."""
    outcome = turn.outcome
    if outcome is None:
        raise RolloutError("stop_after needs a graded turn")
    if outcome.outcome == "judge_failed":  # under every policy: masked, or penalised and nothing after it
        return "judge_failed"
    if outcome.kind == "final":
        return "answered"
    if outcome.premature:
        return "premature"
    if turn.truncated:
        return "truncated"
    if outcome.outcome == "guard":
        return "guard"
    return None


def asked(outcomes: Sequence[TurnOutcome]) -> bool:
    """A graded non-final, non-premature turn, or a final turn still asking."""
    return any(
        (o.outcome == "ok" and o.kind == "nonfinal" and not o.premature) or o.label == "still_asking" for o in outcomes
    )


class AskrlLoopBase(_verl.AgentLoopBase):
    """Shared machinery of askrl's agent loops; subclasses implement ``run``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings: ClarifySettings = settings_from_trainer_config(self.config)
        self.response_length: int = int(self.rollout_config.response_length)
        self._special_ids = frozenset(int(i) for i in self.tokenizer.all_special_ids)
        check_fits(self.settings.reward.overlong, self.response_length)

    async def _start(self, messages: list[dict[str, Any]], sampling_params: dict[str, Any]) -> Trajectory:
        """A trajectory holding the prompt tokens of ``messages`` (with the generation prompt)."""
        traj = Trajectory(request_id=uuid4().hex, logprobs=[] if sampling_params.get("logprobs") else None)
        traj.ids = list(await self.ct_build_initial_tokens(messages))
        traj.prompt_len = len(traj.ids)
        return traj

    async def _generate(self, traj: Trajectory, sampling_params: dict[str, Any]) -> PolicyTurn:
        """One policy turn within what is left of the response budget, appended to ``traj``."""
        number = len(traj.turns) + 1
        remaining = self.response_length - len(traj.mask)
        if remaining < 1:
            raise RolloutError(f"no response budget left for turn {number} ({len(traj.mask)} used)")
        cap = min(remaining, self.settings.rollout.max_tokens_per_turn or remaining)
        started = time.perf_counter()
        output = await self.server_manager.generate(
            request_id=traj.request_id,
            prompt_ids=traj.ids,
            sampling_params={**sampling_params, "max_tokens": cap},
        )
        traj.generate_s += time.perf_counter() - started
        if output.stop_reason == "aborted":
            raise RolloutError(f"generation of turn {number} was aborted (partial rollout unsupported)")
        tokens = [int(t) for t in output.token_ids][:cap]
        if not tokens:
            raise RolloutError(f"the rollout server returned no tokens for turn {number}")
        logprobs = None
        if traj.logprobs is not None:
            if output.log_probs is None:
                raise RolloutError("sampling_params asked for logprobs but the rollout server returned none")
            logprobs = [float(x) for x in output.log_probs][: len(tokens)]
        steps = output.extra_fields or {}
        if traj.min_global_steps is None:
            traj.min_global_steps = steps.get("min_global_steps", steps.get("global_steps"))
        traj.max_global_steps = steps.get("max_global_steps", steps.get("global_steps"))

        merged, mask, merged_logprobs = await self.ct_merge_assistant_token(
            traj.ids, tokens, traj.mask, traj.logprobs, assistant_logprobs=logprobs
        )
        traj.ids, traj.mask = list(merged.token_ids), list(mask)
        if traj.logprobs is not None:
            traj.logprobs = list(merged_logprobs or [])
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        truncated = len(tokens) >= cap and tokens[-1] not in self._special_ids
        turn = PolicyTurn(text, len(traj.mask) - len(tokens), len(traj.mask) - 1, truncated)
        traj.turns.append(turn)
        return turn

    def _output(
        self,
        traj: Trajectory,
        state: EpisodeState,
        *,
        stop: StopReason,
        audits: Sequence[ReplyAudit] = (),
        replies_capped: int = 0,
        judge_cost: Mapping[str, float] | None = None,
    ) -> TurnRewardOutput:
        """The trajectory's ``TurnRewardOutput`` (see the module docstring); ``audits``: simulated-user replies;
        ``judge_cost``: ``MeteredJudge.cost()`` of the episode (``judge_cost/...`` keys, zeros when omitted)."""
        policy_tokens = policy_token_count(traj.mask)
        info: dict[str, Any] = dict(state.reward_extra_info())
        info.update(judge_cost if judge_cost is not None else zero_cost())
        shape = EpisodeShape(
            num_turns=len(traj.turns),
            asked=asked(state.outcomes),
            audits=audits,
            user_sim_tokens=len(traj.mask) - policy_tokens,
            policy_tokens=policy_tokens,
            replies_capped=replies_capped,
            truncated=stop == "truncated",
            budget_exhausted=stop == "budget",
            user_sim_failed=stop == "user_sim_failed",
        )
        info.update(episode_metrics(shape))
        if shape.user_sim_failed and not state.user_failed:
            raise RolloutError("stop='user_sim_failed' needs EpisodeState.user_reply_failed() first")
        masked = is_masked(info)
        # a masked trajectory carries no reward anywhere, not even on the turns graded before the failure
        rewards = [0.0 if masked or r is None else float(r) for r in state.turn_rewards]
        penalty = overlong_penalty(
            policy_tokens, max_len=self.response_length, cfg=self.settings.reward.overlong, masked=masked
        )
        rewards[-1] += penalty  # on the last turn: the reward of the trajectory's last policy token
        info[OVERLONG_KEY] = penalty
        total = MASKED_PLACEHOLDER_SCORE if masked else float(sum(rewards))
        info["score"] = total
        turns_log = [
            {
                "start": t.start,
                "end": t.end,
                "truncated": t.truncated,
                "reward": rewards[k],
                "outcome": t.outcome.to_json() if t.outcome is not None else None,
                "user_reply": t.reply,
            }
            for k, t in enumerate(traj.turns)
        ]
        extra_fields = {
            "reward_extra_info": info,
            "askrl_turns": turns_log,
            "askrl_stop_reason": stop,
            "min_global_steps": traj.min_global_steps,
            "max_global_steps": traj.max_global_steps,
        }
        return TurnRewardOutput(
            prompt_ids=traj.ids[: traj.prompt_len],
            response_ids=traj.response_ids,
            response_mask=traj.mask,
            response_logprobs=traj.logprobs,
            reward_score=total,
            num_turns=1 + len(traj.turns) + len(audits),
            metrics=_verl.AgentLoopMetrics(generate_sequences=traj.generate_s, compute_score=traj.judge_s),
            extra_fields=extra_fields,
            turn_end_positions=[t.end for t in traj.turns],
            turn_rewards=rewards,
        )
