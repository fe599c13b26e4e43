"""Issue 18's table, one regression test per row: each pair of episodes is played through the real ``EpisodeState``
(online credit, table ``paper_v1``) and ranked by its return and by its turn advantages, in a group that mixes every
strategy of the item and in a group of the pair alone, under both estimators with and without std normalisation.

Fakes: only the judge (``reward.audit.ScriptedJudge``: scripted verdicts and user reports through the ``Judge``
protocol). The values in comments are the returns before issue 18 -> after.
"""

from __future__ import annotations

import pytest

from reward.audit import ESTIMATORS, Item, Played, _strategies, play, turn_advantages
from reward.config import RewardConfig
from reward.episode import EpisodeSpec, EpisodeState
from reward.scoring import score_turn

SETTINGS = [(estimator, norm) for estimator in sorted(ESTIMATORS) for norm in (True, False)]


async def _played(task: str, *, m: int = 3, turns: int = 3, strict: bool = False) -> dict[str, Played]:
    item = Item("row", task, m, (), (), max_turns=turns, mode="strict" if strict else "normal")  # type: ignore[arg-type]
    return {s.name: await play(item, s, RewardConfig()) for s in _strategies(task, m, turns)}  # type: ignore[arg-type]


def _first_difference(a: Played, b: Played) -> int:
    for k, (x, y) in enumerate(zip(a.turn_rewards, b.turn_rewards, strict=False)):
        if abs(x - y) > 1e-9:
            return k
    return 0


def _assert_ranked(played: dict[str, Played], better: str, worse: str, *, strict: bool = True) -> None:
    """``better`` ahead of ``worse`` (``strict``: strictly) in return, turn-1 advantage and the advantage of the
    first turn where they differ, in the mixed group and in the pair's own group, for every estimator setting."""

    def ahead(x: float, y: float) -> bool:
        return x > y + 1e-6 if strict else x >= y - 1e-6

    assert ahead(played[better].ret, played[worse].ret)
    k = _first_difference(played[better], played[worse])
    for group in (list(played.values()), [played[better], played[worse]]):
        names = [p.strategy for p in group]
        for estimator, norm in SETTINGS:
            adv = turn_advantages(group, estimator, norm)
            b, w = adv[names.index(better)], adv[names.index(worse)]
            assert ahead(b[0], w[0]), (estimator, norm, b, w)
            assert ahead(b[k], w[k]), (estimator, norm, k, b, w)


async def test_row1_stalling_then_guessing_on_the_final_turn_is_no_better_than_guessing_at_once() -> None:
    played = await _played("askmind")
    # -0.60 -> -0.8 - 0.8 + 1.0 + (-2.0 + 0.8 - 0.8/6): the final-turn guess pays the premature penalty
    assert played["stall_then_final_guess"].ret == pytest.approx(-0.8 - 0.8 + 1.0 - 1.2 - 0.8 / 6)
    assert played["premature_correct"].ret == pytest.approx(-1.0)
    _assert_ranked(played, "premature_correct", "stall_then_final_guess", strict=False)


async def test_row2_asking_most_then_stalling_is_no_better_than_answering_after_asking_most() -> None:
    played = await _played("askmind")
    # +0.73 -> 0.8*2/3 - 0.8 + 1.0 - 1.2 - 0.8/6 = -0.60, against 0.8*2/3 + 1.0 - 2.0 = -0.47
    assert played["most_stall_then_final_answer"].ret == pytest.approx(1.6 / 3 - 0.8 + 1.0 - 1.2 - 0.8 / 6)
    assert played["most_then_answer"].ret == pytest.approx(1.6 / 3 - 1.0)
    _assert_ranked(played, "most_then_answer", "most_stall_then_final_answer", strict=False)


async def test_row3_a_follow_up_on_an_unanswered_item_beats_guessing_wrong() -> None:
    played = await _played("askmind")
    # the judge says all three were asked, the user's report gives two: -1.00 -> +2.00 (the follow-up is neither
    # paid again nor graded as the final turn), guessing wrong 0.00 -> -2.00 (it is now premature)
    assert played["unanswered_then_follow_up"].turn_rewards == pytest.approx([1.0, 0.0, 1.0])
    assert played["unanswered_then_guess_wrong"].turn_rewards == pytest.approx([1.0, -3.0])
    _assert_ranked(played, "unanswered_then_follow_up", "unanswered_then_guess_wrong")


async def test_row3_re_asking_a_fact_the_user_volunteered_is_redundant() -> None:
    spec = EpisodeSpec("askmind", "q", "h", ("a", "b", "c"), "42", "q?")
    state = EpisodeState(spec, RewardConfig())
    from reward.audit import ScriptedJudge, ask

    judge = ScriptedJudge()
    judge.step = ask(0)
    await state.score_turn(judge, "asks a", is_final_turn=False)
    state.add_user_reply("a, and also b", supplied=[0, 1])  # the user volunteered b
    judge.step = ask(1, 2)
    second = await state.score_turn(judge, "asks b and c", is_final_turn=False)
    assert second.redundant and second.redundant_indices == (1,)
    assert second.reward == pytest.approx((0.8 - 0.8) / 3)  # c is new, b was supplied: no_hit's share


