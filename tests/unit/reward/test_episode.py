"""EpisodeState: asked and (once the user replies) resolved items accumulate across turns, redundancy is judged against them, the next turn becomes
final when everything is resolved, turns combine into the online return (``reward.turn_credit``) or keep the
paper's per-sample values (``credit="paper"``), and per-turn rewards land on the right tokens.

Fakes: the judge (``FakeJudge``, scripted verdicts keyed on the response text). Masking of failed episodes is tested
through the real LLMJudge and the scripted server in tests/integration/reward/test_episode_scripted.py.
"""

from __future__ import annotations

import pytest

from askrl.errors import RolloutError
from askrl.judge.types import FinalVerdict, JudgeRequest, Turn, TurnVerdict
from reward.config import RewardConfig
from reward.episode import AssistantTurn, EpisodeSpec, EpisodeState, score_episode, score_episodes

SPEC = EpisodeSpec(
    task="askmind",
    ori_question="orig",
    hidden_info="hidden",
    checklist=("a", "b", "c"),
    expected_answer="12",
    question="degraded",
)
HITS = {
    "ask a b": [True, True, False],
    "ask a c": [True, False, True],  # a again: redundant
    "ask c": [False, False, True],
    "ask nothing": [False, False, False],
}


def _script(request: JudgeRequest) -> TurnVerdict | FinalVerdict:
    if request.is_final_turn:
        if "12" in request.response:
            return FinalVerdict(decision="correct")
        return FinalVerdict(decision="wrong" if request.response.startswith("answer") else "still_asking")
    if request.response.startswith("answer"):
        return TurnVerdict(answered_final=True, hits=[False] * 3)
    return TurnVerdict(answered_final=False, hits=HITS[request.response])


async def test_resolved_items_accumulate_and_reach_the_judge(fake_judge) -> None:
    judge = fake_judge(_script)
    state = EpisodeState(SPEC, RewardConfig())
    first = await state.score_turn(judge, "<think>plan</think>ask a b", is_final_turn=False)
    # asking is not resolving: the items are asked, and resolved once the user's reply came back
    assert first.label == "some_hit" and state.asked == {0, 1} and state.resolved == set()
    state.add_user_reply("a=1, b=2")  # no report (v1/v2 reply): it resolves what the turn asked for
    assert state.resolved == {0, 1}
    second = await state.score_turn(judge, "ask a c", is_final_turn=state.next_turn_is_final(max_turns=5))
    sent = judge.requests[1][1]
    assert sent.resolved == (0, 1)
    assert sent.history == (Turn("user", "degraded"), Turn("assistant", "ask a b"), Turn("user", "a=1, b=2"))
    # online credit: c is new (0.8 * 1/3), a was re-asked (-0.8 * 1/3); the paper would pay 0.8 again
    assert second.redundant and second.redundant_indices == (0,) and second.reward == pytest.approx(0.0)
    assert not state.all_resolved and not state.next_turn_is_final(max_turns=5)
    state.add_user_reply("c=3")
    assert state.all_resolved and state.next_turn_is_final(max_turns=5)
    final = await state.score_turn(judge, "The answer is 12.", is_final_turn=True)
    assert final.label == "correct" and state.ended
    assert state.turn_rewards == pytest.approx([0.8 * 2 / 3, 0.0, 1.0])
    assert state.total_reward == pytest.approx(0.8 * 2 / 3 + 1.0)
    info = state.reward_extra_info()
    assert info["score"] == pytest.approx(0.8 * 2 / 3 + 1.0) and info["masked"] == 0.0 and info["judge_failed"] == 0.0
    assert info["redundant_turns"] == 1.0 and info["final_correct"] == 1.0 and info["resolved_frac"] == 1.0
    assert info["judge_latency_s"] == pytest.approx(1.0)  # 0.25 + 0.25 + 0.5 from the fake


async def test_last_turn_is_final_by_turn_cap(fake_judge) -> None:
    state = EpisodeState(SPEC, RewardConfig())
    assert not state.next_turn_is_final(max_turns=2)
    await state.score_turn(fake_judge(_script), "ask nothing", is_final_turn=False)
    assert state.next_turn_is_final(max_turns=2) and not state.ended


