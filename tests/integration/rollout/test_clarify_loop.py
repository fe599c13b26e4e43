"""ClarifyAgentLoop end to end in one process: token layout, masks, reward positions, turn logic, budget, judges.

Real: VERL's AgentLoopBase and continuous-token builder (qwen2), hydra instantiation from the shipped YAML, the tiny
model's tokenizer, the reward's EpisodeState, the lexical judge and the LLM judge over HTTP (scripted server).
Faked: the policy (``ScriptedPolicy`` plays fixed turns; ``HFPolicy`` samples the tiny random model).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from askrl.rollout.config import FORCE_FINAL_TEXT
from askrl.rollout.shared_judge import shared_judge
from reward.advantages import turn_spans

pytestmark = pytest.mark.usefixtures("judges_closed")


def runs(mask: list[int]) -> list[tuple[int, int]]:
    import torch

    return turn_spans(torch.tensor(mask))


async def run_episode(kit, tokenizer, turns, *, record=None, askrl=None, response_length=256, sampling=None):
    server = kit.ScriptedPolicy(tokenizer, turns)
    loop = kit.build_loop(kit.trainer_config(response_length=response_length, askrl=askrl), server, tokenizer)
    out = await loop.run(dict(sampling or kit.SAMPLING), **kit.row_kwargs(record or kit.MIND))
    return out, server


def prompt_text(server, call: int, tokenizer) -> str:
    return tokenizer.decode(server.calls[call][1])


async def test_ask_then_answer_layout_masks_and_rewards(kit, tokenizer):
    out, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER])

    # prompt: the chat template of the degraded question, with the generation prompt
    expected_prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": kit.MIND.degraded_question}], add_generation_prompt=True, tokenize=True
    )
    assert out.prompt_ids == list(getattr(expected_prompt, "input_ids", expected_prompt))

    # policy tokens are exactly what the server returned, never re-tokenised; they are the mask-1 runs
    returned = [call[3] for call in server.calls]
    spans = runs(out.response_mask)
    assert [out.response_ids[s:e] for s, e in spans] == returned
    assert len(out.response_ids) == len(out.response_mask) <= 256
    # each generation continues the exact token stream so far (token-in, token-out)
    assert server.calls[1][1] == out.prompt_ids + out.response_ids[: spans[1][0]]
    # the user turn between them is mask 0 and renders the simulated reply plus the next generation prompt
    between = tokenizer.decode(out.response_ids[spans[0][1] : spans[1][0]])
    assert "<|im_start|>user" in between and between.endswith("<|im_start|>assistant\n")
    # per-turn budget: each call may use what is left of response_length
    assert server.calls[0][2]["max_tokens"] == 256
    assert server.calls[1][2]["max_tokens"] == 256 - spans[1][0]

    # rewards: all_hit (+1.0) on turn 1's last token, correct (+1.0) on turn 2's last token
    assert out.turn_end_positions == [e - 1 for _, e in spans]
    assert out.turn_rewards == [1.0, 1.0] and out.reward_score == 2.0
    rm = out.as_dict()["rm_scores"]
    assert rm.nonzero().flatten().tolist() == out.turn_end_positions
    assert rm.sum().item() == pytest.approx(2.0)

    info = out.extra_fields["reward_extra_info"]
    assert all(isinstance(v, float) for v in info.values())
    assert info["rollout/num_turns"] == 2.0 and info["rollout/ask_rate"] == 1.0 and info["masked"] == 0.0
    assert info["rollout/user_replies"] == 1.0 and info["rollout/leak_rate"] == 0.0
    assert out.extra_fields["askrl_stop_reason"] == "answered"
    assert out.extra_fields["min_global_steps"] == 3 == out.extra_fields["max_global_steps"]
    assert out.num_turns == 4  # question, ask, reply, answer
    labels = [t["outcome"]["label"] for t in out.extra_fields["askrl_turns"]]
    assert labels == ["all_hit", "correct"]
    assert FORCE_FINAL_TEXT not in prompt_text(server, 1, tokenizer)  # turn 2 of 3 is not the last allowed turn


async def test_premature_answer_ends_the_episode(kit, tokenizer):
    out, server = await run_episode(kit, tokenizer, [kit.ANSWER])
    assert len(server.calls) == 1
    # an answer while both items are missing: graded with the final table (correct, +1.0) plus the premature
    # penalty (-2.0); the episode ends
    assert out.turn_rewards == [-1.0]
    assert out.extra_fields["askrl_stop_reason"] == "premature"
    assert out.extra_fields["askrl_turns"][0]["outcome"]["answer_label"] == "correct"
    assert runs(out.response_mask) == [(0, len(out.response_ids))]
    info = out.extra_fields["reward_extra_info"]
    assert info["premature_answer"] == 1.0 and info["rollout/ask_rate"] == 0.0 and info["rollout/user_replies"] == 0


async def test_turn_limit_and_force_final_text(kit, tokenizer):
    out, server = await run_episode(kit, tokenizer, [kit.USELESS_ASK])
    assert len(server.calls) == 3
    # no_hit, no_hit, then never answering on the final turn: still_asking + no_hit (reward.turn_credit)
    assert out.turn_rewards == pytest.approx([-0.8, -0.8, -2.8])
    assert [FORCE_FINAL_TEXT in prompt_text(server, k, tokenizer) for k in range(3)] == [False, False, True]
    # the judge's history never holds the force-final text
    assert all(FORCE_FINAL_TEXT not in (t["user_reply"] or "") for t in out.extra_fields["askrl_turns"])
    assert len(runs(out.response_mask)) == 3 and out.extra_fields["askrl_stop_reason"] == "answered"


async def test_single_turn_limit_puts_force_final_on_the_question(kit, tokenizer):
    out, server = await run_episode(kit, tokenizer, [kit.ANSWER], askrl={"rollout": {"max_turns": 1}})
    assert FORCE_FINAL_TEXT in prompt_text(server, 0, tokenizer)
    # graded as the final turn: correct, but with both items missing: P_f = -2 + 0.8 - 0.8 / (2 * 2)
    assert out.turn_rewards == pytest.approx([1.0 - 2.0 + 0.8 - 0.2])


async def test_strict_mode(kit, tokenizer):
    strict = {"rollout": {"strict": True}}
    out, _ = await run_episode(kit, tokenizer, [kit.ANSWER], askrl=strict)
    # strict: an answer on turn 1 is wrong (AskBench's StrictFinalAnswerOnFirstTurn), unchecked; the reward charges
    # prematurity once: correct + premature_answer = -1.0 (reward.scoring)
    assert out.turn_rewards == [-1.0] and out.extra_fields["askrl_stop_reason"] == "premature"
    assert out.extra_fields["askrl_turns"][0]["outcome"]["answer_label"] == "wrong"

    out, server = await run_episode(kit, tokenizer, [kit.USELESS_ASK, kit.USELESS_ASK], askrl=strict)
    assert len(server.calls) == 2  # turn 2 is the last one, graded final
    assert out.turn_rewards == pytest.approx([-0.8, -2.8])
    assert FORCE_FINAL_TEXT in prompt_text(server, 1, tokenizer)

    out, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl=strict)
    assert out.turn_rewards == [1.0, 1.0]


async def test_truncation_at_the_response_budget_and_the_per_turn_cap(kit, tokenizer):
    out, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK], response_length=20)
    assert server.calls[0][2]["max_tokens"] == 20
    assert len(out.response_ids) == 20 and out.response_mask == [1] * 20
    assert out.turn_rewards == [-2.0]  # the truncated guard, no judge call
    assert out.extra_fields["askrl_turns"][0]["outcome"]["guard"] == "truncated"
    assert out.extra_fields["reward_extra_info"]["rollout/truncated_ratio"] == 1.0

    out, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK], askrl={"rollout": {"max_tokens_per_turn": 10}})
    assert server.calls[0][2]["max_tokens"] == 10 and len(out.response_ids) == 10
    assert out.extra_fields["askrl_stop_reason"] == "truncated"


async def test_a_reply_that_does_not_fit_ends_the_episode_still_asking(kit, tokenizer):
    ask_len = len(kit.ScriptedPolicy(tokenizer, []).tokens_for(kit.GOOD_ASK))
    out, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], response_length=ask_len + 5)
    assert len(server.calls) == 1
    assert out.response_ids == server.calls[0][3]  # nothing of the reply was appended
    assert out.extra_fields["askrl_stop_reason"] == "budget"
    # all_hit, plus never answering (final.still_asking + nonfinal.no_hit)
    assert out.turn_rewards == pytest.approx([1.0 - 2.8])
    assert out.extra_fields["reward_extra_info"]["rollout/budget_exhausted_ratio"] == 1.0


async def test_user_reply_is_capped(kit, tokenizer):
    out, server = await run_episode(
        kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl={"rollout": {"user_reply_max_tokens": 2}}
    )
    reply = out.extra_fields["askrl_turns"][0]["user_reply"]
    assert len(tokenizer.encode(reply, add_special_tokens=False)) <= 2
    assert out.extra_fields["reward_extra_info"]["rollout/user_reply_capped"] == 1.0


async def test_overconfidence_correct_then_answer(kit, tokenizer):
    correction = "Actually, 7 + 5 does not equal 13. Are you sure about that claim?"
    out, _ = await run_episode(kit, tokenizer, [correction, kit.ANSWER], record=kit.OVER)
    assert out.turn_rewards == [1.0, 1.0]
    assert out.extra_fields["askrl_turns"][0]["user_reply"].startswith("Oh, you're right")


async def test_logprobs_follow_the_mask(kit, tokenizer):
    sampling = {**kit.SAMPLING, "logprobs": True}
    out, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], sampling=sampling)
    assert out.response_logprobs is not None and len(out.response_logprobs) == len(out.response_ids)
    assert all(
        (lp == -0.5) if m else (lp == 0.0) for lp, m in zip(out.response_logprobs, out.response_mask, strict=True)
    )
    assert out.as_dict()["rollout_log_probs"].shape[0] == len(out.response_ids)


async def test_episodes_run_concurrently_and_share_one_judge(kit, tokenizer):
    scripts = [[kit.GOOD_ASK, kit.ANSWER], [kit.ANSWER], [kit.USELESS_ASK], [kit.GOOD_ASK, "I think it is 13."]] * 2
    servers = [kit.ScriptedPolicy(tokenizer, s) for s in scripts]
    config = kit.trainer_config()
    loops = [kit.build_loop(config, server, tokenizer) for server in servers]
    assert loops[0].settings is loops[1].settings  # parsed once per config object
    outs = await asyncio.gather(*(loop.run(dict(kit.SAMPLING), **kit.row_kwargs(kit.MIND)) for loop in loops))
    expected = [[1.0, 1.0], [-1.0], [-0.8, -0.8, -2.8], [1.0, -1.0]] * 2
    assert [o.turn_rewards for o in outs] == [pytest.approx(e) for e in expected]
    assert shared_judge(loops[0].settings.judge) is shared_judge(loops[5].settings.judge)


# -- the LLM judge over HTTP (scripted OpenAI-compatible server) ---------------------------------------------------


async def test_llm_judge_grades_and_plays_the_user_concurrently(kit, tokenizer, judge_server):
    judge_server.reset()
    out, _ = await run_episode(
        kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl={"judge": kit.llm_judge_block(judge_server.base_url)}
    )
    assert out.turn_rewards == [1.0, 1.0]
    assert out.extra_fields["reward_extra_info"]["masked"] == 0.0
    assert out.extra_fields["askrl_turns"][0]["user_reply"]
    assert len(judge_server.requests()) == 3  # turn grade + user reply (together), final grade


async def test_judge_failure_masks_the_trajectory(kit, tokenizer, judge_server):
    judge_server.reset()
    judge_server.script([{"status": 500}] * 4)
    out, _ = await run_episode(
        kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl={"judge": kit.llm_judge_block(judge_server.base_url)}
    )
    info = out.extra_fields["reward_extra_info"]
    assert info["masked"] == 1.0 and info["judge_failed"] == 1.0
    assert out.reward_score == 0.0
    d = out.as_dict()
    assert d["response_mask"].sum() == 0 and d["rm_scores"].abs().sum() == 0  # out of the loss and the baseline
    assert sum(out.response_mask) > 0  # the loop's own mask is intact; only the stored one is zeroed
    assert out.extra_fields["askrl_stop_reason"] == "judge_failed"


async def test_user_simulator_failure_masks_the_trajectory(kit, tokenizer, judge_server):
    judge_server.reset()
    verdict = {"reasoning": "asks both", "is_final_answer": False, "facts_missing": True, "hits": [True, True]}
    judge_server.script([{"json": verdict}, {"status": 500}])
    block = {"judge": kit.llm_judge_block(judge_server.base_url), "rollout": {"speculative_user_reply": False}}
    out, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl=block)
    assert len(server.calls) == 1
    info = out.extra_fields["reward_extra_info"]
    assert info["masked"] == 1.0 and info["rollout/user_sim_failed"] == 1.0
    assert out.extra_fields["askrl_stop_reason"] == "user_sim_failed"
    assert out.as_dict()["response_mask"].sum() == 0
    # the graded turn (all_hit, +1.0) keeps no reward either: the whole episode is out of the loss and the baseline
    assert out.extra_fields["askrl_turns"][0]["outcome"]["reward"] == pytest.approx(1.0)
    assert out.turn_rewards == [0.0] and out.reward_score == 0.0 and info["judge_failed"] == 1.0
    assert out.as_dict()["rm_scores"].abs().sum() == 0


# -- a judge failure mid-episode: one rule under every policy (issue 18 item 3) --------------------------------------

PENALIZE = {"reward": {"on_judge_failure": "penalize"}}


def _llm_block(judge_server, kit, **extra) -> dict:
    return {"judge": kit.llm_judge_block(judge_server.base_url), "rollout": {"speculative_user_reply": False}, **extra}


async def test_penalize_a_failed_user_reply_stops_the_episode_with_the_penalty(kit, tokenizer, judge_server):
    judge_server.reset()
    verdict = {"reasoning": "asks both", "is_final_answer": False, "facts_missing": True, "hits": [True, True]}
    judge_server.script([{"json": verdict}, {"status": 500}])
    out, server = await run_episode(
        kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl=_llm_block(judge_server, kit, **PENALIZE)
    )
    assert len(server.calls) == 1 and out.extra_fields["askrl_stop_reason"] == "user_sim_failed"
    assert out.turn_rewards == pytest.approx([1.0 - 0.8])  # all_hit plus judge_failure_penalty.nonfinal
    info = out.extra_fields["reward_extra_info"]
    assert (info["masked"], info["judge_failed"]) == (0.0, 1.0)
    assert out.as_dict()["response_mask"].sum() == len(server.calls[0][3])  # kept in the loss


async def test_penalize_a_failed_grading_mid_episode_plays_nothing_after_it(kit, tokenizer, judge_server):
    judge_server.reset()
    ask_one = {"reasoning": "asks about the boxes", "is_final_answer": False, "facts_missing": True, "hits": [True, False]}
    reply = {"reply": "Tom has 3 boxes.", "supplied": [True, False]}
    judge_server.script([{"json": ask_one}, {"json": reply}, {"status": 500}])
    turns = ["How many boxes does Tom have?", kit.USELESS_ASK, kit.ANSWER]
    out, server = await run_episode(kit, tokenizer, turns, askrl=_llm_block(judge_server, kit, **PENALIZE))
    assert len(server.calls) == 2 and out.extra_fields["askrl_stop_reason"] == "judge_failed"
    assert out.turn_rewards == pytest.approx([0.4, -0.8]) and len(judge_server.requests()) == 3
    assert out.extra_fields["reward_extra_info"]["masked"] == 0.0


async def test_penalize_a_failed_final_grade_after_a_premature_answer_stops_there(kit, tokenizer, judge_server):
    # issue 18: this scored -0.8 and the dialogue went on (-3.8 in all); now it stops at the failed call
    judge_server.reset()
    answers = {"reasoning": "answers at once", "is_final_answer": True, "facts_missing": True, "hits": [False, False]}
    judge_server.script([{"json": answers}, {"status": 500}])
    out, server = await run_episode(
        kit, tokenizer, [kit.ANSWER, kit.USELESS_ASK, kit.ANSWER], askrl=_llm_block(judge_server, kit, **PENALIZE)
    )
    assert len(server.calls) == 1 and out.extra_fields["askrl_stop_reason"] == "judge_failed"
    assert out.turn_rewards == pytest.approx([-0.8])


async def test_mask_a_failed_final_grade_after_a_premature_answer_masks_the_episode(kit, tokenizer, judge_server):
    judge_server.reset()
    answers = {"reasoning": "answers at once", "is_final_answer": True, "facts_missing": True, "hits": [False, False]}
    judge_server.script([{"json": answers}, {"status": 500}])
    out, server = await run_episode(kit, tokenizer, [kit.ANSWER, kit.ANSWER], askrl=_llm_block(judge_server, kit))
    assert len(server.calls) == 1 and out.extra_fields["askrl_stop_reason"] == "judge_failed"
    assert out.extra_fields["reward_extra_info"]["masked"] == 1.0 and out.as_dict()["response_mask"].sum() == 0


# -- the user's report resolves (issue 18 item 2) -------------------------------------------------------------------


async def test_the_users_report_not_the_judges_hits_resolves_items(kit, tokenizer, judge_server):
    judge_server.reset()
    both = {"reasoning": "asks both", "is_final_answer": False, "facts_missing": True, "hits": [True, True]}
    reply = {"reply": "Tom has 3 boxes.", "supplied": [True, False]}  # the judge says both asked; one was given
    answers = {"reasoning": "answers", "is_final_answer": True, "facts_missing": True, "hits": [False, False]}
    judge_server.script([{"json": both}, {"json": reply}, {"json": answers}, {"json": {"reasoning": "ok",
                         "decision": "correct"}}])  # fmt: skip
    out, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl=_llm_block(judge_server, kit))
    # turn 2 is not graded as the final turn (item 2 is still missing): its answer is premature
    assert len(server.calls) == 2 and out.extra_fields["askrl_stop_reason"] == "premature"
    assert out.turn_rewards == pytest.approx([1.0, 1.0 - 2.0])
    assert judge_server.requests()[1]["response_format"]["json_schema"]["name"] == "UserReplyV3"
    assert out.extra_fields["reward_extra_info"]["resolved_frac"] == 0.5


# -- a real (tiny, random) model generating ----------------------------------------------------------------------


async def test_tiny_model_episodes_keep_every_invariant(kit, tokenizer, tiny_model):
    server = kit.HFPolicy(tiny_model, tokenizer, end_after=6)
    response_length = 512
    config = kit.trainer_config(response_length=response_length, askrl={"rollout": {"max_tokens_per_turn": 24}})
    records = [kit.MIND, kit.OVER, kit.MIND, kit.OVER]
    loops = [kit.build_loop(config, server, tokenizer) for _ in records]
    sampling = {**kit.SAMPLING, "logprobs": True}
    outs = await asyncio.gather(
        *(loop.run(dict(sampling), **kit.row_kwargs(r)) for loop, r in zip(loops, records, strict=True))
    )

    by_request = defaultdict(list)
    for request_id, prompt, _, ids in server.calls:
        by_request[request_id].append((prompt, ids))

    def replays(out, calls) -> bool:
        """Each call's prompt is the exact stream so far and its tokens are the next mask-1 run."""
        spans = runs(out.response_mask)
        return len(calls) == len(spans) and all(
            prompt == out.prompt_ids + out.response_ids[:s] and ids == out.response_ids[s:e]
            for (prompt, ids), (s, e) in zip(calls, spans, strict=True)
        )

    assert max(len(c) for c in by_request.values()) == 3  # multi-turn with the real model
    for out in outs:
        spans = runs(out.response_mask)
        assert any(replays(out, calls) for calls in by_request.values())
        assert 1 <= len(spans) <= 3 and len(out.response_ids) <= response_length
        assert out.turn_end_positions == [e - 1 for _, e in spans]
        assert len(out.turn_rewards) == len(spans)
        rm = out.as_dict()["rm_scores"]
        assert rm.sum().item() == pytest.approx(out.reward_score)
        assert set(rm.nonzero().flatten().tolist()) <= set(out.turn_end_positions)
        assert len(out.response_logprobs) == len(out.response_ids)
        assert all(lp == 0.0 for lp, m in zip(out.response_logprobs, out.response_mask, strict=True) if not m)
        assert out.extra_fields["reward_extra_info"]["rollout/num_turns"] == len(spans)