async def test_row4_irrelevant_questions_in_a_good_turn_cost() -> None:
    played = await _played("askmind")
    # +2.00 -> (1.0 * 3 + -0.8 * min(5, 3)) / 3 + 1.0 = 1.20
    assert played["ask_all_plus_irrelevant_then_correct"].ret == pytest.approx(1.2)
    _assert_ranked(played, "ask_all_then_correct", "ask_all_plus_irrelevant_then_correct")


async def test_row5_never_answering_is_worse_than_a_correct_premature_answer() -> None:
    played = await _played("askmind")
    # -1.00 -> 1.0 + (-2.0 - 0.8): a final turn that still asks learns nothing and never answers
    assert played["ask_all_then_still_asking"].ret == pytest.approx(-1.8)
    assert played["ask_all_then_budget_cut"].ret == pytest.approx(-1.8)
    _assert_ranked(played, "premature_correct", "ask_all_then_still_asking")
    _assert_ranked(played, "premature_correct", "ask_all_then_budget_cut")


async def test_row6_correcting_and_answering_in_one_turn_is_no_worse_than_correcting_first() -> None:
    played = await _played("overconfidence")
    # +1.00 -> +2.00: the corrections inside the answering turn earn their asking credit
    assert played["correct_all_and_answer"].ret == pytest.approx(2.0)
    _assert_ranked(played, "correct_all_and_answer", "ask_all_then_correct", strict=False)


async def test_row7_correcting_one_then_stalling_is_no_better_than_answering_next_turn() -> None:
    played = await _played("overconfidence")
    # +0.47 -> 0.8/3 - 0.8 + 1.0 - 1.2 - 0.8/6 = -0.87, against 0.8/3 + 1.0 - 2.0 = -0.73
    assert played["one_stall_then_final_answer"].ret == pytest.approx(0.8 / 3 - 0.8 + 1.0 - 1.2 - 0.8 / 6)
    assert played["one_then_answer"].ret == pytest.approx(0.8 / 3 - 1.0)
    _assert_ranked(played, "one_then_answer", "one_stall_then_final_answer", strict=False)


@pytest.mark.parametrize("task", ["askmind", "overconfidence"])
async def test_row8_strict_clear_prompt_ranks_a_direct_answer_above_an_over_ask(task: str) -> None:
    from reward.audit import _clear_item

    item = _clear_item(task, "strict", resolved_at_start=False)  # type: ignore[arg-type]
    played = {s.name: await play(item, s, RewardConfig()) for s in item.strategies}
    # every strategy -2.00 (the no-checklist guard on turn 1) -> turn 1 of a clear prompt is its final turn
    assert {n: p.ret for n, p in played.items()} == pytest.approx(
        {"answer_directly_correct": 1.0, "answer_directly_wrong": -1.0, "over_ask": -2.8}
    )
    _assert_ranked(played, "answer_directly_correct", "over_ask")
    _assert_ranked(played, "answer_directly_correct", "answer_directly_wrong")


@pytest.mark.parametrize(("m", "turns", "strict"), [(1, 2, False), (6, 5, False), (4, 2, True)])
async def test_the_rows_hold_off_the_issues_grid_point(m: int, turns: int, strict: bool) -> None:
    """A few other grid points (the audit checks all of them): the rows whose strategies fit there."""
    task = "askmind"
    played = await _played(task, m=m, turns=turns, strict=strict)
    _assert_ranked(played, "premature_correct", "stall_then_final_guess", strict=False)
    _assert_ranked(played, "ask_all_then_correct", "ask_all_plus_irrelevant_then_correct")
    _assert_ranked(played, "premature_correct", "ask_all_then_still_asking")
    if "unanswered_then_follow_up" in played:
        _assert_ranked(played, "unanswered_then_follow_up", "unanswered_then_guess_wrong")


# -- the paper credit of a premature answer (issue 18 item 5) ------------------------------------------------------


@pytest.mark.parametrize("decision", ["correct", "wrong"])
async def test_paper_credit_keeps_the_premature_answer_value_whatever_its_grade(decision: str) -> None:
    from reward.audit import ScriptedJudge, answer

    spec = EpisodeSpec("askmind", "q", "h", ("a", "b"), "42", "q?")
    judge = ScriptedJudge()
    judge.step = answer(decision)  # type: ignore[arg-type]
    request = EpisodeState(spec, RewardConfig()).request("final answer", is_final_turn=False)
    paper = await score_turn(judge, request, RewardConfig(), credit="paper")
    assert paper.reward == -2.0 and paper.label == "premature_answer" and paper.answer_label is None
    online = await score_turn(judge, request, RewardConfig(), credit="online")
    assert online.reward == pytest.approx((1.0 if decision == "correct" else -1.0) - 2.0)
    assert online.answer_label == decision
