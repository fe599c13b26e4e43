"""QA graders on known right and wrong answers, rubric clipping, and the GPQA shuffle (deterministic, balanced)."""

from __future__ import annotations

from collections import Counter

import pytest

from askrl.data.hub import resolve_dataset
from askrl.data.loading import load_records
from eval_hooks.qa import QAItem, build_items, gpqa_orders, rubric_score, rule_grade


def item(kind: str, expected: str) -> QAItem:
    return QAItem("s", "1", kind, ({"role": "user", "content": "q"},), expected, "q")


@pytest.mark.parametrize(
    ("expected", "reply", "verdict"),
    [
        ("12", "so it is 12. The correct answer is boxed{12}", True),
        ("\\frac{1}{2}", "The correct answer is \\boxed{0.5}", True),  # math_verify: equivalent values
        ("\\sqrt{51}", "The correct answer is boxed{\\sqrt{51}}", True),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "The correct answer is boxed{(3, \\pi/2)}", True),
        ("12", "The correct answer is boxed{13}", False),
        ("\\frac{1}{2}", "The correct answer is \\boxed{\\frac{1}{3}}", False),
        ("12", "I think it is twelve", None),  # no boxed answer: the judge decides
    ],
)
async def test_math500_rule(expected, reply, verdict):
    assert await rule_grade(item("math500", expected), reply) is verdict


@pytest.mark.parametrize(
    ("kind", "expected", "reply", "verdict"),
    [
        ("medqa", "B", "The patient has X. The answer is B.", True),
        ("medqa", "B", "The answer is (C).", False),
        ("medqa", "B", "Probably the second option.", None),
        ("gpqa", "D", "Step by step...\nAnswer: D", True),
        ("gpqa", "D", "Answer: A", False),
        ("bbh", "(D)", "Reasoning.\nAnswer: (D)", True),
        ("bbh", "valid", "Answer: valid", True),
        ("bbh", "True", "Answer: False", None),  # text answers that differ go to the judge
    ],
)
async def test_letter_and_text_rules(kind, expected, reply, verdict):
    assert await rule_grade(item(kind, expected), reply) is verdict


def test_rubric_score_is_clipped_per_spec():
    assert rubric_score([True, False, True], [5.0, 5.0, -10.0]) == 0.0  # -5 / 10 clipped to 0
    assert rubric_score([True, True], [5.0, 5.0]) == 1.0
    assert rubric_score([True, False], [3.0, 1.0]) == pytest.approx(0.75)
    assert rubric_score([False, False], [3.0, -1.0]) == 0.0
    assert rubric_score([True], [-2.0]) == 0.0  # no positive points: the denominator falls back to sum(|p|)


def test_gpqa_orders_are_deterministic_and_balanced():
    assert gpqa_orders(198, seed=0) == gpqa_orders(198, seed=0)
    assert gpqa_orders(198, seed=0) != gpqa_orders(198, seed=1)
    positions = Counter(order.index(0) for order in gpqa_orders(198, seed=0))
    assert sorted(positions.values()) == [49, 49, 50, 50]
    assert all(sorted(order) == [0, 1, 2, 3] for order in gpqa_orders(198, seed=3))


def test_gpqa_items_map_the_gold_letter_to_the_correct_choice(askbench_dir):
    loaded = load_records(resolve_dataset("gpqa", data_dir=askbench_dir), "gpqa")  # as shipped: the answer first
    assert {rec.correct_index for rec in loaded.records} == {0}
    items = build_items("gpqa", "gpqa", loaded.records, loaded.ids, seed=0)
    letters = Counter(it.expected for it in items)
    assert sorted(letters.values()) == [8, 8, 8, 8]  # 32 items: the shuffle spreads the gold letter evenly
    for it, rec in zip(items, loaded.records, strict=True):
        prompt = it.messages[0]["content"]
        assert f"{it.expected}) {rec.choice1}" in prompt  # choice1 (correct_index 0) sits at the gold letter