async def test_the_user_reply_overlaps_the_grade(kit, tokenizer, judge_server_factory):
    """Each judge request takes 300 ms: fetching the reply alongside the grade saves one of them per asking turn."""
    server = judge_server_factory(latency_ms=300)
    seconds = {}
    for speculative in (True, False):
        block = {"judge": kit.llm_judge_block(server.base_url), "rollout": {"speculative_user_reply": speculative}}
        out, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl=block)
        assert out.turn_rewards == [1.0, 1.0]
        seconds[speculative] = out.metrics.compute_score
    assert seconds[True] < seconds[False] - 0.15, seconds


# -- DAPO's overlong penalty (askrl.reward.overlong) ---------------------------------------------------------------


@pytest.mark.parametrize(("slack", "factor"), [(0, 1.0), (4, 1.0), (4, 0.5)])
async def test_overlong_penalty_counts_policy_tokens_and_lands_on_the_last_turn(kit, tokenizer, slack, factor):
    """expected_len = policy tokens - slack: only policy tokens past it are penalised, never the user's reply."""
    policy = sum(len(kit.ScriptedPolicy(tokenizer, []).tokens_for(t)) for t in (kit.GOOD_ASK, kit.ANSWER))
    buffer = 256 - policy + slack
    overlong = {"enable": True, "buffer_tokens": buffer, "penalty_factor": factor}
    out, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl={"reward": {"overlong": overlong}})
    assert sum(out.response_mask) == policy < len(out.response_ids)  # the user's reply is in the response
    penalty = -slack / buffer * factor
    everything = min(-(len(out.response_ids) - policy + slack) / buffer * factor, 0.0)
    assert penalty != pytest.approx(everything)  # counting the reply's tokens would give another number
    info = out.extra_fields["reward_extra_info"]
    assert info["reward/overlong_penalty"] == pytest.approx(penalty)
    assert out.turn_rewards == [1.0, pytest.approx(1.0 + penalty)]  # on the last turn only
    rm = out.as_dict()["rm_scores"]
    assert rm[out.turn_end_positions[-1]].item() == pytest.approx(1.0 + penalty)
    assert out.reward_score == pytest.approx(2.0 + penalty) == info["score"]
    assert rm.sum().item() == pytest.approx(out.reward_score)


