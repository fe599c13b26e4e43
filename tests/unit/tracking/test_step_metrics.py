"""Training-step metrics from per-trajectory extra_fields, and readable sample conversations.

Inputs are built exactly as ClarifyAgentLoop writes them (reward_extra_info scalars + askrl_turns spans).
"""

from __future__ import annotations

import math

from askrl.trainer.tracking import METRIC_KEY, conversation_rows, render_conversation, step_metrics


def info(score: float, *, masked: float = 0.0, correct: float = 0.0, turns: float = 2.0, asked: float = 1.0) -> dict:
    return {
        "score": score, "judge_failed": masked, "masked": masked, "turns": turns, "final_correct": correct,
        "premature_answer": 0.0, "redundant_turns": 0.0, "guard_turns": 0.0, "resolved_frac": 0.5,
        "judge_latency_s": 0.2, "judge_calls": turns, "judge_retries": masked * 3, "rollout/num_turns": turns, "rollout/ask_rate": asked, "rollout/user_replies": 1.0,
        "rollout/user_leaks": 0.0, "rollout/user_answer_leaks": 0.0, "rollout/user_sim_tokens": 10.0,
        "rollout/policy_tokens": 20.0, "rollout/user_reply_capped": 0.0, "rollout/truncated_ratio": 0.0,
        "rollout/budget_exhausted_ratio": 0.0, "rollout/user_sim_failed": 0.0,
    }  # fmt: skip


def test_masked_trajectories_count_as_failures_but_not_in_reward_means() -> None:
    fields = [
        {"reward_extra_info": info(1.8, correct=1.0), "askrl_stop_reason": "answered"},
        {"reward_extra_info": info(-0.2), "askrl_stop_reason": "answered"},
        {"reward_extra_info": info(0.0, masked=1.0), "askrl_stop_reason": "judge_failed"},
    ]
    m = step_metrics(fields)
    assert math.isclose(m["reward/episode/mean"], 0.8)  # (1.8 - 0.2) / 2: the masked 0.0 placeholder is left out
    assert math.isclose(m["reward/final_correct_rate"], 0.5)
    assert math.isclose(m["reward/judge_failed_frac"], 1 / 3)
    assert math.isclose(m["reward/masked_frac"], 1 / 3)
    assert math.isclose(m["rollout/stop/answered_rate"], 2 / 3)
    assert m["reward/trajectories"] == 3.0
    assert (m["judge/grading_calls"], m["judge/grading_retries"], m["judge/failed_episodes"]) == (6.0, 3.0, 1.0)
    assert "rollout/num_turns/mean" in m and "rollout/ask_rate" in m
    assert all(METRIC_KEY.match(k) for k in m), sorted(k for k in m if not METRIC_KEY.match(k))


def test_overlong_penalty_and_offline_stop_reasons_reach_the_step_metrics() -> None:
    fields = [
        {"reward_extra_info": {**info(0.5), "reward/overlong_penalty": -0.5}, "askrl_stop_reason": "asked"},
        {"reward_extra_info": {**info(1.0), "reward/overlong_penalty": 0.0}, "askrl_stop_reason": "answered"},
        {"reward_extra_info": {**info(0.0, masked=1.0), "reward/overlong_penalty": 0.0}, "askrl_stop_reason": "asked"},
    ]
    m = step_metrics(fields)
    assert math.isclose(m["reward/overlong_penalty/mean"], -0.25)  # the masked trajectory is left out
    assert math.isclose(m["rollout/stop/asked_rate"], 2 / 3)
    assert all(METRIC_KEY.match(k) for k in m)


def test_parse_success_is_the_share_of_answered_judge_calls_that_parsed() -> None:
    fields = [
        {"reward_extra_info": {**info(1.0), "judge_cost/replied": 3.0, "judge_cost/unparsed": 0.0}},
        {"reward_extra_info": {**info(0.0, masked=1.0), "judge_cost/replied": 1.0, "judge_cost/unparsed": 1.0}},
    ]
    assert math.isclose(step_metrics(fields)["judge/parse_ok_frac"], 3 / 4)  # the masked episode's garbage counts
    silent = [{"reward_extra_info": {**info(0.0, masked=1.0), "judge_cost/replied": 0.0, "judge_cost/unparsed": 0.0}}]
    assert "judge/parse_ok_frac" not in step_metrics(silent)  # no reply came back: nothing parsed or failed to


def test_no_trajectories_no_metrics() -> None:
    assert step_metrics([]) == {}
    assert step_metrics([None, "x"]) == {}


def test_conversation_rendering_uses_token_spans_and_replies() -> None:
    vocab = {1: "How", 2: " many?", 3: " The answer is 8."}
    decode = lambda ids: "".join(vocab[i] for i in ids)  # noqa: E731
    turns = [
        {"start": 0, "end": 2, "reward": 1.0, "outcome": {"label": "all_hit"}, "user_reply": "Two apples."},
        {"start": 5, "end": 6, "reward": 1.0, "outcome": {"label": "correct"}, "user_reply": None},
    ]
    text = render_conversation("Tom has some apples?", [1, 2, 9, 9, 9, 3], turns, decode)
    assert text.splitlines() == [
        "USER: Tom has some apples?",
        "ASSISTANT[1] (reward 1.0, all_hit): How many?",
        "USER: Two apples.",
        "ASSISTANT[2] (reward 1.0, correct): The answer is 8.",
    ]
    fields = [{"askrl_turns": turns, "reward_extra_info": {"score": 2.0}, "askrl_stop_reason": "answered"}] * 3
    rows = conversation_rows(fields, ["q"] * 3, [[1, 2, 9, 9, 9, 3]] * 3, decode, step=4, limit=2)
    assert len(rows) == 2 and rows[0]["step"] == 4 and rows[0]["turn_rewards"] == "[1.0, 1.0]"
