"""How the paper's per-turn values combine into the return of a live episode (``credit="online"``).

Why: the paper scored every assistant turn as a separate sample. Summed over a live episode, its per-turn values
pay for spreading questions over more turns and for repeating them (table ``paper_v1``, 3 items, 3 turns: asking
all three at once then answering correctly totals 1.0 + 1.0 = 2.0; asking two, then the last one, then answering
totals 0.8 + 0.8 + 1.0 = 2.6; asking the same item twice, then answering, also 2.6), which is what AskBench's
``unq`` counts against a model. Both askrl estimators credit turn 1 with the episode return, so the return itself
has to rank the strategies. The table stays the source of every value; only the combination changes.

Who calls it: ``reward.scoring.score_turn`` with ``credit="online"`` (``EpisodeState``'s default, i.e. the clarify
agent loop and ``score_episode``). ``credit="paper"`` (the offline turn loop, ``reward.verl_fn``, the CLI) keeps
the paper's exact per-sample values: ``grade_nonfinal``'s tier value, ``premature_answer`` for a premature answer.

The maths. Checklist of ``m >= 1`` items; before asking turn ``k`` the set ``S_k`` is resolved; the judge says the
turn targets ``H_k``; ``N_k = H_k - S_k`` are its new items and ``D_k = H_k & S_k`` its re-asked ones; ``v_k`` is
the table value of the turn's paper tier (``some_hit`` / ``all_hit``, as ``reward.rubric.grade_nonfinal`` picks
it, honouring ``redundancy.credit_resolved_hits``); ``p`` is ``redundancy.penalty`` when the turn is redundant
(``D_k`` non-empty), else 0.

    asking turn, N_k empty:      r_k = nonfinal.no_hit + p
    asking turn, N_k non-empty:  r_k = (v_k * |N_k| + nonfinal.no_hit * |D_k|) / m + p
    answer, nothing missing:     r_k = final[label]                          (label: correct / wrong)
    answer, facts missing:       r_k = final[label] + nonfinal.premature_answer
    final turn still asking:     r_k = final.still_asking   (a budget cut adds it to the last asking turn)

Each item earns its share ``v/m`` once, on the turn that first asks for it, so the asking part of a return is at
most ``all_hit`` (reached only by asking everything in one turn); splitting the same items over several turns
earns ``some_hit`` for the shares asked before the last turn, so it is worth less by ``(all_hit - some_hit) *
(share asked earlier)``; a re-asked item costs its share at the ``no_hit`` rate and a question that learns nothing
new is worth ``no_hit`` outright (with ``paper_v1``'s redundancy penalty of 0 the re-ask cost comes from ``no_hit``
alone). With ``paper_v1`` and 3 items: all at once 1.0 + 1.0 = 2.0 > two then one (0.8*2 + 0.8*1)/3 + 1.0 = 1.8 >
the same item twice 0.8/3 - 0.8 + 1.0 = 0.47; the same with a wrong answer is lower by ``correct - wrong`` = 2.

A final answer on a non-final turn ends the episode and is graded with the final table (a second judge call,
``grade_final``): a timely answer (the judge says no facts were missing) earns exactly what it would have earned
on the last turn, a premature one that plus ``premature_answer``, so guessing right is still worse than asking
(1.0 - 2.0 = -1.0 < the worst ask-then-answer-correctly return, ``no_hit + correct`` = 0.2). Under AskBench's
strict protocol an answer before the final turn is wrong without a call (``StrictFinalAnswerOnFirstTurn``).
Because turn 1's advantage is a positive multiple of ``R_i - mean_g R`` under ``askrl_traj_grpo`` (with or without
std scaling) and of the leave-one-out residual ``R_i - mean_{-i} R`` under ``askrl_turn_grpo``, the order of the
returns is the order of the turn-1 advantages in any group, and its sign is the sign of ``R_i`` against the group
mean. ``python -m reward.audit`` plays the canonical strategies through ``EpisodeState`` and both estimators and
checks every ordering (``reward.audit.ORDERINGS``).

    ask_credit(grade, checklist_len=3, resolved={0}, table=table)   # 0.0: item 2 new, item 0 re-asked
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from reward.outcome import Label
from reward.rubric import NonFinalGrade
from reward.table import RewardTable

#: ``paper``: each turn is the paper's independent sample (offline rows, ``reward.verl_fn``); ``online``: turns
#: combine into an episode return as in the module docstring (live episodes).
Credit = Literal["paper", "online"]


def ask_credit(grade: NonFinalGrade, *, checklist_len: int, resolved: Collection[int], table: RewardTable) -> float:
    """The online reward of a graded asking turn (not an answer): new items at their tier's share, re-asked
    items at ``no_hit``'s share, a turn with nothing new at ``no_hit``; plus the table's redundancy penalty."""
    new = [i for i in grade.hit_indices if i not in resolved]
    penalty = table.redundancy.penalty if grade.redundant_indices else 0.0
    if not new:
        return table.nonfinal.no_hit + penalty
    tier = getattr(table.nonfinal, grade.label)
    again = len(grade.redundant_indices)
    return (tier * len(new) + table.nonfinal.no_hit * again) / checklist_len + penalty


def answer_reward(label: Label, *, premature: bool, credit: Credit, table: RewardTable) -> float:
    """The reward of a final answer given on a non-final turn, graded ``label`` (``correct``/``wrong``).

    ``paper`` keeps the paper's per-sample value for a premature answer (``premature_answer``, whatever its
    grade); a timely one gets the final table's value under either credit."""
    if premature and credit == "paper":
        return table.nonfinal.premature_answer
    value = getattr(table.final, label)
    return value + table.nonfinal.premature_answer if premature else value
