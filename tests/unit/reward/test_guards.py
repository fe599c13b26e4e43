"""Guards: which cheap check fires, in which order, and what text the judge would see. Pure functions."""

from __future__ import annotations

import pytest

from reward.guards import check_guards, visible_text

OPEN, CLOSE = "<think>", "</think>"


@pytest.mark.parametrize(
    ("response", "visible"),
    [
        ("Which radius?", "Which radius?"),
        ("<think>hmm</think>  Which radius? ", "Which radius?"),
        ("reasoning without opener</think>Answer: 4", "Answer: 4"),  # Qwen3 puts <think> in the prompt
        ("<think>a</think>x<think>b</think> last", "last"),  # only after the last closing tag
        ("<think>never closed, what is r?", ""),
        ("<think>only</think>   ", ""),
    ],
)
def test_visible_text(response: str, visible: str) -> None:
    assert visible_text(response, OPEN, CLOSE) == visible


def _guard(response: str, *, truncated: bool = False, final: bool = False, m: int = 3) -> str | None:
    return check_guards(
        response, truncated=truncated, is_final_turn=final, checklist_len=m, think_open=OPEN, think_close=CLOSE
    )


def test_each_guard_and_its_precedence() -> None:
    assert _guard("   \n\t") == "empty"
    assert _guard("", truncated=True) == "empty"  # empty wins over truncated
    assert _guard("What is the radius of", truncated=True) == "truncated"
    assert _guard("<think>long thoughts", truncated=True) == "truncated"
    assert _guard("<think>thoughts</think>") == "think_only"
    assert _guard("<think>thoughts that never end") == "think_only"
    assert _guard("What is r?", m=0) == "no_checklist"
    assert _guard("The answer is 4.", final=True, m=0) is None  # a final turn needs no checklist
    assert _guard("<think>x</think>What is r?") is None


def test_custom_tags() -> None:
    assert visible_text("[[r]]thinking[[/r]] Which one?", "[[r]]", "[[/r]]") == "Which one?"
    assert (
        check_guards(
            "[[r]]only", truncated=False, is_final_turn=True, checklist_len=1, think_open="[[r]]", think_close="[[/r]]"
        )
        == "think_only"
    )
