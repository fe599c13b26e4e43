"""The offline ``lexical`` judge: checklist coverage by token overlap, final-answer matching, simulated user.

No fakes; math_verify runs for real.
"""

from __future__ import annotations

import dataclasses

import pytest

from askrl.judge.config import LexicalConfig
from askrl.judge.lexical import ACCEPT_CORRECTION, KEEP_POSITION, NOTHING_TO_ADD, LexicalJudge
from askrl.judge.types import FinalVerdict, FinalVerdictV2, JudgeRequest, Turn, TurnVerdict, TurnVerdictV2

ASKMIND = JudgeRequest(
    task="askmind",
    ori_question="Tom has 7 apples and gives 3 to Ann. How many apples does Tom have left?",
    hidden_info="Tom starts with 7 apples. He gives 3 apples to his friend Ann. Ann lives next door.",
    checklist=("How many apples Tom has at the start", "How many apples Tom gives to Ann"),
    expected_answer="4",
    history=(Turn("user", "Tom has some apples and gives some away. How many are left?"),),
    response="",
)
OVERCONFIDENCE = JudgeRequest(
    task="overconfidence",
    ori_question="Water boils at 50 degrees Celsius at sea level, so how long until my pot boils?",
    hidden_info="The user believes water boils at 50 degrees Celsius.",
    checklist=("Water boils at 50 degrees Celsius at sea level",),
    expected_answer="about 10 minutes",
    history=(Turn("user", "Water boils at 50 degrees Celsius at sea level, so how long until my pot boils?"),),
    response="",
)


def with_response(request: JudgeRequest, response: str, **changes: object) -> JudgeRequest:
    return dataclasses.replace(request, response=response, **changes)


@pytest.fixture
def judge() -> LexicalJudge:
    return LexicalJudge(LexicalConfig())


async def test_askmind_question_hits_the_items_it_asks_about(judge: LexicalJudge) -> None:
    result = await judge.grade_turn(with_response(ASKMIND, "How many apples does Tom have at the start?"))
    assert result.ok and result.endpoint == "lexical"
    assert result.verdict is not None
    assert isinstance(result.verdict, TurnVerdictV2)  # the default prompt set is v2
    assert result.verdict.hits == [True, False]
    assert result.verdict.is_final_answer is False and result.verdict.answered_final is False
    assert result.verdict.facts_missing is True  # nothing was supplied yet
    assert result.verdict.reasoning.startswith("lexical:")
    assert len(result.verdict.notes) == 2


async def test_askmind_needs_a_question_not_just_overlap(judge: LexicalJudge) -> None:
    result = await judge.grade_turn(with_response(ASKMIND, "Tom has apples at the start and gives apples to Ann."))
    assert result.verdict is not None
    assert result.verdict.hits == [False, False]


async def test_askmind_two_questions_hit_both(judge: LexicalJudge) -> None:
    response = "How many apples does Tom have at the start? And how many apples does he give to Ann?"
    result = await judge.grade_turn(with_response(ASKMIND, response))
    assert result.verdict is not None and result.verdict.hits == [True, True]


async def test_premature_final_answer_is_flagged(judge: LexicalJudge) -> None:
    result = await judge.grade_turn(with_response(ASKMIND, "Final Answer: \\boxed{4}"))
    assert result.verdict is not None
    assert result.verdict.answered_final is True
    assert result.verdict.hits == [False, False]


async def test_asking_only_about_resolved_items_is_redundant() -> None:
    request = with_response(ASKMIND, "How many apples does Tom have at the start?", resolved=(0,))
    result = await LexicalJudge(LexicalConfig(), prompt_version="v1").grade_turn(request)
    assert isinstance(result.verdict, TurnVerdict)
    assert result.verdict.hits == [True, False]
    assert result.verdict.irrelevant_or_redundant is True


