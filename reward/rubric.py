"""Verdict → reward: the paper's turn-level rubric, made aware of what earlier turns already resolved.

Who calls it: ``reward.scoring`` (after a successful judge call). Pure functions; no I/O, no judge calls.

Contract (values from the ``RewardTable``; spec §4.3):
- non-final turn: ``answered_final`` → ``premature_answer``; otherwise the number of targeted items picks
  ``no_hit`` (0), ``all_hit`` (all) or ``some_hit``. With ``redundancy.credit_resolved_hits: false`` only items
  not yet resolved count, and "all" means all that remained.
  The turn is *redundant* when it targets an item in ``resolved``, or when every item was already resolved and
  it still did not answer; a redundant, non-premature turn gets ``redundancy.penalty`` added (0 in the paper).
  With ``resolved`` empty (single-turn samples) this is exactly the paper's reward.
- final turn: ``still_asking`` / ``wrong`` / ``correct`` straight from the table.

How it fails: ``RubricError`` when ``resolved`` names an item outside the checklist (a caller bug). A verdict whose
``hits`` length disagrees with the checklist is not handled here: ``scoring`` treats it as a judge failure.

    grade_nonfinal(verdict, checklist_len=3, resolved=(), table=table)   # (0.8, "some_hit", (0,), (), False)
    grade_final(FinalVerdict(decision="correct"), table)                  # (1.0, "correct")
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from askrl.errors import RubricError
from askrl.judge.types import AnyFinalVerdict, AnyTurnVerdict
from reward.outcome import Label
from reward.table import RewardTable


@dataclass(frozen=True)
class NonFinalGrade:
    """How a non-final verdict maps onto the table."""

    reward: float
    label: Label
    hit_indices: tuple[int, ...]
    redundant_indices: tuple[int, ...]
    redundant: bool


def check_resolved(resolved: Collection[int], checklist_len: int) -> None:
    """Raise ``RubricError`` when a resolved index is outside the checklist (a caller bug)."""
    bad = sorted(i for i in resolved if not 0 <= i < checklist_len)
    if bad:
        raise RubricError(f"resolved indices {bad} are outside a checklist of {checklist_len} items")


def grade_nonfinal(
    verdict: AnyTurnVerdict,
    *,
    checklist_len: int,
    resolved: Collection[int],
    table: RewardTable,
    answered: bool | None = None,
) -> NonFinalGrade:
    """Reward of a non-final turn whose ``verdict.hits`` has one entry per checklist item.

    ``answered`` overrides ``verdict.answered_final`` (the premature answer) when given."""
    check_resolved(resolved, checklist_len)
    premature = verdict.answered_final if answered is None else answered
    hit_indices = tuple(i for i, hit in enumerate(verdict.hits) if hit)
    redundant_indices = tuple(i for i in hit_indices if i in resolved)
    all_resolved = len(set(resolved)) == checklist_len
    redundant = bool(redundant_indices) or (all_resolved and not premature)
    if premature:
        return NonFinalGrade(
            table.nonfinal.premature_answer, "premature_answer", hit_indices, redundant_indices, redundant
        )
    if table.redundancy.credit_resolved_hits:
        counted, targets = len(hit_indices), checklist_len
    else:
        counted, targets = len(hit_indices) - len(redundant_indices), checklist_len - len(set(resolved))
    label: Label
    if counted == 0:
        label = "no_hit"
    elif counted == targets:
        label = "all_hit"
    else:
        label = "some_hit"
    reward = getattr(table.nonfinal, label) + (table.redundancy.penalty if redundant else 0.0)
    return NonFinalGrade(reward, label, hit_indices, redundant_indices, redundant)


def grade_final(verdict: AnyFinalVerdict, table: RewardTable) -> tuple[float, Label]:
    """Reward and label of a final turn."""
    return getattr(table.final, verdict.decision), verdict.decision
