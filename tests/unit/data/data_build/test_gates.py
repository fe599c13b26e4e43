"""``askrl.data.build.gates``: the shape gates and the verdict-based gates, at their boundaries (pure functions)."""

from __future__ import annotations

import pytest

from askrl.data.build.gates import REJECT_REASONS, GateLimits, claims_gate, grounding_gate, same_text, shape_gate

Q = "Tom has 3 apples. How many apples does he have?"
V = "Tom has some apples. How many apples does he have?"


def test_reasons_are_the_documented_set() -> None:
    assert len(set(REJECT_REASONS)) == len(REJECT_REASONS) == 11
    assert {"malformed_generation", "still_answerable", "near_duplicate", "premise_not_false"} <= set(REJECT_REASONS)


def test_unchanged_question_ignores_case_and_whitespace() -> None:
    assert same_text(Q, "  tom has 3 APPLES.\nHow many apples  does he have? ")
    assert not same_text(Q, V)
    rejection = shape_gate("askmind", Q, "  " + Q.upper(), ["a"], GateLimits())
    assert rejection is not None and rejection.reason == "unchanged_question"


@pytest.mark.parametrize(
    ("task", "points", "reason"),
    [
        ("askmind", [], "checklist_empty"),
        ("askmind", ["a"] * 6, None),  # max_points is inclusive
        ("askmind", ["a"] * 7, "checklist_too_long"),
        ("askmind", ["a"], None),  # AskMind needs one item, not two
        ("overconfidence", ["a"], "too_few_claims"),
        ("overconfidence", ["a", "b"], None),  # min_claims is inclusive
        ("overconfidence", ["a"] * 7, "checklist_too_long"),
    ],
)
def test_checklist_size(task: str, points: list[str], reason: str | None) -> None:
    rejection = shape_gate(task, Q, V, points, GateLimits(max_points=6, min_claims=2))  # type: ignore[arg-type]
    assert (rejection.reason if rejection else None) == reason


def test_grounding_gate_names_the_ungrounded_items() -> None:
    assert grounding_gate(["a", "b"], [True, True]) is None
    rejection = grounding_gate(["apples", "weather"], [True, False])
    assert rejection is not None and rejection.reason == "ungrounded_checklist"
    assert rejection.detail == "not about the change: 2. weather"


def test_claims_gate_checks_assertion_before_falseness() -> None:
    assert claims_gate(["x", "y"], [True, True], [True, True]) is None
    not_asserted = claims_gate(["x", "y"], [True, False], [False, False])
    assert not_asserted is not None and not_asserted.reason == "ungrounded_checklist" and "2. y" in not_asserted.detail
    true_claim = claims_gate(["x", "y"], [True, True], [False, True])
    assert true_claim is not None and true_claim.reason == "premise_not_false" and "1. x" in true_claim.detail