async def test_overlong_penalty_is_off_by_default_and_never_on_a_masked_trajectory(kit, tokenizer, judge_server):
    out, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK], response_length=20)  # fills the budget, disabled
    assert out.extra_fields["reward_extra_info"]["reward/overlong_penalty"] == 0.0
    assert out.turn_rewards == [-2.0]

    judge_server.reset()
    judge_server.script([{"status": 500}] * 4)
    overlong = {"enable": True, "buffer_tokens": 250}  # every episode of more than 6 policy tokens is penalised
    block = {"judge": kit.llm_judge_block(judge_server.base_url), "reward": {"overlong": overlong}}
    out, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], askrl=block)
    info = out.extra_fields["reward_extra_info"]
    assert info["masked"] == 1.0 and info["reward/overlong_penalty"] == 0.0 and out.reward_score == 0.0


async def test_an_overlong_buffer_beyond_the_budget_is_refused_at_construction(kit, tokenizer):
    from hydra.errors import InstantiationException

    overlong = {"enable": True, "buffer_tokens": 65}
    config = kit.trainer_config(response_length=64, askrl={"reward": {"overlong": overlong}})
    with pytest.raises(InstantiationException, match="ConfigError.*buffer_tokens=65 exceeds"):  # hydra wraps it
        kit.build_loop(config, kit.ScriptedPolicy(tokenizer, [kit.ANSWER]), tokenizer)
    kit.build_loop(kit.trainer_config(response_length=65, askrl={"reward": {"overlong": overlong}}), None, tokenizer)


