"""``LLMJudge`` end to end: packaged prompts -> real client -> scripted server whose judge role is the lexical judge.

Faked: the judge model only. Asserts on what the server received (prompts, schema, temperatures) and on the
verdicts computed from those prompts.
"""

from __future__ import annotations

import dataclasses

from askrl.judge.build import build_judge
from askrl.judge.config import EndpointConfig, JudgeClientConfig, JudgeConfig, RetryConfig
from askrl.judge.llm import LLMJudge
from askrl.judge.types import FailureKind, JudgeRequest, Turn

ASKMIND = JudgeRequest(
    task="askmind",
    ori_question="Tom has 7 apples and gives 3 to Ann. How many apples does Tom have left?",
    hidden_info="Tom starts with 7 apples. He gives 3 apples to his friend Ann.",
    checklist=("How many apples Tom has at the start", "How many apples Tom gives to Ann"),
    expected_answer="XYZZY-4",
    history=(Turn("user", "Tom has some apples and gives some away. How many are left?"),),
    response="How many apples does Tom have at the start?",
)
OVERCONFIDENCE = JudgeRequest(
    task="overconfidence",
    ori_question="Water boils at 50 degrees Celsius at sea level; how long until my pot boils?",
    hidden_info="SECRET-CONTEXT the user is wrong about the boiling point.",
    checklist=("Water boils at 50 degrees Celsius at sea level",),
    expected_answer="about 10 minutes",
    history=(Turn("user", "Water boils at 50 degrees Celsius at sea level; how long until my pot boils?"),),
    response="Actually, water does not boil at 50 degrees Celsius at sea level; it boils at 100.",
)


def judge_for(*base_urls: str) -> LLMJudge:
    endpoints = [EndpointConfig(name=f"ep{i}", base_url=u, model="judge") for i, u in enumerate(base_urls)]
    retry = RetryConfig(initial_delay_s=0.001, max_delay_s=0.005)
    # prompt set v1: these tests pin v1's wording (v2 is tested in tests/integration/reward/test_prompts_v2.py)
    client = JudgeClientConfig(endpoints=endpoints, retry=retry)
    judge = build_judge(JudgeConfig(backend="llm", client=client, prompt_version="v1"))
    assert isinstance(judge, LLMJudge)
    return judge


async def test_grade_turn_from_prompt_content(judge_server) -> None:
    judge = judge_for(judge_server.base_url)
    result = await judge.grade_turn(dataclasses.replace(ASKMIND, resolved=(1,)))
    await judge.aclose()
    assert result.ok and result.verdict is not None
    assert result.verdict.hits == [True, False]  # the server's lexical judge read the rendered prompt
    (request,) = judge_server.requests()
    prompt = request["messages"][1]["content"]
    assert "<already_resolved>\n2\n</already_resolved>" in prompt  # resolved indices are 0-based, shown 1-based
    assert "1. How many apples Tom has at the start\n2. How many apples Tom gives to Ann" in prompt
    assert "with 2 entries in hits" in prompt
    schema = request["response_format"]["json_schema"]
    assert schema["name"] == "TurnVerdict"
    assert schema["schema"]["properties"]["hits"]["minItems"] == 2 == schema["schema"]["properties"]["hits"]["maxItems"]
    assert request["temperature"] == 0.0
    assert request["messages"][0]["role"] == "system"


async def test_grade_turn_wrong_hits_length_is_schema_mismatch(judge_server) -> None:
    judge_server.script([{"json": {"answered_final": False, "hits": [True]}, "repeat": 2}])
    judge = judge_for(judge_server.base_url)
    result = await judge.grade_turn(ASKMIND)
    metrics = judge.metrics()
    await judge.aclose()
    assert result.failure is FailureKind.SCHEMA_MISMATCH and result.attempts == 2
    assert "hits has 1 entries, the checklist has 2" in (result.error or "")
    assert metrics["judge/failures/schema_mismatch"] == 1 and metrics["judge/backend_llm"] == 1


async def test_grade_final(judge_server) -> None:
    judge = judge_for(judge_server.base_url)
    right = await judge.grade_final(
        dataclasses.replace(ASKMIND, response="The answer is XYZZY-4.", expected_answer="XYZZY-4")
    )
    wrong = await judge.grade_final(dataclasses.replace(ASKMIND, response="Final Answer: 5"))
    asking = await judge.grade_final(ASKMIND)
    await judge.aclose()
    assert [r.verdict.decision for r in (right, wrong, asking) if r.verdict] == ["correct", "wrong", "still_asking"]
    assert "<expected_answer>\nXYZZY-4\n</expected_answer>" in judge_server.requests()[0]["messages"][1]["content"]


async def test_askmind_user_never_sees_the_expected_answer(judge_server) -> None:
    judge = judge_for(judge_server.base_url)
    result = await judge.simulate_user(ASKMIND)
    await judge.aclose()
    assert result.ok and result.verdict is not None
    assert result.verdict.reply == "Tom starts with 7 apples."
    (request,) = judge_server.requests()
    text = "\n".join(m["content"] for m in request["messages"])
    assert "XYZZY-4" not in text
    assert "<hidden_information>" in text and ASKMIND.ori_question in text
    assert request["temperature"] == 0.5
    assert request["response_format"]["json_schema"]["name"] == "UserReply"


async def test_overconfidence_user_sees_only_claims_and_latest_message(judge_server) -> None:
    judge = judge_for(judge_server.base_url)
    result = await judge.simulate_user(OVERCONFIDENCE)
    await judge.aclose()
    assert result.ok and result.verdict is not None and "mistaken" in result.verdict.reply
    (request,) = judge_server.requests()
    text = "\n".join(m["content"] for m in request["messages"])
    assert "SECRET-CONTEXT" not in text and "about 10 minutes" not in text
    assert OVERCONFIDENCE.response in text
    assert request["temperature"] == 0.3


async def test_overconfidence_turn_uses_its_own_prompt(judge_server) -> None:
    judge = judge_for(judge_server.base_url)
    result = await judge.grade_turn(OVERCONFIDENCE)
    await judge.aclose()
    assert result.verdict is not None and result.verdict.hits == [True]
    assert "<misleading_claims>" in judge_server.requests()[0]["messages"][1]["content"]


async def test_judge_failure_never_becomes_a_verdict(judge_server) -> None:
    judge_server.script([{"status": 500, "repeat": 10}])
    judge = judge_for(judge_server.base_url)
    result = await judge.grade_final(ASKMIND)
    await judge.aclose()
    assert result.verdict is None and result.failure is FailureKind.HTTP_ERROR and not result.ok
