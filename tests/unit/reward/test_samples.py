"""Offline turn samples (the original's extra_info layout) → JudgeRequest, and the field-naming errors.

Fakes nothing: samples are literal dicts shaped like the original's VERL extra_info (spec §4.1).
"""

from __future__ import annotations

import numpy as np
import pytest

from askrl.errors import DataError
from askrl.judge.types import Turn
from reward.samples import parse_turn_sample, task_for

ASKMIND = {
    "is_final_turn": False,
    "ori_question": "Simplify sqrt(2.5^2-0.7^2)/(2.7-2.5).",
    "degraded_info": "The 2.5 in the denominator was replaced by 'a small number'.",
    "required_points": ["What is the small number?", "Is it the same 2.5?"],
    "question": "Yes, it is 2.5.",
    "context": "user: Simplify sqrt(2.5^2-0.7^2)/(2.7-a small number).\nassistant: What is the small number?\nIs it 2.5?",
    "expected_answer": "12",
}
OVERCONF = {
    "ori_question": "Convert (0,3) to polar coordinates.",
    "overconfidence_info": ["", "错误断言 → (0,3) lies on the x-axis"],
    "misleading_points": "claims (0,3) lies on the x-axis",
    "question": "It is obviously (3, 0), right?",
    "context": "No previous conversation.",
}


def test_askmind_sample_maps_every_field() -> None:
    s = parse_turn_sample(ASKMIND, task="askmind", response="Thanks. Then the answer is 12.")
    r = s.request
    assert r.task == "askmind" and not r.is_final_turn and not s.truncated
    assert r.hidden_info == ASKMIND["degraded_info"]
    assert r.checklist == ("What is the small number?", "Is it the same 2.5?")
    assert r.history == (
        Turn("user", "Simplify sqrt(2.5^2-0.7^2)/(2.7-a small number)."),
        Turn("assistant", "What is the small number?\nIs it 2.5?"),  # continuation lines stay in their turn
        Turn("user", "Yes, it is 2.5."),
    )
    assert r.question == "Yes, it is 2.5." and r.expected_answer == "12" and r.resolved == ()


def test_overconfidence_sample_coerces_info_and_points_and_defaults_to_final() -> None:
    s = parse_turn_sample(
        OVERCONF, task="overconfidence", response="No: (0,3) is on the y-axis.", ground_truth="(3, pi/2)"
    )
    r = s.request
    assert r.is_final_turn  # the original's default
    assert r.hidden_info == "错误断言 → (0,3) lies on the x-axis"  # first non-empty string of a list
    assert r.checklist == ("claims (0,3) lies on the x-axis",)  # scalar wrapped
    assert r.expected_answer == "(3, pi/2)"  # from ground_truth
    assert r.history == (Turn("user", OVERCONF["question"]),)  # "No previous conversation." = none


def test_required_points_alias_history_list_resolved_and_truncation() -> None:
    fields = {
        **OVERCONF,
        "misleading_points": None,
        "required_points": ["a", "b"],
        "resolved": [1],
        "finish_reason": "length",
        "is_final_turn": "false",
        "history": [{"role": "user", "content": "q0"}, {"role": "assistant", "content": "a0"}],
    }
    s = parse_turn_sample(fields, task="overconfidence", response="x", ground_truth="g")
    assert s.request.checklist == ("a", "b") and s.request.resolved == (1,)
    assert s.truncated and not s.request.is_final_turn
    assert s.request.history == (Turn("user", "q0"), Turn("assistant", "a0"), Turn("user", OVERCONF["question"]))


def test_numpy_values_from_parquet_are_accepted() -> None:
    fields = {**ASKMIND, "required_points": np.array(["p1", "p2"], dtype=object), "is_final_turn": np.bool_(True)}
    s = parse_turn_sample(fields, task="askmind", response="x")
    assert s.request.checklist == ("p1", "p2") and s.request.is_final_turn


def test_first_turn_may_use_the_opening_question_and_unstructured_context_is_one_user_message() -> None:
    first = {k: v for k, v in ASKMIND.items() if k not in ("question", "context")}
    first["degraded_question"] = "Simplify ... (2.7-a small number)."
    assert parse_turn_sample(first, task="askmind", response="x").request.question == first["degraded_question"]
    loose = {**ASKMIND, "context": "The user asked a maths question earlier."}
    assert parse_turn_sample(loose, task="askmind", response="x").request.history[0] == Turn(
        "user", "The user asked a maths question earlier."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"degraded_info": None}, "field 'degraded_info': missing"),
        ({"ori_question": ["x"]}, "field 'ori_question': expected a string, got list"),
        ({"required_points": ["ok", 3]}, "field 'required_points': item 1 is int"),
        ({"required_points": {"a": 1}}, "field 'required_points': expected a list"),
        ({"is_final_turn": "maybe"}, "field 'is_final_turn': expected true or false"),
        ({"question": None}, "field 'question': missing"),
        ({"is_final_turn": True, "expected_answer": None}, "field 'expected_answer': missing on a final turn"),
        ({"resolved": [5]}, r"field 'resolved': indices \[5\] outside"),
        ({"history": [{"role": "system", "content": "x"}]}, "field 'history': item 0"),
    ],
)
def test_bad_fields_are_named(change: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_turn_sample({**ASKMIND, **change}, task="askmind", response="x")


def test_response_must_be_text() -> None:
    with pytest.raises(DataError, match="field 'response': expected a string, got NoneType"):
        parse_turn_sample(ASKMIND, task="askmind", response=None)


def test_task_for_data_sources_and_fields() -> None:
    assert task_for("ask_mind_qa", {}) == "askmind"
    assert task_for("overconfidence_qa", {}) == "overconfidence"
    assert task_for("ask_overconfidence_math500", {}) == "overconfidence"
    assert task_for("custom", {"degraded_info": "x"}) == "askmind"
    assert task_for("custom", {"misleading_points": []}) == "overconfidence"
    with pytest.raises(DataError, match="field 'data_source': 'gsm8k' names no task"):
        task_for("gsm8k", {"question": "q"})