async def test_a_timely_final_answer_ends_the_episode_graded_as_final(kit, tokenizer, judge_server):
    """Turn 2 answers once the user's reply already holds every fact, though the judge's hits resolved only one
    item: v2 reports "final answer, nothing missing", so the episode ends there with the final table's +1.0."""
    judge_server.reset()
    ask_one = {
        "reasoning": "asks about the boxes",
        "is_final_answer": False,
        "facts_missing": True,
        "hits": [True, False],
    }
    reply = {"reply": "Tom has 3 boxes, and each box holds 4 apples."}
    timely = {
        "reasoning": "answers; the user gave both facts",
        "is_final_answer": True,
        "facts_missing": False,
        "hits": [False, False],
    }
    final = {"reasoning": "12 matches", "decision": "correct"}
    judge_server.script([{"json": ask_one}, {"json": reply}, {"json": timely}, {"json": final}])
    judge_block = {**kit.llm_judge_block(judge_server.base_url), "prompt_version": "v2"}  # replies without a report
    block = {"judge": judge_block, "rollout": {"speculative_user_reply": False}}
    out, server = await run_episode(kit, tokenizer, ["How many boxes does Tom have?", kit.ANSWER], askrl=block)
    assert len(server.calls) == 2 and out.extra_fields["askrl_stop_reason"] == "answered"
    assert out.turn_rewards == [0.4, 1.0]  # some_hit's share for one of two items, then the final table
    second = out.extra_fields["askrl_turns"][1]["outcome"]
    assert (second["kind"], second["label"], second["answer_label"]) == ("final", "correct", "correct")
    served = [r["served"] for r in judge_server.requests()]
    assert len(served) == 4  # turn grade, user reply, turn grade (final answer), final grade: then nothing more
    # the v2 turn prompt went out, with its schema and the reasoning-first verdict
    turn_request = judge_server.requests()[2]
    assert turn_request["response_format"]["json_schema"]["name"] == "TurnVerdictV2"
    assert "facts_missing is true if" in turn_request["messages"][1]["content"]


