"""Multi-turn bookkeeping: one live conversation's history, resolved checklist items and per-turn outcomes.

Who calls it: the clarify agent loop (``askrl/rollout``) keeps one ``EpisodeState`` per trajectory and calls
``score_turn`` after each assistant turn; the offline turn loop resumes one from a pre-built dialogue's prior turns
(``history=``) and scores the one turn it generates; ``score_episode(s)`` scores finished transcripts after the fact
(eval dumps, tests). Network only through the ``Judge`` passed in.

Contract:
- ``history`` starts with the user's question and alternates; assistant turns are stored as the judge sees them
  (text outside the think block). ``request()`` hands the judge the history so far and ``resolved``.
- The user's replies are the source of truth for what is resolved: ``add_user_reply(text, supplied=...)`` resolves
  the checklist items the simulated user reported its reply supplied (prompt set v3's ``UserReply.supplied``;
  AskOverconfidence: the corrections it accepted). A reply without a report (v1/v2) resolves what the turn before it
  targeted, as before, and then an early answer is premature when the judge says facts were missing (it reads what
  the user said) rather than by the resolved set. ``asked`` holds the items some graded asking turn targeted (their share is paid once,
  ``reward.turn_credit``), so a follow-up on an item the user did not answer is a new request for a missing fact,
  and re-asking a fact the user volunteered is redundant. A failed or guarded turn asks nothing.
  ``mark_resolved`` lets the rollout add items it learned about otherwise.
- ``next_turn_is_final(max_turns)``: grade the next turn as final once every item is resolved (an empty checklist:
  from turn 1, in strict mode too: a clear prompt has nothing to ask) or on the last turn. ``ended``: the last
  graded turn was final (scheduled, or a timely answer on an earlier turn), answered prematurely (a final answer on
  a non-final turn always ends the episode, ``reward.scoring``), or its judge call failed: under every
  ``on_judge_failure`` policy the episode stops at the failed call (``mask``: the trajectory is excluded whole;
  ``penalize``: the failed turn has its penalty and nothing after it is played or scored).
- ``credit``: ``online`` (default: the turns of a live episode combine into a return that ranks asking everything
  at once above asking piecemeal above re-asking, ``reward.turn_credit``) or ``paper`` (each turn is the paper's
  independent sample, exact per-sample values: the offline turn loop).
- ``end_still_asking()``: the rollout's response budget ended the episode after an asking turn: the policy never
  answered, so that last turn's reward also gets what a final turn that still asks gets
  (``reward.turn_credit.never_answered``; in ``turn_rewards``, ``total_reward``, ``rm_scores``), and running out of
  budget is never better than answering.
- ``user_reply_failed()``: the simulated user's call failed after an asking turn: the episode stops there under
  every policy (``mask``: masked; ``penalize``: the table's ``judge_failure_penalty.nonfinal`` is added to that
  turn; ``raise``: ``RubricError``).
- The trajectory is masked (``masked``) when any turn's reward is None; its ``rm_scores`` are then all zeros and
  ``reward_extra_info()["masked"] == 1`` (the contract in ``reward.masking``).
- Turns of one episode are scored in order (each needs the resolved set of the previous ones); ``score_episodes``
  runs episodes concurrently.

How it fails: ``RolloutError`` when turns are recorded out of order (an assistant turn where a user reply is due);
``RubricError`` / masking as in ``reward.scoring``. Never turns a judge failure into a reward.

    state = EpisodeState(EpisodeSpec(task="askmind", ori_question=..., hidden_info=..., checklist=(...),
                                     expected_answer="12", question=degraded_question), cfg)
    out = await state.score_turn(judge, text, is_final_turn=state.next_turn_is_final(max_turns=3))
    reply = await judge.simulate_user(state.user_request())   # the user sees the visible text only
    state.add_user_reply(reply.verdict.reply, supplied=reply.verdict.supplied_indices)
    state.rm_scores(response_mask)                   # per-turn rewards on each turn's last policy token
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from askrl.errors import RolloutError, RubricError
from askrl.judge.types import Judge, JudgeRequest, TaskKind, Turn
from reward.config import RewardConfig
from reward.guards import visible_text
from reward.masking import JUDGE_FAILED_KEY, MASKED_KEY, MASKED_PLACEHOLDER_SCORE
from reward.outcome import TurnOutcome
from reward.placement import place_turn_rewards
from reward.scoring import score_turn
from reward.turn_credit import Credit, never_answered


@dataclass(frozen=True)
class EpisodeSpec:
    """What a conversation is about: the hidden facts the judge grades against, and the opening user message."""

    task: TaskKind
    ori_question: str
    hidden_info: str
    checklist: tuple[str, ...]
    expected_answer: str
    question: str
    """The first user message (the degraded or overconfident question)."""
    metadata: Mapping[str, str] = field(default_factory=dict)


class EpisodeState:
    """The mutable state of one conversation; see the module docstring for the contract."""

    def __init__(
        self,
        spec: EpisodeSpec,
        cfg: RewardConfig,
        *,
        history: Sequence[Turn] | None = None,
        resolved: Iterable[int] = (),
        credit: Credit = "online",
        strict: bool = False,
    ) -> None:
        """Start at ``spec.question``, or resume from ``history``: earlier turns that alternate, open with the user's
        ``spec.question`` and end with the user message the next scored turn answers (``resolved``: the checklist
        items those earlier turns settled). ``credit``: ``online`` (a live episode's turns combine into its return,
        ``reward.turn_credit``) or ``paper`` (each scored turn is the paper's independent sample: offline rows).
        ``strict``: AskBench's strict protocol (the judge's strict prompts; an answer before the final turn is
        wrong).

        Raises:
            RolloutError: ``history`` does not have that shape, or ``resolved`` is out of range.
        """
        self.spec = spec
        self.cfg = cfg
        self.credit: Credit = credit
        self.strict = strict
        self.history: list[Turn] = list(history) if history is not None else [Turn("user", spec.question)]
        roles = [t.role for t in self.history]
        if not roles or roles != [("user", "assistant")[k % 2] for k in range(len(roles))] or roles[-1] != "user":
            raise RolloutError(f"a resumed history must alternate user/assistant and end with the user, got {roles}")
        if self.history[0].content != spec.question:
            raise RolloutError("a resumed history must open with the episode's question (spec.question)")
        self.resolved: set[int] = set()
        self.asked: set[int] = set()
        self.outcomes: list[TurnOutcome] = []
        self._still_asking_at_end = False
        self._user_failed = False
        self._pending: tuple[int, ...] = ()  # what the last asking turn targeted, until the user replies
        self._unreported = False  # some reply came without a report (v1/v2): resolution is approximate
        self.mark_resolved(resolved)

    # -- building requests and recording turns ---------------------------------------------------------------

    def request(self, response: str, *, is_final_turn: bool) -> JudgeRequest:
        """The judge request for the assistant's next turn ``response``."""
        if self.history[-1].role != "user":
            raise RolloutError("an assistant turn was scored before the previous one got a user reply")
        return self._judge_request(tuple(self.history), response, is_final_turn=is_final_turn)

    def user_request(self) -> JudgeRequest:
        """The request for ``judge.simulate_user``: the last recorded assistant turn (visible text) and what preceded it."""
        if self.history[-1].role != "assistant":
            raise RolloutError("the simulated user was asked to reply before an assistant turn was recorded")
        return self._judge_request(tuple(self.history[:-1]), self.history[-1].content, is_final_turn=False)

    def _judge_request(self, history: tuple[Turn, ...], response: str, *, is_final_turn: bool) -> JudgeRequest:
        return JudgeRequest(
            task=self.spec.task,
            ori_question=self.spec.ori_question,
            hidden_info=self.spec.hidden_info,
            checklist=self.spec.checklist,
            expected_answer=self.spec.expected_answer,
            history=history,
            response=response,
            resolved=tuple(sorted(self.resolved)),
            is_final_turn=is_final_turn,
            metadata=dict(self.spec.metadata),
            strict=self.strict,
        )

    def record(self, response: str, outcome: TurnOutcome) -> None:
        """Append the assistant turn and its outcome; a graded asking turn's targets become ``asked``."""
        if self.history[-1].role != "user":
            raise RolloutError("an assistant turn was recorded before the previous one got a user reply")
        self.history.append(Turn("assistant", visible_text(response, self.cfg.think_open, self.cfg.think_close)))
        self.outcomes.append(outcome)
        asking = outcome.outcome == "ok" and outcome.kind == "nonfinal" and not outcome.premature
        self._pending = outcome.hit_indices if asking else ()
        self.asked.update(self._pending)

    def add_user_reply(self, text: str, *, supplied: Iterable[int] | None = None) -> None:
        """Append the simulated user's reply to the last assistant turn and resolve what it supplied: the user's
        report ``supplied`` (checklist indices), or, for a reply without a report, what that turn targeted.

        Raises:
            RolloutError: no assistant turn is waiting for a reply, or ``supplied`` is out of range.
        """
        if self.history[-1].role != "assistant":
            raise RolloutError("a user reply was added where an assistant turn was due")
        self.history.append(Turn("user", text))
        self._unreported = self._unreported or supplied is None
        self.mark_resolved(self._pending if supplied is None else supplied)
        self._pending = ()

    def mark_resolved(self, indices: Iterable[int]) -> None:
        """Resolve checklist items the rollout learned about by other means."""
        items = set(indices)
        bad = sorted(i for i in items if not 0 <= i < len(self.spec.checklist))
        if bad:
            raise RolloutError(f"checklist indices {bad} out of range for {len(self.spec.checklist)} items")
        self.resolved.update(items)

    async def score_turn(
        self, judge: Judge, response: str, *, is_final_turn: bool, truncated: bool = False
    ) -> TurnOutcome:
        """Score the assistant's next turn against the history so far, then record it."""
        outcome = await score_turn(
            judge,
            self.request(response, is_final_turn=is_final_turn),
            self.cfg,
            truncated=truncated,
            credit=self.credit,
            asked=tuple(sorted(self.asked)),
            reported=not self._unreported,
        )
        self.record(response, outcome)
        return outcome

    # -- what the rollout reads ---------------------------------------------------------------------------------

    @property
    def all_resolved(self) -> bool:
        return len(self.resolved) == len(self.spec.checklist)

    def next_turn_is_final(self, max_turns: int) -> bool:
        """Whether the next assistant turn should be graded as the final one: every item resolved (an empty
        checklist from the first turn, strict mode included), or the last allowed turn (strict: turn 2)."""
        return self.all_resolved or len(self.outcomes) + 1 >= max_turns

    def end_still_asking(self) -> None:
        """The response budget ended the episode after its last (asking) turn: the policy never answered, so
        that turn also gets ``reward.turn_credit.never_answered``.

        Raises:
            RolloutError: no turn was graded, or the episode already ended or is masked (nothing to cut).
        """
        self._check_open("cut by the response budget")
        self._still_asking_at_end = True

    def user_reply_failed(self) -> None:
        """The simulated user's call after the last (asking) turn failed: the episode stops here, by the policy
        ``cfg.on_judge_failure`` (``mask``: masked; ``penalize``: ``judge_failure_penalty.nonfinal`` added to the
        turn; ``raise``: ``RubricError``).

        Raises:
            RolloutError: no asking turn is waiting for a reply.
            RubricError: ``on_judge_failure`` is ``raise``.
        """
        self._check_open("ended by a failed user reply")
        if self.cfg.on_judge_failure == "raise":
            raise RubricError(
                "the simulated user's call failed; set reward.on_judge_failure to mask or penalize to keep going"
            )
        self._user_failed = True

    def _check_open(self, what: str) -> None:
        if not self.outcomes or self.ended or self.masked:
            raise RolloutError(f"only an episode whose last graded turn asked can be {what}")

    @property
    def user_failed(self) -> bool:
        """The simulated user's call failed (``user_reply_failed``)."""
        return self._user_failed

    @property
    def ended(self) -> bool:
        """The last graded turn stops the episode (``TurnOutcome.stops_episode``), or the user's call failed."""
        return self._user_failed or (bool(self.outcomes) and self.outcomes[-1].stops_episode)

    @property
    def masked(self) -> bool:
        user_masked = self._user_failed and self.cfg.on_judge_failure == "mask"
        return user_masked or any(o.masked for o in self.outcomes)

    @property
    def turn_rewards(self) -> list[float | None]:
        """Each graded turn's reward (None: masked), the last one including ``never_answered`` when cut, or the
        judge-failure penalty when the user's call after it failed under ``penalize``."""
        rewards = [o.reward for o in self.outcomes]
        table = self.cfg.table_obj()
        extra = 0.0
        if self._still_asking_at_end:
            extra += never_answered(table, self.credit)
        if self._user_failed and self.cfg.on_judge_failure == "penalize":
            extra += table.judge_failure_penalty.nonfinal
        if extra and rewards[-1] is not None:
            rewards[-1] = float(rewards[-1]) + extra
        return rewards

    @property
    def total_reward(self) -> float | None:
        """Sum of the turn rewards; None when the trajectory is masked."""
        if self.masked:
            return None
        return sum(r for r in self.turn_rewards if r is not None)

    def rm_scores(self, response_mask: Sequence[int], turn_ends: Sequence[int] | None = None) -> list[float]:
        """Token-level rewards for VERL (see ``reward.placement``); all zeros when masked."""
        if self.masked:
            return [0.0] * len(response_mask)
        rewards = [r for r in self.turn_rewards if r is not None]  # all of them: not masked
        return place_turn_rewards(response_mask, rewards, turn_ends)

    def reward_extra_info(self) -> dict[str, float]:
        """Scalar per-trajectory summary for ``extra_fields["reward_extra_info"]``; always the same keys."""
        last = self.outcomes[-1] if self.outcomes else None
        m = len(self.spec.checklist)
        total = self.total_reward
        return {
            "score": MASKED_PLACEHOLDER_SCORE if total is None else float(total),
            JUDGE_FAILED_KEY: float(self._user_failed or any(o.outcome == "judge_failed" for o in self.outcomes)),
            MASKED_KEY: float(self.masked),
            "turns": float(len(self.outcomes)),
            "final_correct": float(last is not None and last.label == "correct"),
            "premature_answer": float(any(o.premature for o in self.outcomes)),
            "redundant_turns": float(sum(o.redundant for o in self.outcomes)),
            "guard_turns": float(sum(o.outcome == "guard" for o in self.outcomes)),
            "resolved_frac": len(self.resolved) / m if m else 1.0,
            "judge_latency_s": float(sum(o.latency_s for o in self.outcomes)),
            "judge_calls": float(sum(o.judge_called for o in self.outcomes)),
            "judge_retries": float(sum(max(o.attempts - 1, 0) for o in self.outcomes if o.judge_called)),
        }


