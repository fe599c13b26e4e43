"""Score assistant turns: guards first, then one judge call per turn, then the rubric — all turns concurrently.

Who calls it: ``reward.episode`` (online, multi-turn), ``reward.verl_fn`` (VERL reward worker, offline samples) and
``reward.score`` (CLI). The judge is any ``askrl.judge.types.Judge``; this module never opens a connection itself.

Contract:
- A turn that trips a guard (``reward.guards``) gets the table's guard value and **no judge call**.
- Otherwise a final turn (``request.is_final_turn``) goes to ``judge.grade_final``, any other to
  ``judge.grade_turn``; the judge sees only the text outside the think block (``request.response`` is replaced).
- A non-final turn the judge calls a final answer (``is_final_answer``) ends the episode and is graded with the
  final table: ``grade_final`` on the same turn (strict: ``wrong`` without a call, AskBench's
  ``StrictFinalAnswerOnFirstTurn``); ``facts_missing`` makes it premature (``label="premature_answer"``, the
  premature penalty, ``reward.turn_credit.answer_reward``), else it is a timely final turn (``kind="final"``). If
  ``grade_final`` sees no answer (``still_asking``), the turn is graded as the asking turn it then is.
  ``credit="paper"`` keeps the paper's value for a premature answer (no second call); a v1 verdict's
  ``answered_final`` is always premature.
- An asking turn gets the paper's tier value (``credit="paper"``) or its online credit
  (``reward.turn_credit.ask_credit``: new items only, re-asks and irrelevant questions cost).
- Online credit only: an answer is premature when an item is still missing by the user's reports (``resolved``;
  ``reported=False``: by the judge's ``facts_missing``), on the scheduled final turn too, where it pays
  ``turn_credit.final_premature_penalty``; a final turn that still asks gets ``turn_credit.never_answered``; an
  AskOverconfidence final turn with claims left is also sent to ``grade_turn`` (concurrently) for the corrections it
  makes (``turn_credit.correction_credit``); strict early answers pay ``correct + premature_answer``.
- A failed judge call, or a verdict whose ``hits`` length disagrees with the checklist (``schema_mismatch``), is a
  judge failure, resolved by ``RewardConfig.on_judge_failure``: ``mask`` → ``reward=None``; ``penalize`` → the
  table's ``judge_failure_penalty``; ``raise`` → ``RubricError``.
- ``score_turns`` gathers every turn at once; the judge client bounds concurrency.

How it fails: never turns a judge failure into a reward unless ``penalize`` was asked for. ``RubricError`` for
``raise`` and for a malformed request (resolved index outside the checklist). An exception escaping the judge is a
bug in the judge: it propagates after the other turns of the batch finished.

    out = await score_turn(judge, request, RewardConfig())
    outs = await score_turns(judge, requests, cfg, truncated=[False, True])
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Collection, Sequence

from askrl.errors import RubricError
from askrl.judge.types import AnyTurnVerdict, FailureKind, Judge, JudgeRequest, JudgeResult, check_hits_length
from reward.config import RewardConfig
from reward.guards import check_guards, visible_text
from reward.outcome import Label, TurnOutcome
from reward.rubric import NonFinalGrade, check_resolved, grade_final, grade_nonfinal
from reward.table import RewardTable, TurnKind
from reward.turn_credit import (
    Credit,
    answer_reward,
    ask_credit,
    correction_credit,
    missing_items,
    never_answered,
)

logger = logging.getLogger(__name__)


def _failure_of(result: JudgeResult) -> FailureKind:
    assert result.failure is not None  # JudgeResult holds exactly one of verdict and failure
    return result.failure


def _failed(
    kind: TurnKind,
    request: JudgeRequest,
    result: JudgeResult,
    failure: FailureKind,
    error: str | None,
    cfg: RewardConfig,
    *,
    calls: tuple[float, int] = (0.0, 0),
) -> TurnOutcome:
    if cfg.on_judge_failure == "raise":
        raise RubricError(
            f"judge failed on a {kind} turn ({failure.value}: {error}); set reward.on_judge_failure to mask or "
            f"penalize to keep going"
        )
    reward = cfg.table_obj().judge_failure_penalty.of(kind) if cfg.on_judge_failure == "penalize" else None
    logger.warning(
        "judge failed on a %s turn (%s: %s); reward %s",
        kind,
        failure.value,
        error,
        "masked" if reward is None else reward,
    )
    return TurnOutcome(
        kind=kind,
        outcome="judge_failed",
        reward=reward,
        failure=failure,
        error=error,
        checklist_len=len(request.checklist),
        judge_called=True,
        latency_s=result.latency_s + calls[0],
        attempts=result.attempts + calls[1],
    )


async def score_turn(
    judge: Judge,
    request: JudgeRequest,
    cfg: RewardConfig,
    *,
    truncated: bool = False,
    credit: Credit = "paper",
    asked: Collection[int] = (),
    reported: bool = True,
) -> TurnOutcome:
    """Score one assistant turn.

    Args:
        judge: the judge backend.
        request: the turn, its episode context and ``resolved`` items; ``is_final_turn`` picks the verdict kind.
        cfg: reward table and failure policy.
        truncated: generation stopped at the token limit (finish reason ``length``).
        credit: ``paper`` (one independent sample per turn) or ``online`` (turns of a live episode,
            ``reward.turn_credit``).
        asked: online credit only: the items earlier turns already targeted (their share is paid).
        reported: online credit only: ``request.resolved`` comes from the user's reports (prompt set v3), so an
            early answer is premature exactly when an item is still missing by them; False (some reply carried no
            report, v1/v2): the judge's ``facts_missing`` decides, as it reads what the user actually said.

    Returns:
        The ``TurnOutcome``; ``reward`` is None only for a masked judge failure.

    Raises:
        RubricError: ``on_judge_failure="raise"`` and the judge failed, or ``resolved`` is out of range.
    """
    kind: TurnKind = "final" if request.is_final_turn else "nonfinal"
    table = cfg.table_obj()
    m = len(request.checklist)
    check_resolved(request.resolved, m)  # before any judge call
    guard = check_guards(
        request.response,
        truncated=truncated,
        is_final_turn=request.is_final_turn,
        checklist_len=m,
        think_open=cfg.think_open,
        think_close=cfg.think_close,
    )
    if guard is not None:
        return TurnOutcome(
            kind=kind, outcome="guard", reward=table.guards.of(guard, kind), guard=guard, checklist_len=m
        )
    graded = dataclasses.replace(request, response=visible_text(request.response, cfg.think_open, cfg.think_close))
    if request.is_final_turn:
        return await _final_turn(judge, graded, cfg, credit, asked)
    result = await judge.grade_turn(graded)
    if result.verdict is None:
        return _failed(kind, request, result, _failure_of(result), result.error, cfg)
    try:
        check_hits_length(result.verdict, m)
    except ValueError as err:
        return _failed(kind, request, result, FailureKind.SCHEMA_MISMATCH, str(err), cfg)
    if result.verdict.is_final_answer:
        answered = await _answer_turn(judge, graded, result, cfg, credit, asked, reported)
        if answered is not None:
            return answered
    return _asking_turn(request, result, cfg, credit, asked)


def _needs_corrections(request: JudgeRequest, credit: Credit) -> bool:
    """An online AskOverconfidence final turn with claims left: its own corrections count (``c_k``, ``M_k``)."""
    return credit == "online" and request.task == "overconfidence" and len(request.resolved) < len(request.checklist)


async def _final_turn(
    judge: Judge, graded: JudgeRequest, cfg: RewardConfig, credit: Credit, asked: Collection[int]
) -> TurnOutcome:
    """The scheduled final turn: ``grade_final``; online, also the premature penalty when facts are missing and,
    for AskOverconfidence, the turn's own corrections (``grade_turn`` alongside, ``reward.turn_credit``)."""
    table, m = cfg.table_obj(), len(graded.checklist)
    turn_result: JudgeResult[AnyTurnVerdict] | None = None
    if _needs_corrections(graded, credit):
        final_result, turn_result = await asyncio.gather(judge.grade_final(graded), judge.grade_turn(graded))
    else:
        final_result = await judge.grade_final(graded)
    spent = (turn_result.latency_s, turn_result.attempts) if turn_result is not None else (0.0, 0)
    if final_result.verdict is None:
        return _failed("final", graded, final_result, _failure_of(final_result), final_result.error, cfg, calls=spent)
    grade: NonFinalGrade | None = None
    if turn_result is not None:
        if turn_result.verdict is None:
            calls = (final_result.latency_s, final_result.attempts)
            return _failed("final", graded, turn_result, _failure_of(turn_result), turn_result.error, cfg, calls=calls)
        try:
            check_hits_length(turn_result.verdict, m)
        except ValueError as err:
            calls = (final_result.latency_s, final_result.attempts)
            return _failed("final", graded, turn_result, FailureKind.SCHEMA_MISMATCH, str(err), cfg, calls=calls)
        grade = grade_nonfinal(turn_result.verdict, checklist_len=m, resolved=graded.resolved, table=table)
    value, label = grade_final(final_result.verdict, table)
    missing: tuple[int, ...] = ()
    if credit == "online":
        if label == "still_asking":
            value = never_answered(table, credit)
        else:
            corrected = grade.hit_indices if grade is not None else ()
            missing = missing_items(task=graded.task, checklist_len=m, resolved=graded.resolved, corrected=corrected)
            value = answer_reward(
                label, premature=bool(missing), credit=credit, table=table, final_turn=True, checklist_len=m
            )
            if grade is not None and turn_result is not None and turn_result.verdict is not None:
                value += _corrections(graded, grade, turn_result.verdict, asked, table)
    return TurnOutcome(
        kind="final",
        outcome="ok",
        reward=value,
        label=label,
        verdict=final_result.verdict,
        checklist_len=m,
        hit_indices=grade.hit_indices if grade is not None else (),
        missing_indices=missing,
        judge_called=True,
        latency_s=final_result.latency_s + spent[0],
        attempts=final_result.attempts + spent[1],
    )