async def test_a_user_reply_that_exactly_fills_the_budget_ends_the_episode(kit, tokenizer):
    """Boundaries of the budget check: a reply that leaves no room for one more policy token ends the episode; one
    token of room lets turn 2 start with ``max_tokens`` 1."""
    roomy, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER])
    turn2_start = runs(roomy.response_mask)[1][0]  # response tokens before turn 2: turn 1, the reply, the prompt
    full, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], response_length=turn2_start)
    assert len(server.calls) == 1 and full.extra_fields["askrl_stop_reason"] == "budget"
    assert full.turn_rewards == pytest.approx([1.0 - 2.8])  # all_hit, plus never answering
    one_left, server = await run_episode(kit, tokenizer, [kit.GOOD_ASK, kit.ANSWER], response_length=turn2_start + 1)
    assert len(server.calls) == 2 and server.calls[1][2]["max_tokens"] == 1
    assert len(one_left.response_ids) == turn2_start + 1


async def test_an_end_of_turn_token_exactly_at_the_cap_is_not_truncated(kit, tokenizer):
    ask_len = len(kit.ScriptedPolicy(tokenizer, []).tokens_for(kit.GOOD_ASK))  # the question plus <|im_end|>
    at_cap, server = await run_episode(
        kit, tokenizer, [kit.GOOD_ASK], askrl={"rollout": {"max_tokens_per_turn": ask_len}}
    )
    assert server.calls[0][2]["max_tokens"] == ask_len and len(server.calls[0][3]) == ask_len
    first = at_cap.extra_fields["askrl_turns"][0]
    assert first["truncated"] is False and first["outcome"]["label"] == "all_hit"
    cut, _ = await run_episode(kit, tokenizer, [kit.GOOD_ASK], askrl={"rollout": {"max_tokens_per_turn": ask_len - 1}})
    assert cut.extra_fields["askrl_turns"][0]["truncated"] is True
    assert cut.extra_fields["askrl_stop_reason"] == "truncated"


