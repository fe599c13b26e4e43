"""``ClarifyAgentLoop``: VERL agent loop for one online clarification episode, scored turn by turn as it runs.

Who calls it: VERL's ``AgentLoopWorker`` instantiates it per trajectory for rows whose ``agent_name`` is
``askrl_clarify`` (registered by ``askrl/rollout/agent_loops.yaml`` through
``actor_rollout_ref.rollout.agent.agent_loop_config_path``) and awaits ``run(sampling_params, **row)``.
Rows come from ``askrl.data.verl_rows`` (``raw_prompt`` + ``extra_info`` with task, ori_question, expected_answer,
hidden_info, checklist). Settings: ``askrl.rollout`` / ``askrl.judge`` / ``askrl.reward`` of the trainer config
(``askrl.rollout.config``).

The episode is a small state machine (``Phase``):

    GENERATE --policy turn k--> JUDGE --asked, reply in--> USER --reply merged--> GENERATE
        JUDGE --answered / premature / truncated / guard / judge failed / simulator failed--> DONE
        USER  --reply (plus the next turn's first token) does not fit the response budget--> DONE

- GENERATE: the policy writes turn ``k`` (``AskrlLoopBase._generate``: ``max_tokens = min(askrl.rollout.
  max_tokens_per_turn, tokens left of rollout.response_length)``, merged as generated, mask 1). A turn that fills its
  limit without a special (stop) token is truncated.
- JUDGE: the turn is graded with ``reward.episode.EpisodeState.score_turn`` (online credit, ``reward.turn_credit``;
  strict prompts under ``askrl.rollout.strict``) -- as the final turn on the last allowed turn (``turn_limit``;
  strict: turn 2), or once every checklist item is resolved by the user's reports (an empty checklist: turn 1, strict
  too); a final answer on an earlier turn ends the episode too, graded with the final table (premature when facts
  were missing); a failed grading call ends it under every failure policy -- and, when it may
  be a question, the simulated user's reply (``Judge.simulate_user``) is requested *concurrently* with the grade
  (``askrl.rollout.speculative_user_reply``); the reply is dropped when the grade ends the episode.
- USER: the reply, cut to ``user_reply_max_tokens``, becomes a user message, and its report (``supplied``, prompt set
  v3) resolves the items it gave (plus the force-final text when the next
  turn is the last allowed one) merged with ``ct_merge_context_msg`` (mask 0, with the next generation prompt).
Episodes of a worker run concurrently (VERL runs one task per trajectory); the judge is shared per process
(``shared_judge``) and bounds its own concurrency.

Output (``TurnRewardOutput``, built by ``AskrlLoopBase._output``): ``response_ids`` = policy and user tokens
(<= ``rollout.response_length``), ``response_mask`` 1 on policy tokens, ``turn_end_positions`` / ``turn_rewards``
(-> ``rm_scores``), ``reward_score`` = their sum (so VERL's reward loop is skipped), and ``extra_fields``:
``reward_extra_info`` (scalars: the reward's per-trajectory summary, ``rollout/...`` fidelity keys,
``reward/overlong_penalty``), ``askrl_turns`` (per turn: token span, outcome, user reply), ``askrl_stop_reason``,
``min/max_global_steps``. DAPO's overlong penalty (``askrl.reward.overlong``, policy tokens only) is added to the
last turn's reward. A reply that does not fit ends the episode while the policy is still asking:
``EpisodeState.end_still_asking`` then adds the table's ``final.still_asking`` to its last turn (it never answered),
so running out of budget is never better than answering.

How it fails: judge failures are outcomes, never exceptions: the episode stops at the failed call (grading or
simulated user) under every ``reward.on_judge_failure`` policy; ``mask`` masks the trajectory (``reward.masking``,
counted in ``judge_failed``), ``penalize`` gives the failed turn the table's penalty and plays nothing after it. ``RolloutError`` for a malformed row (the
message names the field), a server that returns no tokens or an aborted request.

    # agent_loops.yaml: - {name: askrl_clarify, _target_: askrl.rollout.clarify_loop.ClarifyAgentLoop}
    loop = ClarifyAgentLoop(trainer_config=DictConfigWrap(cfg), server_manager=server, tokenizer=tok, ...)
    out = await loop.run({"temperature": 1.0, "top_p": 1.0, "top_k": -1, "logprobs": False}, **row)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from askrl.errors import RolloutError
from askrl.judge.types import Judge, JudgeRequest
from askrl.rollout import AGENT_NAME
from askrl.rollout.fidelity import ReplyAudit, audit_reply
from askrl.rollout.judge_cost import MeteredJudge
from askrl.rollout.loop_base import AskrlLoopBase, StopReason, Trajectory, stop_after
from askrl.rollout.output import TurnRewardOutput
from askrl.rollout.row_inputs import episode_inputs
from askrl.rollout.shared_judge import shared_judge
from askrl.rollout.user_sim import JudgeUserSimulator, SimulatedReply, UserSimulator, cap_reply
from reward.episode import EpisodeSpec, EpisodeState
from reward.guards import check_guards, visible_text

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Phase(str, Enum):
    """Where an episode is; see the module docstring for the transitions."""

    GENERATE = "generate"
    JUDGE = "judge"
    USER = "user"
    DONE = "done"


@dataclass
class _Episode:
    """Mutable state of one trajectory: the policy's token stream and the reward's episode state."""

    spec: EpisodeSpec
    state: EpisodeState
    messages: list[dict[str, Any]]  # what the policy's tokens were rendered from; append-only
    traj: Trajectory
    pending_reply: SimulatedReply | None = None
    audits: list[ReplyAudit] = field(default_factory=list)
    seen_user_text: list[str] = field(default_factory=list)
    replies_capped: int = 0
    stop: StopReason | None = None


async def _both(first: Awaitable[T], second: Awaitable[Any]) -> tuple[T, Any]:
    """Await two coroutines concurrently; re-raise the first error only after both finished."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    for item in (a, b):
        if isinstance(item, BaseException):
            raise item
    return a, b  # type: ignore[return-value]


