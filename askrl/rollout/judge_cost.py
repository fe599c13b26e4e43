"""What the judge cost one episode: calls, prompt and completion tokens, and the simulated user's latency.

Why: the judge is what makes a step slow and what a hosted judge bills, yet the reward's per-trajectory summary
counts only the grading calls; the simulated-user calls (one per asking turn, some of them speculative and dropped)
were invisible. ``MeteredJudge`` wraps the process's shared judge for one episode, forwards every call unchanged,
and tallies each result; its ``cost()`` goes into ``extra_fields["reward_extra_info"]`` (the same keys for every
trajectory of either loop), which ``askrl.trainer.tracking`` turns into ``judge/calls_per_episode``,
``judge/prompt_tokens_per_episode``, ``judge/completion_tokens_per_episode``, ``judge/user_latency_s/...`` and
``judge/parse_ok_frac`` (the step's share of answered judge calls whose reply parsed into its schema).

``judge_unavailable`` finds, in a step's ``extra_fields``, a turn whose judge call failed because the judge is gone
(the trainer hooks stop the run on it).

Contract: a cached verdict costs nothing and is not counted; a failed call is counted with the tokens its attempts
used. Latency is the call's own (retries and backoff included). Nothing here raises or does I/O.

    judge = MeteredJudge(shared_judge(settings.judge))
    ...  # the episode grades and simulates through `judge`
    info.update(judge.cost())      # {"judge_cost/calls": 5.0, "judge_cost/prompt_tokens": 2790.0, ...}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from askrl.judge.client import UNAVAILABLE
from askrl.judge.stats import PARSE_FAILURES
from askrl.judge.types import Judge, JudgeRequest, JudgeResult

#: ``reward_extra_info`` keys of ``MeteredJudge.cost()`` (every trajectory carries all of them).
COST_KEYS = (
    "judge_cost/calls",
    "judge_cost/prompt_tokens",
    "judge_cost/completion_tokens",
    "judge_cost/user_calls",
    "judge_cost/user_latency_s",
    "judge_cost/replied",  # calls that got a reply back, parsed or not
    "judge_cost/unparsed",  # of those, the replies that did not parse into their schema (after retries)
)


def zero_cost() -> dict[str, float]:
    """The cost of an episode that called no judge."""
    return dict.fromkeys(COST_KEYS, 0.0)


class MeteredJudge:
    """A ``Judge`` for one episode: the shared judge's calls, counted (not safe to share between episodes' tallies,
    safe to call concurrently within one)."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.name = judge.name
        self._cost = zero_cost()

    def _count(self, result: JudgeResult[Any], *, user: bool) -> JudgeResult[Any]:
        if result.cached:
            return result
        self._cost["judge_cost/calls"] += 1.0
        self._cost["judge_cost/prompt_tokens"] += float(result.prompt_tokens)
        self._cost["judge_cost/completion_tokens"] += float(result.completion_tokens)
        unparsed = result.failure in PARSE_FAILURES
        self._cost["judge_cost/replied"] += float(result.failure is None or unparsed)
        self._cost["judge_cost/unparsed"] += float(unparsed)
        if user:
            self._cost["judge_cost/user_calls"] += 1.0
            self._cost["judge_cost/user_latency_s"] += float(result.latency_s)
        return result

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[Any]:
        return self._count(await self.judge.grade_turn(request), user=False)

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[Any]:
        return self._count(await self.judge.grade_final(request), user=False)

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[Any]:
        return self._count(await self.judge.simulate_user(request), user=True)

    def metrics(self) -> dict[str, float]:
        return self.judge.metrics()

    def cost(self) -> dict[str, float]:
        """This episode's tallies (a copy), keyed by ``COST_KEYS``."""
        return dict(self._cost)


def judge_unavailable(extra_fields: Iterable[Any]) -> str | None:
    """The first graded turn's error saying the judge is gone (``askrl.judge.client.UNAVAILABLE``: every endpoint
    unreachable for a whole call deadline) among a step's trajectories, or None."""
    for fields in extra_fields:
        for turn in (fields.get("askrl_turns") or []) if isinstance(fields, dict) else []:
            error = (turn.get("outcome") or {}).get("error")
            if isinstance(error, str) and error.startswith(UNAVAILABLE):
                return error
    return None