def _corrections(
    graded: JudgeRequest, grade: NonFinalGrade, verdict: AnyTurnVerdict, asked: Collection[int], table: RewardTable
) -> float:
    """``c_k`` of an answering turn (``reward.turn_credit.correction_credit``)."""
    return correction_credit(
        grade.hit_indices,
        task=graded.task,
        checklist_len=len(graded.checklist),
        resolved=graded.resolved,
        asked=asked,
        irrelevant=verdict.irrelevant_count,
        table=table,
    )


def _asking_turn(
    request: JudgeRequest,
    result: JudgeResult[AnyTurnVerdict],
    cfg: RewardConfig,
    credit: Credit,
    asked: Collection[int],
    *,
    answered: bool | None = None,
    calls: tuple[float, int] = (0.0, 0),
) -> TurnOutcome:
    """A graded non-final turn that asks (or the paper's premature answer): the rubric's tier, or its online
    credit. ``answered=False``: the final grader found no answer, whatever the turn verdict said."""
    assert result.verdict is not None
    verdict, table, m = result.verdict, cfg.table_obj(), len(request.checklist)
    grade = grade_nonfinal(verdict, checklist_len=m, resolved=request.resolved, table=table, answered=answered)
    reward = grade.reward
    if credit == "online" and grade.label != "premature_answer":
        reward = ask_credit(
            grade,
            checklist_len=m,
            resolved=request.resolved,
            asked=asked,
            irrelevant=verdict.irrelevant_count,
            table=table,
        )
    return TurnOutcome(
        kind="nonfinal",
        outcome="ok",
        reward=reward,
        label=grade.label,
        verdict=verdict,
        checklist_len=m,
        hit_indices=grade.hit_indices,
        redundant_indices=grade.redundant_indices,
        redundant=grade.redundant,
        judge_called=True,
        latency_s=result.latency_s + calls[0],
        attempts=result.attempts + calls[1],
    )


