"""score_turn / score_turns with an in-test judge: guards never reach the judge, the judge sees only the visible
text, turns are graded concurrently and come back in order.

Fakes: the judge (``FakeJudge`` in conftest.py, scripted verdicts, no failures). Failure handling and guards over
HTTP are tested with the real LLMJudge and the scripted server in tests/integration/reward.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from askrl.errors import RubricError
from askrl.judge.types import FailureKind, FinalVerdict, JudgeRequest, Turn, TurnVerdict, TurnVerdictV2
from reward.config import RewardConfig
from reward.scoring import score_turn, score_turns

CFG = RewardConfig()


def _req(response: str, *, final: bool = False, checklist: tuple[str, ...] = ("a", "b", "c")) -> JudgeRequest:
    return JudgeRequest(
        task="askmind",
        ori_question="q",
        hidden_info="h",
        checklist=checklist,
        expected_answer="12",
        history=(Turn("user", "degraded q"),),
        response=response,
        is_final_turn=final,
    )


@pytest.mark.parametrize(
    ("response", "truncated", "final", "checklist", "guard", "reward"),
    [
        ("  ", False, False, ("a",), "empty", -2.0),
        ("", False, True, ("a",), "empty", -1.0),
        ("What is", True, False, ("a",), "truncated", -2.0),
        ("The answer", True, True, ("a",), "truncated", -1.0),
        ("<think>all thought</think>", False, False, ("a",), "think_only", -2.0),
        ("<think>never closed", False, True, ("a",), "think_only", -1.0),
        ("What is a?", False, False, (), "no_checklist", -2.0),
    ],
)
async def test_guards_give_fixed_rewards_without_a_judge_call(
    fake_judge, response: str, truncated: bool, final: bool, checklist: tuple, guard: str, reward: float
) -> None:
    judge = fake_judge(lambda r: pytest.fail("the judge must not be called"))
    out = await score_turn(judge, _req(response, final=final, checklist=checklist), CFG, truncated=truncated)
    assert (out.outcome, out.guard, out.reward, out.judge_called) == ("guard", guard, reward, False)
    assert judge.requests == []


async def test_judge_sees_only_the_text_outside_the_think_block(fake_judge) -> None:
    judge = fake_judge(lambda r: TurnVerdict(answered_final=False, hits=[True, False, False]))
    out = await score_turn(judge, _req("<think>secret plan</think> What is a?"), CFG)
    assert judge.requests[0][1].response == "What is a?"
    assert (out.outcome, out.label, out.reward, out.hit_indices) == ("ok", "some_hit", 0.8, (0,))
    assert out.latency_s == 0.25 and out.judge_called


async def test_final_flag_routes_to_grade_final(fake_judge) -> None:
    judge = fake_judge(lambda r: FinalVerdict(decision="wrong"))
    out = await score_turn(judge, _req("The answer is 13.", final=True), CFG)
    assert [kind for kind, _ in judge.requests] == ["final"]
    assert (out.kind, out.label, out.reward) == ("final", "wrong", -1.0)


async def test_score_turns_runs_concurrently_and_keeps_order(fake_judge) -> None:
    in_flight = 0
    peak = 0

    class SlowJudge(fake_judge):  # type: ignore[misc,valid-type]
        async def grade_turn(self, request: JudgeRequest):  # noqa: ANN201
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.05 if request.response.endswith("1") else 0.01)
            in_flight -= 1
            return await super().grade_turn(request)

    n_hits = {"q0": [False, False, False], "q1": [True, True, True], "q2": [True, False, False]}
    judge = SlowJudge(lambda r: TurnVerdict(answered_final=False, hits=n_hits[r.response]))
    outs = await score_turns(judge, [_req("q0"), _req("q1"), _req(""), _req("q2")], CFG)
    assert [o.reward for o in outs] == [-0.8, 1.0, -2.0, 0.8]
    assert peak == 3  # the three judged turns were in flight together; the guarded one never was


async def test_score_turns_checks_flag_length(fake_judge) -> None:
    with pytest.raises(ValueError, match="1 flags for 2 requests"):
        await score_turns(fake_judge(lambda r: None), [_req("a"), _req("b")], CFG, truncated=[True])


async def test_bad_resolved_index_fails_before_any_judge_call(fake_judge) -> None:
    judge = fake_judge(lambda r: pytest.fail("the judge must not be called"))
    with pytest.raises(RubricError, match=r"resolved indices \[7\]"):
        await score_turn(judge, dataclasses.replace(_req("What is a?"), resolved=(7,)), CFG)
    assert judge.requests == []


@pytest.mark.parametrize("verdict_version", ["v1", "v2"])
async def test_scoring_checks_the_hits_length_itself(fake_judge, verdict_version: str) -> None:
    """A judge backend that skips the client's length check (here: none at all) still cannot slip a short hits
    list into a reward: ``score_turn`` treats it as a schema mismatch, resolved by the failure policy."""
    if verdict_version == "v1":
        short = TurnVerdict(answered_final=False, hits=[True, False])
    else:
        short = TurnVerdictV2(reasoning="r", is_final_answer=False, facts_missing=True, hits=[True, False])
    judge = fake_judge(lambda request: short)
    masked = await score_turn(judge, _req("What is a?"), RewardConfig())
    assert (masked.outcome, masked.failure, masked.reward) == ("judge_failed", FailureKind.SCHEMA_MISMATCH, None)
    assert masked.error == "hits has 2 entries, the checklist has 3"
    penalized = await score_turn(judge, _req("What is a?"), RewardConfig(on_judge_failure="penalize"))
    assert penalized.reward == -0.8 and penalized.outcome == "judge_failed"
    with pytest.raises(RubricError, match="schema_mismatch: hits has 2 entries"):
        await score_turn(judge, _req("What is a?"), RewardConfig(on_judge_failure="raise"))
