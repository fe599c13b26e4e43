"""Verdict → reward on the paper table, every row, plus multi-turn redundancy.

Fakes nothing: verdicts are built directly (pure functions). The same rows are re-checked end to end through the
scripted judge server in tests/integration/reward/test_scoring_scripted.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from askrl.errors import RubricError
from askrl.judge.types import FinalVerdict, TurnVerdict
from reward.rubric import grade_final, grade_nonfinal
from reward.table import RewardTable, load_table

PAPER = load_table("paper_v1")


def _table(tmp_path: Path, penalty: float, credit: bool) -> RewardTable:
    data = PAPER.model_dump()
    data["redundancy"] = {"penalty": penalty, "credit_resolved_hits": credit}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_table(str(path))


def _v(hits: list[bool], answered: bool = False) -> TurnVerdict:
    return TurnVerdict(answered_final=answered, hits=hits)


@pytest.mark.parametrize(
    ("hits", "answered", "reward", "label"),
    [
        ([True, True, True], True, -2.0, "premature_answer"),  # premature beats any hit count
        ([False, False, False], True, -2.0, "premature_answer"),
        ([False, False, False], False, -0.8, "no_hit"),
        ([False, True, False], False, 0.8, "some_hit"),
        ([True, True, False], False, 0.8, "some_hit"),
        ([True, True, True], False, 1.0, "all_hit"),
    ],
)
def test_nonfinal_rows_of_the_paper_table(hits: list[bool], answered: bool, reward: float, label: str) -> None:
    grade = grade_nonfinal(_v(hits, answered), checklist_len=3, resolved=(), table=PAPER)
    assert (grade.reward, grade.label) == (reward, label)
    assert grade.hit_indices == tuple(i for i, h in enumerate(hits) if h)
    assert grade.redundant is False


@pytest.mark.parametrize(("decision", "reward"), [("still_asking", -2.0), ("wrong", -1.0), ("correct", 1.0)])
def test_final_rows_of_the_paper_table(decision: str, reward: float) -> None:
    assert grade_final(FinalVerdict(decision=decision), PAPER) == (reward, decision)


def test_redundant_hit_is_flagged_and_by_default_costs_nothing() -> None:
    grade = grade_nonfinal(_v([True, False, True]), checklist_len=3, resolved={0}, table=PAPER)
    assert grade.redundant and grade.redundant_indices == (0,)
    assert (grade.reward, grade.label) == (0.8, "some_hit")  # the paper's reward, unchanged


def test_redundancy_penalty_is_added_to_the_tier(tmp_path: Path) -> None:
    table = _table(tmp_path, penalty=-0.5, credit=True)
    grade = grade_nonfinal(_v([True, False, True]), checklist_len=3, resolved={0}, table=table)
    assert grade.reward == pytest.approx(0.3)
    not_redundant = grade_nonfinal(_v([False, True, True]), checklist_len=3, resolved={0}, table=table)
    assert not_redundant.reward == 0.8 and not not_redundant.redundant


def test_premature_answer_gets_no_extra_redundancy_penalty(tmp_path: Path) -> None:
    table = _table(tmp_path, penalty=-0.5, credit=True)
    grade = grade_nonfinal(_v([True, False, False], answered=True), checklist_len=3, resolved={0}, table=table)
    assert grade.reward == -2.0 and grade.redundant


def test_asking_when_everything_is_resolved_is_redundant(tmp_path: Path) -> None:
    table = _table(tmp_path, penalty=-0.2, credit=True)
    grade = grade_nonfinal(_v([False, False]), checklist_len=2, resolved={0, 1}, table=table)
    assert grade.redundant and grade.redundant_indices == ()
    assert (grade.label, grade.reward) == ("no_hit", pytest.approx(-1.0))


def test_without_credit_for_resolved_hits_tiers_count_what_remained(tmp_path: Path) -> None:
    table = _table(tmp_path, penalty=0.0, credit=False)
    # items 0 and 1 resolved; the turn asks about 0 (again) and 2 (the only one left): all that remained
    grade = grade_nonfinal(_v([True, False, True]), checklist_len=3, resolved={0, 1}, table=table)
    assert (grade.label, grade.reward) == ("all_hit", 1.0)
    # only re-asks: nothing new counts
    only_old = grade_nonfinal(_v([True, True, False]), checklist_len=3, resolved={0, 1}, table=table)
    assert (only_old.label, only_old.reward) == ("no_hit", -0.8)
    # with credit (the paper), the same turn counts both hits
    paper = grade_nonfinal(_v([True, True, False]), checklist_len=3, resolved={0, 1}, table=PAPER)
    assert (paper.label, paper.reward) == ("some_hit", 0.8)


def test_resolved_outside_the_checklist_is_a_caller_bug() -> None:
    with pytest.raises(RubricError, match=r"resolved indices \[3\]"):
        grade_nonfinal(_v([True, False, False]), checklist_len=3, resolved={3}, table=PAPER)
