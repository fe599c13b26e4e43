"""The arbiter's schema (strict booleans, string coercion), the offline lexical arbiter's rules, the lexical
simulated user's reports, and the prompt sets (v2 changes only the simulated users)."""

from __future__ import annotations

import pytest

from askrl.errors import RubricError
from askrl.judge.attempt_errors import JudgeSchemaError
from askrl.judge.verdict_parsing import parse_verdict
from eval_hooks.judges import arbiter_prompt, user_prompt
from eval_hooks.lexical import LexicalEvalJudge, arbiter_reply_from_prompt
from eval_hooks.scenario import Scenario
from eval_hooks.templates import PROMPT_VERSION, render, template_hashes
from eval_hooks.verdicts import ArbiterVerdict

SCN = Scenario(type="missing_info", question="Tom buys some apples at some price. How much does he pay?",
               ori_question="Tom buys 3 apples at $2 each. How much?", context="Tom buys 3 apples. Each costs $2.",
               checklist=("the number of apples", "the price of each apple"), expected_answer="6")  # fmt: skip


def test_string_booleans_are_coerced_and_lists_rejected():
    v = parse_verdict('{"is_final_answer": "false", "is_correct": null, "all_required_points_resolved": "TRUE",'
                      ' "missing_required_points": null}', ArbiterVerdict)  # fmt: skip
    assert v.is_final_answer is False and v.all_required_points_resolved is True and v.missing_required_points == []
    with pytest.raises(JudgeSchemaError):
        parse_verdict("[1, 2]", ArbiterVerdict)
    with pytest.raises(JudgeSchemaError):
        parse_verdict('{"is_final_answer": "maybe", "all_required_points_resolved": true}', ArbiterVerdict)


async def test_lexical_arbiter_direct_answer_ask_and_resolution():
    judge = LexicalEvalJudge()
    direct = (await judge.arbitrate(SCN, [{"role": "user", "content": SCN.question},
                                          {"role": "assistant", "content": "Final Answer: 6"}], strict=False)).verdict
    assert direct.is_final_answer and direct.is_correct and not direct.all_required_points_resolved
    history = [{"role": "user", "content": SCN.question},
               {"role": "assistant", "content": "What is the number of apples, and what is the price of each apple?"}]
    ask = (await judge.arbitrate(SCN, history, strict=False)).verdict
    assert not ask.is_final_answer and ask.is_correct is None and len(ask.missing_required_points) == 2
    reply = (await judge.simulate_user(SCN, history)).verdict.reply
    history += [{"role": "user", "content": reply}, {"role": "assistant", "content": "Final Answer: 7"}]
    final = (await judge.arbitrate(SCN, history, strict=False)).verdict
    assert final.is_final_answer and final.is_correct is False and final.all_required_points_resolved


async def test_strict_makes_an_answer_that_also_asks_final():
    judge = LexicalEvalJudge()
    history = [{"role": "user", "content": SCN.question},
               {"role": "assistant", "content": "Final Answer: 6. Is that what you needed?"}]
    assert not (await judge.arbitrate(SCN, history, strict=False)).verdict.is_final_answer
    assert (await judge.arbitrate(SCN, history, strict=True)).verdict.is_final_answer


async def test_the_scripted_server_role_reads_the_rendered_prompt_like_the_judge():
    history = [{"role": "user", "content": SCN.question}, {"role": "assistant", "content": "Final Answer: 6"}]
    direct = await LexicalEvalJudge().arbitrate(SCN, history, strict=False)
    assert await arbiter_reply_from_prompt(arbiter_prompt(SCN, history, strict=False)) == direct.verdict
    assert "STRICT protocol" in arbiter_prompt(SCN, history, strict=True)


async def test_strict_grades_a_hedged_answer_wrong_as_training_does():
    judge = LexicalEvalJudge()
    history = [{"role": "user", "content": SCN.question}, {"role": "assistant", "content": "Final Answer: 6 or 7"}]
    assert (await judge.arbitrate(SCN, history, strict=False)).verdict.is_correct is True
    assert (await judge.arbitrate(SCN, history, strict=True)).verdict.is_correct is False


async def test_the_lexical_users_report_what_their_reply_gave():
    judge = LexicalEvalJudge()
    in3 = Scenario(type="in3", question="Plan my trip.", ori_question="Plan my trip.", context="I like trains.",
                   checklist=("the destination city", "the travel budget"), expected_answer=None, vague=True,
                   point_answers={"the destination city": "Paris.", "the travel budget": ""})  # fmt: skip
    ask = [{"role": "user", "content": in3.question},
           {"role": "assistant", "content": "Which destination city, and what travel budget?"}]  # fmt: skip
    reply = (await judge.simulate_user(in3, ask)).verdict
    assert reply.reply == "Paris." and reply.supplied == [True, False]  # no answer for the budget: not supplied
    asked = [{"role": "user", "content": SCN.question},
             {"role": "assistant", "content": "What is the number of apples?"}]  # fmt: skip
    assert (await judge.simulate_user(SCN, asked)).verdict.supplied == [True, False]


def test_prompt_set_v2_changes_only_the_simulated_users():
    assert PROMPT_VERSION == "v2"
    v1, v2 = template_hashes("v1"), template_hashes("v2")
    assert {name for name in v1 if v1[name] != v2[name]} == {"user", "user_overconfidence", "user_in3"}
    history = [{"role": "user", "content": SCN.question}, {"role": "assistant", "content": "How many?"}]
    assert '"supplied"' in user_prompt(SCN, history) and '"supplied"' not in user_prompt(SCN, history, "v1")
    with pytest.raises(RubricError, match="prompt set 'v9'"):
        render("user", "v9")
