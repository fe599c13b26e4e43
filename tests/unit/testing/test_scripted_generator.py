"""The scripted server's generator role (``askrl/testing/scripted_generator.py``): the text rules the build's
integration tests and the README demo rely on, checked on rendered build prompts (no server)."""

from __future__ import annotations

import json

from askrl.data.build.templates import render
from askrl.testing.scripted_generator import VAGUE, build_step, generator_reply
from askrl.testing.scripted_roles import detect_role

Q = "Maya buys 4 notebooks that cost 3 dollars each. How much does she spend?"


def _reply(name: str, **values: str) -> dict:
    text = render(name, "v1", **values)
    step = build_step(text)
    assert step == name
    return json.loads(generator_reply(step, text))


def test_askmind_generation_blurs_the_first_two_numbers() -> None:
    gen = _reply("generate_askmind", ori_question=Q, expected_answer="12")
    assert (
        gen["degraded_question"]
        == f"Maya buys {VAGUE} notebooks that cost {VAGUE} dollars each. How much does she spend?"
    )
    assert gen["required_points"] == ["The number of notebooks", "The number of dollars"]
    assert "The number of notebooks is 4." in gen["degraded_info"]
    plain = _reply("generate_askmind", ori_question="Why is the sky blue?", expected_answer="scattering")
    assert plain["degraded_question"] == "Why is the sky blue?"


def test_solver_and_verifier_rules() -> None:
    assert _reply("solve", question=f"Maya buys {VAGUE} notebooks.")["final_answer"] == "cannot be determined"
    assert _reply("solve", question="Maya pays 12 dollars.")["final_answer"] == "12"
    verdict = _reply(
        "verify_askmind", ori_question=Q, degraded_question=Q.replace("4 notebooks", f"{VAGUE} notebooks"),
        degraded_info="x", checklist="1. The number of notebooks\n2. The colour of the shop", n_items="2",
    )  # fmt: skip
    assert verdict["grounded"] == [True, False]
    claims = _reply(
        "verify_overconfidence", ori_question=Q, expected_answer="12",
        overconfidence_question="Maya buys 5 notebooks at 3 dollars, so 4?", n_items="3",
        checklist="1. the number of notebooks is 5\n2. the number of dollars is 3\n3. the total is 99",
    )  # fmt: skip
    assert claims["asserted"] == [True, True, False] and claims["false"] == [True, False, True]


def test_overconfidence_generation_states_two_false_claims() -> None:
    gen = _reply("generate_overconfidence", ori_question=Q, expected_answer="12")
    assert gen["misleading_points"] == ["the number of notebooks is 5", "the number of dollars is 4"]
    assert all(p in gen["overconfidence_question"] for p in gen["misleading_points"])
    one = _reply("generate_overconfidence", ori_question="Tom has 3 cats. How many cats?", expected_answer="3")
    assert one["misleading_points"] == ["the number of cats is 4", "the final answer is 4"]


def test_build_prompts_take_the_generator_role_before_any_other() -> None:
    text = render("force_correct", "v1", conversation="c", expected_answer="12", solution="s")
    assert _reply("force_correct", conversation="c", expected_answer="12", solution="s")["message"].endswith(
        "Final Answer: 12"
    )
    assert detect_role("<expected_answer>", None) == "judge_final"  # other roles keep their detection
    assert build_step("<expected_answer>") is None and build_step(text) == "force_correct"