async def test_a_masked_trajectory_keeps_no_reward_from_its_earlier_turns(kit, tokenizer, judge_server):
    judge_server.reset()
    ask_one = {
        "reasoning": "asks about the boxes",
        "is_final_answer": False,
        "facts_missing": True,
        "hits": [True, False],
    }
    judge_server.script([{"json": ask_one}, {"json": {"reply": "Tom has 3 boxes."}}, {"status": 500}])
    block = {"judge": kit.llm_judge_block(judge_server.base_url), "rollout": {"speculative_user_reply": False}}
    out, server = await run_episode(kit, tokenizer, ["How many boxes does Tom have?", kit.USELESS_ASK], askrl=block)
    assert len(server.calls) == 2 and out.extra_fields["askrl_stop_reason"] == "judge_failed"
    # turn 1 was graded (+0.4) before turn 2's judge call failed: the whole trajectory is masked, every reward 0
    assert out.extra_fields["askrl_turns"][0]["outcome"]["reward"] == pytest.approx(0.4)
    assert out.turn_rewards == [0.0, 0.0] and out.reward_score == 0.0
    assert [t["reward"] for t in out.extra_fields["askrl_turns"]] == [0.0, 0.0]
    info = out.extra_fields["reward_extra_info"]
    assert (info["masked"], info["judge_failed"], info["score"]) == (1.0, 1.0, 0.0)
    d = out.as_dict()
    assert d["rm_scores"].abs().sum() == 0 and d["response_mask"].sum() == 0
