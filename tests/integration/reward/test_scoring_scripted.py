"""Turn scoring end to end through the real LLMJudge and the scripted server: every row of the paper table from
scripted verdicts, redundancy with resolved items, guards that send nothing, judge failures masked / penalized /
raised, and concurrent grading.

Fakes: the judge model only (scripted replies on 127.0.0.1); prompts, client, retries and parsing are real.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from askrl.errors import RubricError
from askrl.judge.types import JudgeRequest, Turn
from reward.config import RewardConfig
from reward.metrics import turn_metrics
from reward.scoring import score_turn, score_turns

CHECKLIST = (
    "What is the small number in the denominator?",
    "Is it the same 2.5 as in the numerator?",
    "Which exact value should be subtracted?",
)


def _req(response: str, *, final: bool = False, resolved: tuple[int, ...] = ()) -> JudgeRequest:
    return JudgeRequest(
        task="askmind",
        ori_question="Simplify sqrt(2.5^2-0.7^2)/(2.7-2.5).",
        hidden_info="The 2.5 in the denominator was replaced by 'a small number'.",
        checklist=CHECKLIST,
        expected_answer="12",
        history=(Turn("user", "Simplify sqrt(2.5^2-0.7^2)/(2.7-a small number)."),),
        response=response,
        resolved=resolved,
        is_final_turn=final,
    )


def _turn(answered: bool, hits: list[bool]) -> dict:
    return {
        "json": {"answered_final": answered, "hits": hits, "irrelevant_or_redundant": False, "notes": ["n"] * len(hits)}
    }


@pytest.mark.parametrize(
    ("verdict", "reward", "label"),
    [
        (_turn(True, [True, True, True]), -2.0, "premature_answer"),
        (_turn(False, [False, False, False]), -0.8, "no_hit"),
        (_turn(False, [False, True, False]), 0.8, "some_hit"),
        (_turn(False, [True, True, True]), 1.0, "all_hit"),
    ],
)
async def test_nonfinal_rows_from_scripted_verdicts(
    judge_server, llm_judge, verdict: dict, reward: float, label: str
) -> None:
    judge_server.script([verdict])
    out = await score_turn(llm_judge, _req("<think>private plan</think>What is the small number?"), RewardConfig())
    assert (out.outcome, out.reward, out.label) == ("ok", reward, label)
    log = judge_server.requests()
    assert len(log) == 1 and log[0]["served"] == "script"
    prompt = log[0]["messages"][-1]["content"]
    assert "What is the small number?" in prompt and "private plan" not in prompt  # the judge sees visible text only


@pytest.mark.parametrize(("decision", "reward"), [("still_asking", -2.0), ("wrong", -1.0), ("correct", 1.0)])
async def test_final_rows_from_scripted_verdicts(judge_server, llm_judge, decision: str, reward: float) -> None:
    judge_server.script([{"json": {"decision": decision}}])
    out = await score_turn(llm_judge, _req("The answer is 12.", final=True), RewardConfig())
    assert (out.kind, out.outcome, out.reward, out.label) == ("final", "ok", reward, decision)
    assert "<expected_answer>" in judge_server.requests()[0]["messages"][-1]["content"]


async def test_redundant_hit_on_a_resolved_item(judge_server, llm_judge) -> None:
    judge_server.script([_turn(False, [True, False, True])])
    out = await score_turn(llm_judge, _req("Is it 2.5, and which value?", resolved=(0,)), RewardConfig())
    assert out.redundant and out.redundant_indices == (0,) and out.reward == 0.8  # default penalty 0: paper reward
    resolved_section = judge_server.requests()[0]["messages"][-1]["content"].split("<already_resolved>")[1]
    assert resolved_section.strip().startswith("1")  # the judge was told item 1 is resolved (1-based)


async def test_guards_send_nothing_to_the_judge(judge_server, llm_judge) -> None:
    requests = [
        _req("   "),
        _req("<think>only thinking</think>"),
        _req("<think>never closed", final=True),
        _req("What is the small", final=False),
        dataclasses.replace(_req("What is it?"), checklist=()),
    ]
    outs = await score_turns(llm_judge, requests, RewardConfig(), truncated=[False, False, False, True, False])
    assert [(o.guard, o.reward) for o in outs] == [
        ("empty", -2.0),
        ("think_only", -2.0),
        ("think_only", -1.0),
        ("truncated", -2.0),
        ("no_checklist", -2.0),
    ]
    assert judge_server.requests() == []
    assert turn_metrics(outs)["reward/guard/think_only/count"] == 2


async def test_judge_failure_is_masked_by_default(judge_server, llm_judge) -> None:
    judge_server.script([{"status": 500, "repeat": 2}])  # both attempts fail
    out = await score_turn(llm_judge, _req("What is the small number?"), RewardConfig())
    assert out.outcome == "judge_failed" and out.reward is None and out.masked
    assert out.failure is not None and out.failure.value == "http_error" and out.attempts == 2
    assert len(judge_server.requests()) == 2
    m = turn_metrics([out])
    assert m["reward/judge_failed_frac"] == 1.0 and "reward/turn/mean" not in m


@pytest.mark.parametrize(("final", "reward"), [(False, -0.8), (True, -1.0)])
async def test_penalize_reproduces_the_originals_fallbacks(judge_server, llm_judge, final: bool, reward: float) -> None:
    judge_server.script([{"content": "I cannot decide.", "repeat": 2}])  # not JSON, re-asked once, still not JSON
    out = await score_turn(llm_judge, _req("What is it?", final=final), RewardConfig(on_judge_failure="penalize"))
    assert (out.outcome, out.reward, out.failure.value) == ("judge_failed", reward, "invalid_json")
    assert not out.masked


async def test_raise_stops_with_the_failure_kind(judge_server, llm_judge) -> None:
    judge_server.script([{"status": 500, "repeat": 2}])
    with pytest.raises(RubricError, match="http_error.*on_judge_failure"):
        await score_turn(llm_judge, _req("What is it?"), RewardConfig(on_judge_failure="raise"))


async def test_wrong_hits_length_is_a_schema_failure_not_a_reward(judge_server, llm_judge) -> None:
    judge_server.script([_turn(False, [True]), _turn(False, [True, False])])  # checklist has 3 items
    out = await score_turn(llm_judge, _req("What is the small number?"), RewardConfig())
    assert out.reward is None and out.failure.value == "schema_mismatch"


async def test_turns_are_graded_concurrently(judge_server, llm_judge) -> None:
    judge_server.configure(latency_ms=300)
    start = time.monotonic()
    outs = await score_turns(llm_judge, [_req(f"Which value is meant, option {i}?") for i in range(5)], RewardConfig())
    elapsed = time.monotonic() - start
    assert len(judge_server.requests()) == 5 and all(o.outcome == "ok" for o in outs)
    assert elapsed < 1.2, f"5 turns at 0.3 s each took {elapsed:.2f} s: not concurrent"