class ClarifyAgentLoop(AskrlLoopBase):
    """Multi-turn clarification episode with a judge-simulated user and per-turn rubric rewards."""

    agent_name = AGENT_NAME

    # -- the state machine ---------------------------------------------------------------------------------------

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> TurnRewardOutput:
        rollout = self.settings.rollout
        spec, messages = episode_inputs(kwargs, strict=rollout.strict)
        judge = MeteredJudge(shared_judge(self.settings.judge))
        if rollout.turn_limit == 1:
            messages[-1] = {**messages[-1], "content": self._with_force_final(messages[-1]["content"])}
        episode = _Episode(
            spec=spec,
            state=EpisodeState(spec, self.settings.reward, strict=rollout.strict),
            messages=messages,
            traj=await self._start(messages, sampling_params),
        )
        episode.seen_user_text.append(spec.question)

        simulator = JudgeUserSimulator(judge)
        phase = Phase.GENERATE
        while phase is not Phase.DONE:
            if phase is Phase.GENERATE:
                phase = await self._generate_turn(episode, sampling_params)
            elif phase is Phase.JUDGE:
                phase = await self._judge(episode, judge, simulator)
            else:
                phase = await self._user(episode)
        return self._output(
            episode.traj,
            episode.state,
            stop=episode.stop,
            audits=episode.audits,
            replies_capped=episode.replies_capped,
            judge_cost=judge.cost(),
        )

    async def _generate_turn(self, episode: _Episode, sampling_params: dict[str, Any]) -> Phase:
        """GENERATE: one policy turn within what is left of the response budget (``_user`` leaves room for one)."""
        turn = await self._generate(episode.traj, sampling_params)
        episode.messages.append({"role": "assistant", "content": turn.text})
        return Phase.JUDGE

    async def _judge(self, episode: _Episode, judge: Judge, simulator: UserSimulator) -> Phase:
        """JUDGE: grade the turn; fetch the user's reply alongside when the episode may go on."""
        turn = episode.traj.turns[-1]
        is_final = self._grade_as_final(episode)
        cfg = self.settings.reward
        guard = check_guards(
            turn.text,
            truncated=turn.truncated,
            is_final_turn=is_final,
            checklist_len=len(episode.spec.checklist),
            think_open=cfg.think_open,
            think_close=cfg.think_close,
        )
        may_go_on = not is_final and guard is None
        grade = episode.state.score_turn(judge, turn.text, is_final_turn=is_final, truncated=turn.truncated)
        started = time.perf_counter()
        if may_go_on and self.settings.rollout.speculative_user_reply:
            # the turn is not recorded yet: the user sees the history so far and the turn's visible text
            request = self._user_request(episode, turn.text)
            outcome, episode.pending_reply = await _both(grade, simulator.reply(request))
        else:
            outcome = await grade
        turn.outcome = outcome
        stop = stop_after(turn)
        if stop is None and episode.pending_reply is None:
            episode.pending_reply = await simulator.reply(episode.state.user_request())
        episode.traj.judge_s += time.perf_counter() - started
        if stop is None and episode.pending_reply is not None and episode.pending_reply.text is None:
            reply = episode.pending_reply
            logger.warning(
                "simulated user failed (%s: %s); episode stopped (on_judge_failure=%s)",
                reply.failure,
                reply.error,
                self.settings.reward.on_judge_failure,
            )
            episode.state.user_reply_failed()
            stop = "user_sim_failed"
        if stop is not None:
            episode.stop = stop
            return Phase.DONE
        return Phase.USER

    async def _user(self, episode: _Episode) -> Phase:
        """USER: merge the simulated user's reply (mask 0) if it and one more policy token fit the budget."""
        reply = episode.pending_reply
        if reply is None or reply.text is None:
            raise RolloutError("the USER phase needs a simulated-user reply")
        episode.pending_reply = None
        text, capped = cap_reply(reply.text, self.tokenizer, self.settings.rollout.user_reply_max_tokens)
        traj = episode.traj
        next_turn = len(traj.turns) + 1
        content = self._with_force_final(text) if next_turn == self.settings.rollout.turn_limit else text
        previous = list(episode.messages)
        updated = previous + [{"role": "user", "content": content}]
        merged, mask, merged_logprobs = await self.ct_merge_context_msg(
            previous, updated, traj.ids, traj.mask, traj.logprobs
        )
        if len(mask) >= self.response_length:
            episode.stop = "budget"
            episode.state.end_still_asking()
            return Phase.DONE
        turn = traj.turns[-1]
        episode.audits.append(
            audit_reply(
                task=episode.spec.task,
                hidden_info=episode.spec.hidden_info,
                expected_answer=episode.spec.expected_answer,
                seen_user_text=episode.seen_user_text,
                assistant_turns=[t.content for t in episode.state.history if t.role == "assistant"],
                reply=text,
            )
        )
        traj.ids, traj.mask, episode.messages = list(merged.token_ids), list(mask), updated
        if traj.logprobs is not None:
            traj.logprobs = list(merged_logprobs or [])
        episode.state.add_user_reply(text, supplied=reply.supplied)
        episode.seen_user_text.append(text)
        episode.replies_capped += int(capped)
        turn.reply = text
        return Phase.GENERATE

    # -- decisions -------------------------------------------------------------------------------------------------

    def _grade_as_final(self, episode: _Episode) -> bool:
        """The last allowed turn (strict: turn 2), or once every item is resolved by the user's replies (a clear
        prompt, with an empty checklist, from turn 1: in strict mode too, as it has nothing to ask)."""
        return episode.state.next_turn_is_final(max_turns=self.settings.rollout.turn_limit)

    def _with_force_final(self, content: str) -> str:
        text = self.settings.rollout.force_final_text
        return f"{content}\n{text}" if text else content

    def _user_request(self, episode: _Episode, response: str) -> JudgeRequest:
        """The simulated user's view of a turn not recorded yet (``EpisodeState.user_request`` once it is)."""
        cfg = self.settings.reward
        request = episode.state.request(response, is_final_turn=False)
        return dataclasses.replace(request, response=visible_text(response, cfg.think_open, cfg.think_close))
