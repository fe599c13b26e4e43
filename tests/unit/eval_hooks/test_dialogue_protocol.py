"""The evaluator's dialogue: the force-final note under the strict 2-turn protocol, ``extract_letter`` taking the
last "answer is X", and resolution / redundancy following the simulated user's report when it sends one.

Fakes: the candidate and the judge (scripted replies and verdicts, at the model edge); ``run_dialogue`` is real.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from askrl.judge.types import JudgeResult, UserReply, UserReplyV3
from eval_hooks.dialogue import FORCE_FINAL, Protocol, candidate_view, run_dialogue
from eval_hooks.qa import extract_letter
from eval_hooks.scenario import Scenario
from eval_hooks.verdicts import ArbiterVerdict

SCN = Scenario(
    type="missing_info",
    question="Tom has some boxes of apples. How many apples?",
    ori_question="Tom has 3 boxes of 4 apples. How many apples?",
    context="Tom has 3 boxes. Each box holds 4 apples.",
    checklist=("the number of boxes", "apples per box"),
    expected_answer="12",
)


@pytest.mark.parametrize(
    ("protocol", "noted"),
    [
        (Protocol(max_turns=3), [False, False, True]),
        (Protocol(max_turns=3, strict=True), [False, True, False]),  # strict: 2 turns whatever max_turns says
        (Protocol(max_turns=5, strict=True), [False, True, False]),
    ],
)
def test_the_force_final_note_goes_on_the_protocols_last_turn(protocol: Protocol, noted: list[bool]) -> None:
    history = [{"role": "user", "content": "q"}]
    seen = [FORCE_FINAL in candidate_view(history, turn, protocol, SCN)[-1]["content"] for turn in range(1, 4)]
    assert seen == noted
    assert history == [{"role": "user", "content": "q"}]  # only the copy sent to the candidate carries it


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("The answer is A? No: re-reading, the answer is C.", "C"),
        ("Answer: b ... final answer: (D)", "D"),
        ("the answer is B", "B"),
        ("no letter here", None),
    ],
)
def test_extract_letter_takes_the_last_answer(text: str, letter: str | None) -> None:
    assert extract_letter(text) == letter


@dataclass
class _Reply:
    text: str
    latency_s: float = 0.0
    finish_reason: str = "stop"


class _Candidate:
    def __init__(self, turns: list[str]) -> None:
        self.turns = list(turns)
        self.seen: list[list[dict]] = []

    async def reply(self, messages, *, attempt: int = 0) -> _Reply:  # noqa: ANN001
        self.seen.append(messages)
        return _Reply(self.turns.pop(0))


class _Judge:
    """Arbiter verdicts and user replies, in order."""

    def __init__(self, verdicts: list[ArbiterVerdict], replies: list[UserReply]) -> None:
        self.verdicts, self.replies = list(verdicts), list(replies)

    async def arbitrate(self, scn, history, strict):  # noqa: ANN001
        return JudgeResult(verdict=self.verdicts.pop(0), endpoint="fake")

    async def simulate_user(self, scn, history):  # noqa: ANN001
        return JudgeResult(verdict=self.replies.pop(0), endpoint="fake")


def _asks(resolved: bool) -> ArbiterVerdict:
    return ArbiterVerdict(is_final_answer=False, all_required_points_resolved=resolved)


async def _run(replies: list[UserReply]) -> dict:
    # the arbiter believes the follow-up resolved everything
    verdicts = [_asks(False), _asks(True), ArbiterVerdict(is_final_answer=True, is_correct=True,
                                                          all_required_points_resolved=True)]  # fmt: skip
    candidate = _Candidate(["How many boxes and apples per box?", "How many apples per box?", "12"])
    return await run_dialogue(SCN, candidate, _Judge(verdicts, replies), Protocol(max_turns=3))  # type: ignore[arg-type]


async def test_resolution_and_redundancy_follow_the_users_report() -> None:
    # the user gave only the box count: the follow-up on apples per box is not redundant, and the report resolves
    reported = await _run([UserReplyV3(reply="3 boxes.", supplied=[True, False]),
                           UserReplyV3(reply="4 per box.", supplied=[False, True])])  # fmt: skip
    assert reported["behavior_metrics"]["redundant_question_events"] == 0
    assert reported["reason"] == "FinalAnswerEvaluated" and reported["all_required_points_resolved"]
    assert [t.get("simulated_user_supplied") for t in reported["turn_logs"]] == [[0], [1], None]
    # without a report the arbiter decides, as in the original: it counts the follow-up as redundant
    plain = await _run([UserReply(reply="3 boxes."), UserReply(reply="4 per box.")])
    assert plain["behavior_metrics"]["redundant_question_events"] == 1


async def test_a_final_answer_with_an_item_the_user_never_gave_is_premature() -> None:
    verdicts = [_asks(False), ArbiterVerdict(is_final_answer=True, is_correct=True, all_required_points_resolved=True)]
    judge = _Judge(verdicts, [UserReplyV3(reply="3 boxes.", supplied=[True, False])])
    out = await run_dialogue(SCN, _Candidate(["How many boxes and apples?", "12"]), judge, Protocol())  # type: ignore[arg-type]
    assert out["reason"] == "FinalAnswerMissingInfo" and out["behavior_metrics"]["premature_final_answer"]
    assert out["missing_required_points"] == ["apples per box"]
