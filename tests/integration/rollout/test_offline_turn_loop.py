"""OfflineTurnAgentLoop end to end in one process: one generated turn of a pre-built dialogue, graded and masked.

Real: VERL's AgentLoopBase and continuous-token builder (qwen2), hydra instantiation from the shipped YAML
(``askrl_offline_turn``), the tiny model's tokenizer, rows from ``askrl.data.offline_turns`` (and one parquet round
trip through VERL's RLHFDataset), the reward's EpisodeState, the lexical judge and the LLM judge over HTTP
(scripted server). Faked: the policy (``ScriptedPolicy`` plays fixed turns; ``HFPolicy`` samples the tiny model).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from askrl.errors import RolloutError
from askrl.rollout import OFFLINE_AGENT_NAME

pytestmark = pytest.mark.usefixtures("judges_closed")

REPLY = "Tom has 3 boxes, and each box holds 4 apples."


def dialogue(kit) -> list[dict[str, str]]:
    """A pre-built AskMind dialogue: ask, reply, answer (two assistant turns -> two offline rows)."""
    return [
        {"role": "user", "content": kit.MIND.degraded_question},
        {"role": "assistant", "content": kit.GOOD_ASK},
        {"role": "user", "content": REPLY},
        {"role": "assistant", "content": kit.ANSWER},
    ]


async def run_turn(kit, tokenizer, text, row, *, askrl=None, response_length=256, sampling=None):
    server = kit.ScriptedPolicy(tokenizer, [text])
    config = kit.trainer_config(response_length=response_length, askrl=askrl)
    loop = kit.build_loop(config, server, tokenizer, OFFLINE_AGENT_NAME)
    out = await loop.run(dict(sampling or kit.SAMPLING), **row)
    return out, server


async def test_one_turn_layout_masks_and_reward_position(kit, tokenizer):
    row = kit.turn_row_kwargs(kit.MIND)  # first turn: the degraded question alone, not final
    assert row["extra_info"]["is_final_turn"] is False
    out, server = await run_turn(kit, tokenizer, kit.GOOD_ASK, row)

    expected_prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": kit.MIND.degraded_question}], add_generation_prompt=True, tokenize=True
    )
    assert out.prompt_ids == list(getattr(expected_prompt, "input_ids", expected_prompt))
    [(_, prompt, params, returned)] = server.calls
    assert prompt == out.prompt_ids  # token-in: exactly the prompt tokens
    assert params["max_tokens"] == 256  # the whole response budget for the one turn
    assert out.response_ids == returned and out.response_mask == [1] * len(returned)  # token-out, never re-tokenised

    last = len(out.response_ids) - 1
    assert out.turn_end_positions == [last]
    assert out.turn_rewards == [1.0] and out.reward_score == 1.0  # all_hit, graded as a non-final turn
    d = out.as_dict()
    assert d["rm_scores"].nonzero().flatten().tolist() == [last]
    assert d["rm_scores"][last].item() == pytest.approx(1.0)
    assert d["response_mask"].tolist() == out.response_mask
    assert out.extra_fields["askrl_stop_reason"] == "asked"
    assert out.num_turns == 2
    info = out.extra_fields["reward_extra_info"]
    assert info["masked"] == 0.0 and info["rollout/policy_tokens"] == len(returned)
    assert info["rollout/user_sim_tokens"] == 0.0 and info["rollout/ask_rate"] == 1.0
    assert info["reward/overlong_penalty"] == 0.0 and info["score"] == 1.0
    assert [t["outcome"]["label"] for t in out.extra_fields["askrl_turns"]] == ["all_hit"]


async def test_reward_extra_info_has_the_clarify_loops_keys(kit, tokenizer):
    offline, _ = await run_turn(kit, tokenizer, kit.GOOD_ASK, kit.turn_row_kwargs(kit.MIND))
    server = kit.ScriptedPolicy(tokenizer, [kit.GOOD_ASK, kit.ANSWER])
    clarify = kit.build_loop(kit.trainer_config(), server, tokenizer)
    online = await clarify.run(dict(kit.SAMPLING), **kit.row_kwargs(kit.MIND))
    offline_info, online_info = offline.extra_fields["reward_extra_info"], online.extra_fields["reward_extra_info"]
    assert set(offline_info) == set(online_info)  # one key set: VERL builds one array per key across a batch
    assert all(isinstance(v, float) for v in offline_info.values())
    assert set(offline.extra_fields) == set(online.extra_fields)


@pytest.mark.parametrize(
    ("k", "text", "reward", "label", "stop"),
    [
        (0, "ANSWER", -2.0, "premature_answer", "premature"),  # answering the degraded question: premature
        (1, "ANSWER", 1.0, "correct", "answered"),  # the dialogue's last turn is graded as the final answer
        (1, "GOOD_ASK", -2.0, "still_asking", "answered"),  # asking again on the final turn
        (1, "I think it is 13.", -1.0, "wrong", "answered"),
    ],
)
async def test_is_final_turn_decides_how_the_turn_is_graded(kit, tokenizer, k, text, reward, label, stop):
    rows = [kit.turn_row_kwargs(kit.with_dialogue(kit.MIND, dialogue(kit)), j) for j in (0, 1)]
    assert [r["extra_info"]["is_final_turn"] for r in rows] == [False, True]
    out, _ = await run_turn(kit, tokenizer, getattr(kit, text, text), rows[k])
    assert out.turn_rewards == [reward]
    assert out.extra_fields["askrl_turns"][0]["outcome"]["label"] == label
    assert out.extra_fields["askrl_stop_reason"] == stop


async def test_the_judge_and_the_policy_see_the_prior_conversation(kit, tokenizer, judge_server):
    judge_server.reset()
    row = kit.turn_row_kwargs(kit.with_dialogue(kit.MIND, dialogue(kit)), 1)
    askrl = {"judge": kit.llm_judge_block(judge_server.base_url)}
    out, server = await run_turn(kit, tokenizer, kit.ANSWER, row, askrl=askrl)
    assert out.turn_rewards == [1.0]
    policy_prompt = tokenizer.decode(server.calls[0][1])
    assert kit.GOOD_ASK in policy_prompt and REPLY in policy_prompt and policy_prompt.endswith("assistant\n")
    [request] = judge_server.requests()  # one grading call; no simulated user offline
    judge_text = "\n".join(str(m["content"]) for m in request["messages"])
    assert kit.GOOD_ASK in judge_text and REPLY in judge_text and kit.ANSWER in judge_text


@pytest.mark.parametrize(("failures", "masked"), [(2, True), (1, False)])
async def test_a_judge_failure_past_the_retry_budget_masks_the_trajectory(kit, tokenizer, judge_server, failures, masked):
    judge_server.reset()
    judge_server.script([{"status": 500}] * failures)  # a retry budget of 2 attempts
    askrl = {
        "judge": kit.llm_judge_block(judge_server.base_url, max_attempts=2),
        "reward": {"overlong": {"enable": True, "buffer_tokens": 60}},  # would penalise: more than 4 of 64 tokens
    }
    out, _ = await run_turn(kit, tokenizer, kit.GOOD_ASK, kit.turn_row_kwargs(kit.MIND), askrl=askrl, response_length=64)
    info = out.extra_fields["reward_extra_info"]
    d = out.as_dict()
    assert len(judge_server.requests()) == 2
    if masked:
        assert info["masked"] == 1.0 and info["judge_failed"] == 1.0
        assert out.reward_score == 0.0 and info["reward/overlong_penalty"] == 0.0  # no penalty on a masked one
        assert d["response_mask"].sum() == 0 and d["rm_scores"].abs().sum() == 0  # out of the loss and baseline
        assert sum(out.response_mask) == len(out.response_ids) > 0  # only the stored mask is zeroed
        assert out.extra_fields["askrl_stop_reason"] == "judge_failed"
    else:  # the retry recovered: graded, unmasked, and the penalty applies
        assert info["masked"] == 0.0 and info["reward/overlong_penalty"] < 0.0
        assert d["response_mask"].sum() == len(out.response_ids)
        assert d["rm_scores"].sum().item() == pytest.approx(out.reward_score)


async def test_truncated_turn_gets_the_guard(kit, tokenizer):
    out, server = await run_turn(kit, tokenizer, kit.GOOD_ASK, kit.turn_row_kwargs(kit.MIND), response_length=6)
    assert server.calls[0][2]["max_tokens"] == 6 and len(out.response_ids) == 6
    assert out.turn_rewards == [-2.0] and out.extra_fields["askrl_stop_reason"] == "truncated"
    assert out.extra_fields["reward_extra_info"]["rollout/truncated_ratio"] == 1.0


async def test_a_malformed_row_names_the_field(kit, tokenizer):
    row = kit.turn_row_kwargs(kit.MIND)
    row["extra_info"] = {k: v for k, v in row["extra_info"].items() if k != "degraded_info"}
    with pytest.raises(RolloutError, match="degraded_info"):
        await run_turn(kit, tokenizer, kit.GOOD_ASK, row)


async def test_rows_from_parquet_through_verl_rlhf_dataset(kit, tokenizer, tiny_model: Path, tmp_path: Path):
    """``prepare --mode offline`` parquet, read by VERL's RLHFDataset, runs the loop its rows name."""
    from omegaconf import OmegaConf

    from askrl import _verl
    from askrl.data.prepare import prepare_parquet

    result = prepare_parquet("askmind", "demo", tmp_path / "d", mode="offline")
    config = OmegaConf.create(
        {"prompt_key": "prompt", "max_prompt_length": 1024, "filter_overlong_prompts": False,
         "return_raw_chat": True, "cache_dir": str(tmp_path / "cache")}
    )  # fmt: skip
    dataset = _verl.RLHFDataset(str(result.train), tokenizer, config)
    item = dict(dataset[0])
    assert item.pop("agent_name") == OFFLINE_AGENT_NAME  # VERL consumes it to pick the loop
    question = item["extra_info"]["question"]
    out, server = await run_turn(kit, tokenizer, "How many apples does Tom have at the start?", item)
    assert question in tokenizer.decode(server.calls[0][1])
    assert out.response_mask == [1] * len(out.response_ids)
    assert len(out.turn_rewards) == 1 and out.extra_fields["reward_extra_info"]["masked"] == 0.0