@dataclass(frozen=True)
class AssistantTurn:
    """One assistant turn of a finished transcript, with the user's reply to it (absent after the last turn)."""

    response: str
    truncated: bool = False
    user_reply: str | None = None


async def score_episode(
    judge: Judge, spec: EpisodeSpec, turns: Sequence[AssistantTurn], cfg: RewardConfig
) -> EpisodeState:
    """Score a finished transcript turn by turn (online credit); the last turn is graded as the final one. The
    replies carry no report, so each resolves what its turn targeted; scoring stops at a failed judge call.

    Raises:
        RolloutError: a turn other than the last lacks its user reply.
    """
    state = EpisodeState(spec, cfg)
    for k, turn in enumerate(turns):
        last = k == len(turns) - 1
        await state.score_turn(judge, turn.response, is_final_turn=last, truncated=turn.truncated)
        if state.outcomes[-1].outcome == "judge_failed":
            break  # the episode stops at the failed call, under every policy
        if not last:
            if turn.user_reply is None:
                raise RolloutError(f"turn {k} of {len(turns)} has no user reply; only the last turn may lack one")
            state.add_user_reply(turn.user_reply)
    return state


async def score_episodes(
    judge: Judge, episodes: Sequence[tuple[EpisodeSpec, Sequence[AssistantTurn]]], cfg: RewardConfig
) -> list[EpisodeState]:
    """Score many transcripts concurrently (turns within one stay in order); results in input order."""
    results = await asyncio.gather(*(score_episode(judge, s, t, cfg) for s, t in episodes), return_exceptions=True)
    for item in results:
        if isinstance(item, BaseException):
            raise item
    return list(results)  # type: ignore[arg-type]