async def _answer_turn(
    judge: Judge,
    graded: JudgeRequest,
    result: JudgeResult[AnyTurnVerdict],
    cfg: RewardConfig,
    credit: Credit,
    asked: Collection[int],
    reported: bool,
) -> TurnOutcome | None:
    """A non-final turn the judge called a final answer, graded with the final table (module docstring); None
    when ``grade_final`` finds no answer in it after all (the caller grades it as an asking turn)."""
    assert result.verdict is not None
    verdict, table, m = result.verdict, cfg.table_obj(), len(graded.checklist)
    grade = grade_nonfinal(verdict, checklist_len=m, resolved=graded.resolved, table=table)
    missing: tuple[int, ...] = ()
    if credit == "online":
        missing = missing_items(task=graded.task, checklist_len=m, resolved=graded.resolved, corrected=grade.hit_indices)
    premature = bool(missing) if credit == "online" and reported else verdict.facts_missing
    if premature and credit == "paper":
        return None  # the paper's premature answer: grade_nonfinal's premature_answer value, no second call
    latency, attempts = result.latency_s, result.attempts
    label: Label
    if graded.strict:
        label = "wrong"  # AskBench strict: an answer before the final turn is wrong (StrictFinalAnswerOnFirstTurn)
    else:
        final_result = await judge.grade_final(graded)
        latency, attempts = latency + final_result.latency_s, attempts + final_result.attempts
        if final_result.verdict is None:
            return _failed(
                "nonfinal",
                graded,
                final_result,
                _failure_of(final_result),
                final_result.error,
                cfg,
                calls=(result.latency_s, result.attempts),
            )
        if final_result.verdict.decision == "still_asking":
            calls = (final_result.latency_s, final_result.attempts)
            return _asking_turn(graded, result, cfg, credit, asked, answered=False, calls=calls)
        _, label = grade_final(final_result.verdict, table)
    # strict: the answer is ``wrong`` by protocol, unchecked; the reward charges prematurity once, not correctness
    # on top (``correct + premature``), else every strict early answer would fall below stalling, then guessing
    valued: Label = "correct" if graded.strict and premature else label
    reward = answer_reward(valued, premature=premature, credit=credit, table=table)
    if credit == "online":
        reward += _corrections(graded, grade, verdict, asked, table)
    return TurnOutcome(
        kind="nonfinal" if premature else "final",
        outcome="ok",
        reward=reward,
        label="premature_answer" if premature else label,
        answer_label=label,
        verdict=verdict,
        checklist_len=m,
        hit_indices=grade.hit_indices,
        missing_indices=missing,
        judge_called=True,
        latency_s=latency,
        attempts=attempts,
    )


async def score_turns(
    judge: Judge, requests: Sequence[JudgeRequest], cfg: RewardConfig, *, truncated: Sequence[bool] | None = None
) -> list[TurnOutcome]:
    """Score independent turns concurrently; outcomes come back in input order.

    Raises:
        ValueError: ``truncated`` has a different length than ``requests``.
        RubricError: as ``score_turn``; raised after every turn of the batch finished.
    """
    flags = list(truncated) if truncated is not None else [False] * len(requests)
    if len(flags) != len(requests):
        raise ValueError(f"truncated has {len(flags)} flags for {len(requests)} requests")
    results = await asyncio.gather(
        *(score_turn(judge, r, cfg, truncated=t) for r, t in zip(requests, flags, strict=True)),
        return_exceptions=True,
    )
    for item in results:
        if isinstance(item, BaseException):
            raise item
    return list(results)  # type: ignore[arg-type]