async def test_tiny_model_turns_keep_every_invariant(kit, tokenizer, tiny_model):
    server = kit.HFPolicy(tiny_model, tokenizer, end_after=10)
    response_length = 24
    config = kit.trainer_config(
        response_length=response_length, askrl={"reward": {"overlong": {"enable": True, "buffer_tokens": 16}}}
    )
    dialog = kit.with_dialogue(kit.MIND, dialogue(kit))
    rows = [kit.turn_row_kwargs(dialog, 0), kit.turn_row_kwargs(dialog, 1), kit.turn_row_kwargs(kit.OVER)]
    loops = [kit.build_loop(config, server, tokenizer, OFFLINE_AGENT_NAME) for _ in rows]
    sampling = {**kit.SAMPLING, "logprobs": True}
    outs = await asyncio.gather(*(loop.run(dict(sampling), **row) for loop, row in zip(loops, rows, strict=True)))

    generated = {tuple(prompt): ids for _, prompt, _, ids in server.calls}
    assert len(generated) == 3
    for out in outs:
        assert generated[tuple(out.prompt_ids)] == out.response_ids  # token-in/token-out with the real model
        n = len(out.response_ids)
        assert 1 <= n <= response_length and out.response_mask == [1] * n
        assert len(out.response_logprobs) == n
        assert out.turn_end_positions == [n - 1]
        info = out.extra_fields["reward_extra_info"]
        expected_penalty = min(-(n - (response_length - 16)) / 16, 0.0)
        assert info["reward/overlong_penalty"] == pytest.approx(expected_penalty)
        rm = out.as_dict()["rm_scores"]
        assert rm.sum().item() == pytest.approx(out.reward_score)
        assert set(rm.nonzero().flatten().tolist()) <= {n - 1}
