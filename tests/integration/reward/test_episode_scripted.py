"""Online (multi-turn) scoring through the real LLMJudge and the scripted server: resolved items reach the judge,
a judge failure masks the whole trajectory, and per-turn rewards land on each turn's last policy token.

Fakes: the judge model only (scripted replies on 127.0.0.1).
"""

from __future__ import annotations

import pytest

from reward.config import RewardConfig
from reward.episode import AssistantTurn, EpisodeSpec, EpisodeState, score_episode, score_episodes
from reward.masking import masked_response_mask
from reward.metrics import episode_metrics

SPEC = EpisodeSpec(
    task="askmind",
    ori_question="A train covers 120 km. How long does it take?",
    hidden_info="The speed (60 km/h) was removed.",
    checklist=("What is the speed?", "Is it constant?"),
    expected_answer="2 hours",
    question="A train covers some distance. How long does it take?",
)
TURNS = [
    AssistantTurn("What is the train's speed?", user_reply="60 km/h."),
    AssistantTurn("Is that speed constant?", user_reply="Yes."),
    AssistantTurn("Then it takes 2 hours."),
]
#       turn 1      user     turn 2      user    turn 3     pad
MASK = [1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0]


def _turn(hits: list[bool]) -> dict:
    return {"json": {"answered_final": False, "hits": hits, "irrelevant_or_redundant": False, "notes": ["", ""]}}


async def test_episode_rewards_resolution_and_placement(judge_server, llm_judge) -> None:
    judge_server.script([_turn([True, False]), _turn([False, True]), {"json": {"decision": "correct"}}])
    state = await score_episode(llm_judge, SPEC, TURNS, RewardConfig())
    # online credit: each new item earns some_hit's share (0.8 / 2), the final answer the final table
    assert state.turn_rewards == [0.4, 0.4, 1.0] and state.all_resolved and state.ended
    log = judge_server.requests()
    second = log[1]["messages"][-1]["content"]
    assert second.split("<already_resolved>")[1].strip().startswith("1\n")  # turn 1 resolved item 1
    assert "60 km/h." in second  # the user's reply is part of the history the judge sees
    assert state.rm_scores(MASK) == [0, 0, 0.4, 0, 0, 0, 0, 0.4, 0, 0, 0, 0, 1.0, 0, 0]
    assert state.reward_extra_info()["masked"] == 0.0


async def test_a_failed_turn_masks_the_trajectory(judge_server, llm_judge) -> None:
    judge_server.script([_turn([True, False]), {"status": 500, "repeat": 2}, {"json": {"decision": "correct"}}])
    state = await score_episode(llm_judge, SPEC, TURNS, RewardConfig())
    # the episode stops at the failed call (issue 18): the third turn is never scored
    assert state.turn_rewards == [0.4, None] and state.ended
    assert state.masked and state.total_reward is None
    assert state.resolved == {0}  # the failed turn resolved nothing
    info = state.reward_extra_info()
    assert (info["judge_failed"], info["masked"], info["score"]) == (1.0, 1.0, 0.0)
    # two grading calls; the failed one used both of its attempts (the retry budget of llm_judge is 2)
    assert (info["judge_calls"], info["judge_retries"]) == (2.0, 1.0)
    assert len(judge_server.requests()) == 3
    assert state.rm_scores(MASK) == [0.0] * len(MASK)
    assert masked_response_mask(MASK, info) == [0] * len(MASK)  # no token of it carries loss


async def test_penalized_failure_keeps_the_trajectory(judge_server, llm_judge) -> None:
    judge_server.script([_turn([True, False]), {"status": 500, "repeat": 2}, {"json": {"decision": "wrong"}}])
    state = await score_episode(llm_judge, SPEC, TURNS, RewardConfig(on_judge_failure="penalize"))
    # the failed turn gets its penalty and nothing after it is scored
    assert state.turn_rewards == [0.4, -0.8] and not state.masked and state.ended
    info = state.reward_extra_info()
    assert (info["judge_failed"], info["masked"]) == (1.0, 0.0)
    played = MASK[:10]  # the two turns played (the third was never generated)
    assert masked_response_mask(played, info) == played
    assert sum(state.rm_scores(played)) == pytest.approx(-0.4)


async def test_live_loop_with_the_episode_state(judge_server, llm_judge) -> None:
    """The rollout's pattern: score a turn, ask the simulated user, decide whether the next turn is final."""
    judge_server.script([_turn([True, True]), {"json": {"decision": "correct"}}])
    state = EpisodeState(SPEC, RewardConfig())
    first = await state.score_turn(
        llm_judge,
        "<think>ask both</think>What is the speed, and is it constant?",
        is_final_turn=state.next_turn_is_final(max_turns=3),
    )
    assert first.label == "all_hit" and not state.ended
    user_request = state.user_request()
    # asked, not yet resolved: the user's reply resolves them
    assert user_request.response == "What is the speed, and is it constant?" and user_request.resolved == ()
    reply = await llm_judge.simulate_user(user_request)  # the server's lexical role plays the user
    assert reply.ok and judge_server.requests()[-1]["served"] == "user"
    state.add_user_reply(reply.verdict.reply)
    assert state.next_turn_is_final(max_turns=3)  # everything resolved: the next turn is graded as final
    final = await state.score_turn(llm_judge, "It takes 2 hours.", is_final_turn=True)
    assert final.reward == 1.0 and state.ended


async def test_episodes_run_concurrently_and_metrics_aggregate(judge_server, llm_judge) -> None:
    judge_server.configure(latency_ms=200)
    episodes = [(SPEC, [AssistantTurn("What is the speed?")]) for _ in range(4)]  # one final turn each
    states = await score_episodes(llm_judge, episodes, RewardConfig())
    assert len(judge_server.requests()) == 4
    m = episode_metrics(states)
    assert m["reward/episode/count"] == 4 and m["reward/episode/masked_frac"] == 0.0
    assert all(s.outcomes[0].kind == "final" for s in states)
