"""Fixtures for the reward unit tests: an in-test judge that replays scripted verdicts (no network).

Only pure reward-table and bookkeeping logic uses it; judge failures, guards-without-calls through HTTP, and the CLI
are tested against the real ``LLMJudge`` and the scripted server in ``tests/integration/reward``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from askrl.judge.types import (
    AnyFinalVerdict,
    AnyTurnVerdict,
    FinalVerdict,
    FinalVerdictV2,
    JudgeRequest,
    JudgeResult,
    TurnVerdict,
    TurnVerdictV2,
    UserReply,
)

Script = Callable[[JudgeRequest], AnyTurnVerdict | AnyFinalVerdict]


class FakeJudge:
    """Implements the ``Judge`` protocol by calling ``script(request)``; records every request it receives."""

    name = "fake"

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[tuple[str, JudgeRequest]] = []

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[AnyTurnVerdict]:
        self.requests.append(("turn", request))
        verdict = self.script(request)
        assert isinstance(verdict, TurnVerdict | TurnVerdictV2), "scripted a final verdict for a non-final turn"
        return JudgeResult(verdict=verdict, latency_s=0.25, attempts=1)

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[AnyFinalVerdict]:
        self.requests.append(("final", request))
        # an answer on a non-final turn is graded like a final one: the script sees it as final
        verdict = self.script(dataclasses.replace(request, is_final_turn=True))
        assert isinstance(verdict, FinalVerdict | FinalVerdictV2), "scripted a turn verdict for a final turn"
        return JudgeResult(verdict=verdict, latency_s=0.5, attempts=1)

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        raise NotImplementedError("the reward never simulates the user")

    def metrics(self) -> dict[str, float]:
        return {}


@pytest.fixture
def fake_judge() -> Callable[[Script], FakeJudge]:
    return FakeJudge