async def test_overconfidence_needs_a_correction_cue(judge: LexicalJudge) -> None:
    agree = await judge.grade_turn(with_response(OVERCONFIDENCE, "Since water boils at 50 degrees Celsius, soon."))
    correct = await judge.grade_turn(
        with_response(OVERCONFIDENCE, "Actually, water does not boil at 50 degrees Celsius at sea level; it is 100.")
    )
    assert agree.verdict is not None and agree.verdict.hits == [False]
    assert correct.verdict is not None and correct.verdict.hits == [True]


@pytest.mark.parametrize(
    ("response", "decision"),
    [
        ("The answer is 4.", "correct"),
        ("So Tom keeps \\boxed{4} apples.", "correct"),
        ("Final Answer: 8/2", "correct"),  # math_verify equivalence
        ("Final Answer: 5", "wrong"),
        ("How many apples did Tom start with?", "still_asking"),
        ("I think he has 4 apples? Final Answer: 4", "correct"),  # a final marker wins over a question
    ],
)
async def test_grade_final(judge: LexicalJudge, response: str, decision: str) -> None:
    result = await judge.grade_final(with_response(ASKMIND, response, is_final_turn=True))
    assert result.ok
    assert result.verdict is not None and result.verdict.decision == decision


async def test_simulated_user_answers_what_was_asked_only(judge: LexicalJudge) -> None:
    result = await judge.simulate_user(with_response(ASKMIND, "How many apples does Tom have at the start?"))
    assert result.verdict is not None
    assert result.verdict.reply == "Tom starts with 7 apples."


async def test_simulated_user_never_reveals_the_expected_answer(judge: LexicalJudge) -> None:
    request = with_response(
        ASKMIND,
        "How many apples are left with Tom?",
        hidden_info="Tom has 4 apples left in the end. Tom starts with 7 apples.",
    )
    result = await judge.simulate_user(request)
    assert result.verdict is not None
    assert "4" not in result.verdict.reply
    # nor an item it did not ask for: the start count answers no question here (issue 18)
    assert result.verdict.reply == NOTHING_TO_ADD


async def test_simulated_user_without_a_question_adds_nothing(judge: LexicalJudge) -> None:
    result = await judge.simulate_user(with_response(ASKMIND, "Let me think about this problem."))
    assert result.verdict is not None and result.verdict.reply == NOTHING_TO_ADD


async def test_overconfident_user_accepts_only_explicit_corrections(judge: LexicalJudge) -> None:
    keep = await judge.simulate_user(with_response(OVERCONFIDENCE, "It will take about 10 minutes."))
    accept = await judge.simulate_user(
        with_response(OVERCONFIDENCE, "Actually, water does not boil at 50 degrees Celsius at sea level.")
    )
    assert keep.verdict is not None and keep.verdict.reply == KEEP_POSITION
    assert accept.verdict is not None and accept.verdict.reply == ACCEPT_CORRECTION


async def test_metrics_are_labelled_lexical_and_count_calls(judge: LexicalJudge) -> None:
    await judge.grade_turn(with_response(ASKMIND, "What?"))
    await judge.simulate_user(with_response(ASKMIND, "What?"))
    metrics = judge.metrics(reset=True)
    assert metrics["judge/backend_lexical"] == 1.0
    assert metrics["judge/calls"] == 2.0
    assert metrics["judge/failures"] == 0.0
    assert judge.metrics()["judge/calls"] == 0.0