async def test_the_paper_credit_keeps_the_per_sample_values(fake_judge) -> None:
    judge = fake_judge(_script)
    state = EpisodeState(SPEC, RewardConfig(), credit="paper")
    await state.score_turn(judge, "ask a b", is_final_turn=False)
    state.add_user_reply("a=1, b=2")
    await state.score_turn(judge, "ask a c", is_final_turn=False)
    state.add_user_reply("c=3")
    await state.score_turn(judge, "The answer is 12.", is_final_turn=True)
    assert state.turn_rewards == [0.8, 0.8, 1.0] and state.total_reward == pytest.approx(2.6)
    premature = EpisodeState(SPEC, RewardConfig(), credit="paper")
    out = await premature.score_turn(judge, "answer 12", is_final_turn=False)
    assert out.reward == -2.0 and out.answer_label is None  # the paper's value, no final grading call
    assert [kind for kind, _ in judge.requests].count("final") == 1


async def test_premature_answer_ends_the_episode_and_resolves_nothing(fake_judge) -> None:
    judge = fake_judge(_script)
    state = EpisodeState(SPEC, RewardConfig())
    out = await state.score_turn(judge, "answer 7", is_final_turn=False)
    # graded with the final table (wrong, -1.0) plus the premature penalty (-2.0)
    assert out.reward == -3.0 and out.answer_label == "wrong" and out.premature
    assert state.ended and state.resolved == set()
    assert state.reward_extra_info()["premature_answer"] == 1.0
    assert [kind for kind, _ in judge.requests] == ["turn", "final"]
    lucky = EpisodeState(SPEC, RewardConfig())
    assert (await lucky.score_turn(judge, "answer 12", is_final_turn=False)).reward == -1.0


async def test_guarded_turn_resolves_nothing(fake_judge) -> None:
    state = EpisodeState(SPEC, RewardConfig())
    out = await state.score_turn(fake_judge(_script), "<think>only", is_final_turn=False)
    assert out.guard == "think_only" and state.resolved == set()
    assert state.history[-1] == Turn("assistant", "")


async def test_rm_scores_put_each_turn_on_its_last_policy_token(fake_judge) -> None:
    state = await score_episode(
        fake_judge(_script),
        SPEC,
        [
            AssistantTurn("ask a b", user_reply="a=1 b=2"),
            AssistantTurn("ask c", user_reply="c=3"),
            AssistantTurn("The answer is 12."),
        ],
        RewardConfig(),
    )
    #       t1 t1 u  u  t2 t2 t2 u  t3 t3 pad
    mask = [1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0]
    # "ask c" hits the one remaining item: still "some" of all three, so 0.8 for its third of the checklist
    assert state.turn_rewards == pytest.approx([0.8 * 2 / 3, 0.8 / 3, 1.0])
    assert state.rm_scores(mask) == pytest.approx([0, 0.8 * 2 / 3, 0, 0, 0, 0, 0.8 / 3, 0, 0, 1.0, 0])


async def test_score_episodes_keeps_order_and_needs_user_replies(fake_judge) -> None:
    judge = fake_judge(_script)
    states = await score_episodes(
        judge,
        [
            (SPEC, [AssistantTurn("The answer is 12.")]),
            (SPEC, [AssistantTurn("ask nothing", user_reply="?"), AssistantTurn("hmm?")]),
        ],
        RewardConfig(),
    )
    # a correct answer with all three items missing on the final turn pays P_f = -2 + 0.8 - 0.8/6; a final turn
    # that still asks pays still_asking + no_hit
    assert states[0].turn_rewards == pytest.approx([1.0 - 2.0 + 0.8 - 0.8 / 6])
    assert states[1].turn_rewards == pytest.approx([-0.8, -2.8])
    with pytest.raises(RolloutError, match="turn 0 of 2 has no user reply"):
        await score_episode(judge, SPEC, [AssistantTurn("ask c"), AssistantTurn("x")], RewardConfig())


def test_bookkeeping_refuses_out_of_order_turns() -> None:
    state = EpisodeState(SPEC, RewardConfig())
    with pytest.raises(RolloutError, match="user reply was added where an assistant turn was due"):
        state.add_user_reply("too early")
    with pytest.raises(RolloutError, match=r"indices \[3\] out of range"):
        state.mark_resolved([3])
    state.mark_resolved([2])
    assert state.request("x", is_final_turn=False).resolved == (2,)


async def test_user_request_shows_the_simulated_user_the_visible_turn(fake_judge) -> None:
    state = EpisodeState(SPEC, RewardConfig())
    with pytest.raises(RolloutError, match="before an assistant turn was recorded"):
        state.user_request()
    await state.score_turn(fake_judge(_script), "<think>hidden plan</think>ask a b", is_final_turn=False)
    request = state.user_request()
    assert request.response == "ask a b" and request.history == (Turn("user", "degraded"),)
    assert request.resolved == () and not request.is_final_turn  # the user has not answered yet


