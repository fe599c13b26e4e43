"""Prompt set v2 end to end: ``LLMJudge`` -> real client -> scripted server (its judge roles are the lexical judge
reading the rendered prompt). Faked: the judge model only.
"""

from __future__ import annotations

import dataclasses

from askrl.judge.build import build_judge
from askrl.judge.config import EndpointConfig, JudgeClientConfig, JudgeConfig, RetryConfig
from askrl.judge.llm import LLMJudge
from askrl.judge.types import FinalVerdictV2, JudgeRequest, Turn, TurnVerdictV2

REQUEST = JudgeRequest(
    task="askmind",
    ori_question="Tom has 7 apples and gives 3 to Ann. How many apples does Tom have left?",
    hidden_info="Tom starts with 7 apples. He gives 3 apples to his friend Ann.",
    checklist=("How many apples Tom has at the start", "How many apples Tom gives to Ann"),
    expected_answer="4",
    history=(Turn("user", "Tom has some apples and gives some away. How many are left?"),),
    response="How many apples does Tom have at the start? If it is 7, the answer is 4.",
)


def judge_for(base_url: str, response_format: str = "json_schema") -> LLMJudge:
    endpoint = EndpointConfig(name="s", base_url=base_url, model="judge", response_format=response_format)  # type: ignore[arg-type]
    client = JudgeClientConfig(endpoints=[endpoint], retry=RetryConfig(initial_delay_s=0.001, max_delay_s=0.005))
    judge = build_judge(JudgeConfig(backend="llm", client=client, prompt_version="v2"))  # v3 is the default
    assert isinstance(judge, LLMJudge) and judge.prompt_version == "v2"
    return judge


async def test_v2_turn_verdict_reasons_first_and_reports_final_and_missing_apart(judge_server) -> None:
    judge = judge_for(judge_server.base_url)
    loose = await judge.grade_turn(REQUEST)
    strict = await judge.grade_turn(dataclasses.replace(REQUEST, strict=True))
    await judge.aclose()
    assert isinstance(loose.verdict, TurnVerdictV2) and isinstance(strict.verdict, TurnVerdictV2)
    assert loose.verdict.hits == [True, False] and loose.verdict.reasoning
    assert (loose.verdict.is_final_answer, loose.verdict.facts_missing) == (False, True)
    assert strict.verdict.is_final_answer is True  # the strict prompt: any solving attempt is final
    first, second = judge_server.requests()
    schema = first["response_format"]["json_schema"]
    assert schema["name"] == "TurnVerdictV2" and next(iter(schema["schema"]["properties"])) == "reasoning"
    assert "<grading_mode>strict</grading_mode>" not in first["messages"][1]["content"]
    assert second["messages"][1]["content"].startswith("<grading_mode>strict</grading_mode>")


async def test_v2_strict_final_grades_a_hedged_answer_wrong(judge_server) -> None:
    judge = judge_for(judge_server.base_url)
    hedged = dataclasses.replace(REQUEST, response="Final Answer: 4 or 5", is_final_turn=True)
    loose = await judge.grade_final(hedged)
    strict = await judge.grade_final(dataclasses.replace(hedged, strict=True))
    await judge.aclose()
    assert isinstance(strict.verdict, FinalVerdictV2) and strict.verdict.decision == "wrong"
    assert loose.verdict is not None and loose.verdict.decision == "correct"


async def test_without_a_schema_the_last_json_object_is_the_verdict(judge_server) -> None:
    echoed = (
        'The format is {"reasoning": "...", "decision": "correct"}.\nReasoning: 5 is not 4.\n'
        '{"reasoning": "5 is not 4", "decision": "wrong"}'
    )
    judge_server.script([{"content": echoed}])
    judge = judge_for(judge_server.base_url, response_format="none")
    result = await judge.grade_final(dataclasses.replace(REQUEST, response="Final Answer: 5", is_final_turn=True))
    await judge.aclose()
    assert result.verdict is not None and result.verdict.decision == "wrong" and result.attempts == 1
    assert judge_server.requests()[0]["response_format"] is None