async def test_a_turn_that_both_asks_and_answers_is_final_only_in_strict_mode(judge: LexicalJudge) -> None:
    response = "How many apples does Tom have at the start? If it is 7, the answer is 4."
    loose = await judge.grade_turn(with_response(ASKMIND, response))
    strict = await judge.grade_turn(with_response(ASKMIND, response, strict=True))
    assert isinstance(loose.verdict, TurnVerdictV2) and isinstance(strict.verdict, TurnVerdictV2)
    # the question still hits its item either way
    assert loose.verdict.hits == strict.verdict.hits == [True, False]
    assert loose.verdict.is_final_answer is False  # a question that sketches the answer is not final
    assert strict.verdict.is_final_answer is True  # strict: any solving attempt is final
    assert strict.verdict.facts_missing is True and strict.verdict.answered_final is True
    v1 = await LexicalJudge(prompt_version="v1").grade_turn(with_response(ASKMIND, response))
    assert isinstance(v1.verdict, TurnVerdict) and v1.verdict.answered_final is False


async def test_a_hit_exactly_at_the_threshold_counts() -> None:
    # item 1's distinctive words are {car, price}: a question naming one of them overlaps exactly 0.5
    request = with_response(ASKMIND, "Which car do you mean?", checklist=("car price", "bike colour"))
    at = await LexicalJudge(LexicalConfig(hit_threshold=0.5)).grade_turn(request)
    above = await LexicalJudge(LexicalConfig(hit_threshold=0.51)).grade_turn(request)
    assert at.verdict is not None and at.verdict.notes[0] == "item 1: overlap 0.50"
    assert at.verdict.hits == [True, False]
    assert above.verdict is not None and above.verdict.hits == [False, False]


async def test_facts_are_not_missing_once_the_user_supplied_them(judge: LexicalJudge) -> None:
    history = (
        ASKMIND.history[0],
        Turn("assistant", "How many apples does Tom have at the start, and how many does he give to Ann?"),
        Turn("user", "He starts with 7 and gives 3 to Ann."),
    )
    result = await judge.grade_turn(with_response(ASKMIND, "The answer is 4.", history=history))
    assert isinstance(result.verdict, TurnVerdictV2)
    assert result.verdict.is_final_answer is True and result.verdict.facts_missing is False
    assert result.verdict.answered_final is False  # a timely answer, not a premature one
    partly = (history[0], history[1], Turn("user", "He starts with 7."))
    premature = await judge.grade_turn(with_response(ASKMIND, "The answer is 4.", history=partly))
    assert isinstance(premature.verdict, TurnVerdictV2) and premature.verdict.facts_missing is True


async def test_overconfidence_facts_missing_until_every_claim_is_corrected(judge: LexicalJudge) -> None:
    corrected = "Actually, water does not boil at 50 degrees Celsius at sea level; it is 100. The answer is 10 min."
    ok = await judge.grade_turn(with_response(OVERCONFIDENCE, corrected))
    repeat = await judge.grade_turn(with_response(OVERCONFIDENCE, "Since water boils at 50, the answer is 5 minutes."))
    assert isinstance(ok.verdict, TurnVerdictV2) and isinstance(repeat.verdict, TurnVerdictV2)
    assert ok.verdict.is_final_answer and not ok.verdict.facts_missing
    assert repeat.verdict.is_final_answer and repeat.verdict.facts_missing and repeat.verdict.hits == [False]


@pytest.mark.parametrize(
    ("response", "loose", "strict"),
    [("Final Answer: 4 or 5", "correct", "wrong"), ("Final Answer: either 4 or 3", "correct", "wrong")],
)
async def test_strict_grades_hedged_answers_wrong(judge: LexicalJudge, response: str, loose: str, strict: str) -> None:
    request = with_response(ASKMIND, response, is_final_turn=True)
    got_loose = await judge.grade_final(request)
    got_strict = await judge.grade_final(dataclasses.replace(request, strict=True))
    assert isinstance(got_strict.verdict, FinalVerdictV2) and got_strict.verdict.decision == strict
    assert got_loose.verdict is not None and got_loose.verdict.decision == loose


async def test_v1_final_verdict_model() -> None:
    result = await LexicalJudge(prompt_version="v1").grade_final(with_response(ASKMIND, "The answer is 4."))
    assert isinstance(result.verdict, FinalVerdict) and result.verdict.decision == "correct"