# -- resuming a pre-built dialogue (offline turn samples) and the budget cut --------------------------------------

PRIOR = (Turn("user", "degraded"), Turn("assistant", "ask a b"), Turn("user", "a=1, b=2"))


async def test_a_resumed_state_grades_its_next_turn_against_the_prior_conversation(fake_judge) -> None:
    judge = fake_judge(_script)
    state = EpisodeState(SPEC, RewardConfig(), history=PRIOR, resolved=[0, 1])
    outcome = await state.score_turn(judge, "ask a c", is_final_turn=False)
    sent = judge.requests[0][1]
    assert sent.history == PRIOR and sent.resolved == (0, 1)
    assert outcome.redundant_indices == (0,) and state.asked == {0, 2} and state.resolved == {0, 1}
    assert state.reward_extra_info()["turns"] == 1.0  # only the graded turn counts as a turn of this state


@pytest.mark.parametrize(
    ("history", "resolved", "message"),
    [
        ((), (), "alternate"),
        ((Turn("assistant", "hi"), Turn("user", "degraded")), (), "alternate"),
        (PRIOR[:2], (), "end with the user"),
        ((Turn("user", "other question"),), (), "open with the episode's question"),
        (PRIOR, (3,), "out of range"),
    ],
)
def test_a_resumed_history_must_be_a_conversation_awaiting_the_assistant(history, resolved, message) -> None:
    with pytest.raises(RolloutError, match=message):
        EpisodeState(SPEC, RewardConfig(), history=history, resolved=resolved)


async def test_a_budget_cut_adds_never_answered_to_the_last_turn(fake_judge) -> None:
    judge = fake_judge(_script)
    state = EpisodeState(SPEC, RewardConfig())
    await state.score_turn(judge, "ask a b", is_final_turn=False)
    state.add_user_reply("a=1, b=2")
    await state.score_turn(judge, "ask c", is_final_turn=False)
    assert state.turn_rewards == pytest.approx([0.8 * 2 / 3, 0.8 / 3])
    state.end_still_asking()
    # never answered: paper_v1 final.still_asking + nonfinal.no_hit = -2.8
    assert state.turn_rewards == pytest.approx([0.8 * 2 / 3, 0.8 / 3 - 2.8])
    assert state.total_reward == pytest.approx(-2.0) == state.reward_extra_info()["score"]
    assert state.rm_scores([1, 0, 1]) == pytest.approx([0.8 * 2 / 3, 0.0, 0.8 / 3 - 2.8])


async def test_only_an_asking_episode_can_be_cut(fake_judge) -> None:
    judge = fake_judge(_script)
    state = EpisodeState(SPEC, RewardConfig())
    with pytest.raises(RolloutError, match="cut by the response budget"):
        state.end_still_asking()  # nothing graded yet
    await state.score_turn(judge, "answer 12", is_final_turn=False)  # premature: the episode ended
    with pytest.raises(RolloutError, match="cut by the response budget"):
        state.end_still_asking()


@pytest.mark.parametrize(
    ("policy", "rewards", "masked"), [("mask", [0.8 * 2 / 3], True), ("penalize", [0.8 * 2 / 3 - 0.8], False)]
)
async def test_a_failed_user_reply_stops_the_episode_by_the_failure_policy(fake_judge, policy, rewards, masked) -> None:
    state = EpisodeState(SPEC, RewardConfig(on_judge_failure=policy))
    await state.score_turn(fake_judge(_script), "ask a b", is_final_turn=False)
    state.user_reply_failed()
    assert state.ended and state.masked is masked and state.user_failed
    assert state.turn_rewards == pytest.approx(rewards)  # the masked state keeps the graded value; rm_scores do not
    info = state.reward_extra_info()
    assert info["judge_failed"] == 1.0 and info["masked"] == float(masked)
    assert (sum(state.rm_scores([1, 1])) == 0.0) is masked
    with pytest.raises(RolloutError, match="ended by a failed user reply"):
        state.user_reply_failed()


async def test_a_failed_user_reply_raises_under_the_raise_policy(fake_judge) -> None:
    from askrl.errors import RubricError

    state = EpisodeState(SPEC, RewardConfig(on_judge_failure="raise"))
    await state.score_turn(fake_judge(_script), "ask a b", is_final_turn=False)
    with pytest.raises(RubricError, match="simulated user's call failed"):
        state.user_reply_failed()
