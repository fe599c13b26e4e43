"""Fixtures for the reward unit tests: an in-test judge that replays scripted verdicts (no network).

Only pure reward-table and bookkeeping logic uses it; judge failures, guards-without-calls through HTTP, and the CLI
are tested against the real ``LLMJudge`` and the scripted server in ``tests/integration/reward``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from askrl.judge.types import FinalVerdict, JudgeRequest, JudgeResult, TurnVerdict, UserReply

Script = Callable[[JudgeRequest], TurnVerdict | FinalVerdict]


class FakeJudge:
    """Implements the ``Judge`` protocol by calling ``script(request)``; records every request it receives."""

    name = "fake"

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[tuple[str, JudgeRequest]] = []

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[TurnVerdict]:
        self.requests.append(("turn", request))
        verdict = self.script(request)
        assert isinstance(verdict, TurnVerdict), "scripted a final verdict for a non-final turn"
        return JudgeResult(verdict=verdict, latency_s=0.25, attempts=1)

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[FinalVerdict]:
        self.requests.append(("final", request))
        verdict = self.script(request)
        assert isinstance(verdict, FinalVerdict), "scripted a turn verdict for a final turn"
        return JudgeResult(verdict=verdict, latency_s=0.5, attempts=1)

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        raise NotImplementedError("the reward never simulates the user")

    def metrics(self) -> dict[str, float]:
        return {}


@pytest.fixture
def fake_judge() -> Callable[[Script], FakeJudge]:
    return FakeJudge
