"""How the paper's per-turn values combine into the return of a live episode (``credit="online"``).

Why: the paper scored every assistant turn as a separate sample. Summed over a live episode, its per-turn values
pay for spreading questions over more turns, for repeating them, and for stalling until the scheduled final turn
(table ``paper_v1``, 3 items, 3 turns: two useless questions then a correct guess on the final turn totals
-0.8 - 0.8 + 1.0 = -0.6, above a correct guess at once, 1.0 - 2.0 = -1.0). Both askrl estimators credit turn 1
with the episode return, so the return itself has to rank the strategies. The table stays the source of every
value (no new number is introduced: everything below is a sum of ``paper_v1``'s entries); only the combination
changes.

Who calls it: ``reward.scoring.score_turn`` with ``credit="online"`` (``EpisodeState``'s default, i.e. the clarify
agent loop and ``score_episode``). ``credit="paper"`` (the offline turn loop, ``reward.verl_fn``, the CLI) keeps
the paper's exact per-sample values: ``grade_nonfinal``'s tier value, ``premature_answer`` for a premature answer,
``still_asking`` for a final turn that asks.

The maths. Checklist of ``m >= 1`` items. Before turn ``k``, ``S_k`` is *resolved*: the items the simulated
user's replies reported as supplied (AskOverconfidence: the corrections the user accepted), ``reward.episode``;
``A_k`` is *asked*: the items an earlier turn already targeted (its share is paid). The judge says the turn targets
``H_k`` and holds ``q_k`` irrelevant questions (prompt set v3; 0 before). Then

    N_k = H_k - (A_k | S_k)     new items: each earns its tier's share once, on the turn that first asks for it
    D_k = H_k & S_k             re-asked items the user already supplied: redundant, each costs no_hit's share
    F_k = H_k & (A_k - S_k)     follow-ups on items asked but not supplied: neither paid again nor charged
    I_k = min(q_k, m)           irrelevant questions, at most one no_hit's worth per turn

with ``v_k`` the turn's tier value (``some_hit`` / ``all_hit``, as ``reward.rubric.grade_nonfinal`` picks it) and
``p`` the redundancy penalty when ``D_k`` is non-empty. ``M_k = [m] - S_k`` (AskOverconfidence: minus the claims
this very turn corrects, ``H_k``) is what is still *missing* when turn ``k`` answers; ``no_hit``, ``premature``,
``still`` are the table's ``nonfinal.no_hit``, ``nonfinal.premature_answer``, ``final.still_asking``.

    asking turn, N_k and F_k empty:  r_k = no_hit + p
    asking turn, otherwise:          r_k = (v_k |N_k| + no_hit |D_k| + no_hit I_k) / m + p
    answer on a non-final turn:      r_k = final[label] + c_k + (premature      if M_k else 0)
    answer on the final turn:        r_k = final[label] + c_k + (P_f            if M_k else 0)
    the final turn still asks:       r_k = still + no_hit            (a budget cut adds the same to the last turn)

with ``P_f = premature - no_hit - some_hit / (2m)`` (-1.33 for 3 items), and where ``c_k`` is 0 for AskMind (a question inside an answer is never answered) and, for AskOverconfidence, the
asking credit of the corrections the answering turn makes (``(v_k |N_k| + no_hit I_k) / m``): a correction is a
statement, it counts in the turn that makes it.

Why these terms. (1) A guess with facts missing pays a premature penalty on every turn, the scheduled final one
included, else stalling until the final turn dodges it. On the final turn the force-final text leaves no choice to
ask, and the turns wasted before it already cost at least one ``no_hit`` each, so the penalty there is ``P_f``,
the premature one less one ``no_hit`` refunded, but never a whole one: half an item's share stays charged. Then
stalling ``j >= 1`` turns and guessing totals ``j no_hit + final + P_f < final + premature`` (guessing at once;
``no_hit + P_f - premature = -some_hit / 2m < 0``), while a turn that did learn an item keeps more than that
half share (``v/m + no_hit + P_f > premature``: asking one item, wasting a turn, then guessing on the final turn
still beats guessing blind, as before this change). (2) Only the user's report resolves: a follow-up on an item the user did not answer is not a
re-ask and is not graded as the final turn, while re-asking a fact the user gave is redundant. (3) The final turn
that still asks learns nothing (no reply follows) and never answers: ``still + no_hit``, so asking everything and
never answering (``all_hit + still + no_hit`` = -1.8) is below a correct premature answer (``correct + premature``
= -1.0), and below every answer after asking. (4) ``I_k`` makes padding a good question with irrelevant ones cost
up to one ``no_hit``.

Orderings this gives (``paper_v1``; ``python -m reward.audit`` checks them over m = 1, 2, 4, 6 items, 2, 3, 5
turns, normal and strict mode, both estimators): all at once (1.0 + 1.0 = 2.0) > two then one
((0.8*2 + 0.8*1)/3 + 1.0 = 1.8) > re-asking a supplied item; a correct final answer > the same with a wrong one
(by ``correct - wrong`` = 2); asking everything then answering > any premature answer; a wrong answer after asking
> never answering; stalling then guessing <= guessing at once.

    ask_credit(grade, checklist_len=3, resolved={0}, asked={0}, irrelevant=0, table=table)  # item 2 new, 0 again
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from askrl.judge.types import TaskKind
from reward.outcome import Label
from reward.rubric import NonFinalGrade
from reward.table import RewardTable

#: ``paper``: each turn is the paper's independent sample (offline rows, ``reward.verl_fn``); ``online``: turns
#: combine into an episode return as in the module docstring (live episodes).
Credit = Literal["paper", "online"]


def _split(hits: Collection[int], resolved: Collection[int], asked: Collection[int]) -> tuple[list[int], ...]:
    """``(N_k, F_k, D_k)``: new items, follow-ups on items asked but not supplied, re-asked supplied items."""
    paid = set(asked) | set(resolved)
    new = [i for i in hits if i not in paid]
    follow_ups = [i for i in hits if i in paid and i not in resolved]
    again = [i for i in hits if i in resolved]
    return new, follow_ups, again


def _shares(tier: float, new: int, again: int, irrelevant: int, checklist_len: int, table: RewardTable) -> float:
    """``(v |N| + no_hit |D| + no_hit min(q, m)) / m``."""
    no_hit = table.nonfinal.no_hit
    return (tier * new + no_hit * again + no_hit * min(irrelevant, checklist_len)) / checklist_len


def ask_credit(
    grade: NonFinalGrade,
    *,
    checklist_len: int,
    resolved: Collection[int],
    asked: Collection[int],
    irrelevant: int,
    table: RewardTable,
) -> float:
    """The online reward of a graded asking turn (``r_k`` of an asking turn in the module docstring)."""
    new, follow_ups, again = _split(grade.hit_indices, resolved, asked)
    penalty = table.redundancy.penalty if again else 0.0
    if not new and not follow_ups:
        return table.nonfinal.no_hit + penalty
    tier = getattr(table.nonfinal, grade.label)
    return _shares(tier, len(new), len(again), irrelevant, checklist_len, table) + penalty


def correction_credit(
    hits: Collection[int],
    *,
    task: TaskKind,
    checklist_len: int,
    resolved: Collection[int],
    asked: Collection[int],
    irrelevant: int,
    table: RewardTable,
) -> float:
    """``c_k``: what the corrections ``hits`` inside an answering turn earn (AskOverconfidence only; 0 for AskMind):
    new ones at the paper's tier for the number of claims corrected, irrelevant questions as in an asking turn."""
    if task != "overconfidence" or not checklist_len:
        return 0.0
    new, _, _ = _split(hits, resolved, asked)
    if not new:
        return 0.0
    tier = table.nonfinal.all_hit if len(hits) == checklist_len else table.nonfinal.some_hit
    return _shares(tier, len(new), 0, irrelevant, checklist_len, table)


def missing_items(
    *, task: TaskKind, checklist_len: int, resolved: Collection[int], corrected: Collection[int]
) -> tuple[int, ...]:
    """``M_k``: the items still missing when a turn answers (AskOverconfidence: minus this turn's corrections)."""
    settled = set(resolved) | (set(corrected) if task == "overconfidence" else set())
    return tuple(i for i in range(checklist_len) if i not in settled)


def answer_reward(
    label: Label,
    *,
    premature: bool,
    credit: Credit,
    table: RewardTable,
    final_turn: bool = False,
    checklist_len: int = 1,
) -> float:
    """The reward of a final answer graded ``label`` (``correct``/``wrong``), without ``c_k``.

    ``premature``: facts were missing. ``paper`` keeps the paper's per-sample values (``premature_answer`` for a
    premature answer on a non-final turn, whatever its grade; the final table's value on the final turn).
    ``online`` adds ``premature_answer`` on a non-final turn and ``final_premature_penalty`` on the final one."""
    if credit == "paper":
        if premature and not final_turn:
            return table.nonfinal.premature_answer
        return getattr(table.final, label)
    value = getattr(table.final, label)
    if not premature:
        return value
    if final_turn:
        return value + final_premature_penalty(table, checklist_len)
    return value + table.nonfinal.premature_answer


def final_premature_penalty(table: RewardTable, checklist_len: int) -> float:
    """``P_f = premature - no_hit - some_hit / (2m)``: what a guess with facts missing on the final turn pays."""
    nonfinal = table.nonfinal
    return nonfinal.premature_answer - nonfinal.no_hit - nonfinal.some_hit / (2 * max(checklist_len, 1))


def never_answered(table: RewardTable, credit: Credit) -> float:
    """A final turn that still asks, or the value a budget cut adds: ``still + no_hit`` online, ``still`` paper."""
    if credit == "paper":
        return table.final.still_asking
    return table.final.still_asking + table.nonfinal.no_hit
