"""The offline mode as VERL runs it: ``compute_score`` called with VERL's keyword arguments, resolved from
``pkg://reward.verl_fn`` by VERL's own ``get_custom_reward_fn``, and run inside VERL's real ``RewardLoopWorker``
(NaiveRewardManager, tokenizer decode, reward_kwargs merge) without Ray.

Fakes: the judge model only (scripted server, or the lexical backend); the tiny offline tokenizer is real.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from tensordict import TensorDict

from askrl import _verl
from askrl.errors import ConfigError, DataError
from reward import verl_fn

EXTRA_INFO = {
    "is_final_turn": False,
    "ori_question": "Simplify sqrt(2.5^2-0.7^2)/(2.7-2.5).",
    "degraded_info": "The 2.5 in the denominator was replaced by 'a small number'.",
    "required_points": ["What is the small number?", "Is it the same 2.5?"],
    "question": "Simplify sqrt(2.5^2-0.7^2)/(2.7-a small number).",
    "context": "No previous conversation.",
    "expected_answer": "12",
}
KEYS = {
    "score",
    "judge_failed",
    "masked",
    "guard",
    "is_final_turn",
    "correct",
    "premature_answer",
    "redundant",
    "hits",
    "judge_latency_s",
}


def _judge_kwargs(base_url: str) -> dict[str, Any]:
    return {
        "backend": "llm",
        "prompt_version": "v1",  # these tests script v1 verdicts
        "client": {
            "endpoints": [{"name": "scripted", "base_url": base_url, "model": "scripted"}],
            "retry": {"max_attempts": 2, "initial_delay_s": 0.001, "max_delay_s": 0.002},
        },
    }


async def test_compute_score_as_verl_calls_it(judge_server) -> None:
    judge = _judge_kwargs(judge_server.base_url)
    judge_server.script(
        [
            {"json": {"answered_final": False, "hits": [True, False], "irrelevant_or_redundant": False, "notes": []}},
            {"status": 500, "repeat": 2},
        ]
    )
    ok = await verl_fn.compute_score(
        data_source="ask_mind_qa",
        solution_str="What is the small number?",
        ground_truth="12",
        extra_info=dict(EXTRA_INFO),
        judge=judge,
    )
    failed = await verl_fn.compute_score(
        data_source="ask_mind_qa",
        solution_str="What is the small number?",
        ground_truth="12",
        extra_info=dict(EXTRA_INFO),
        judge=judge,
    )
    guarded = await verl_fn.compute_score(
        data_source="ask_mind_qa",
        solution_str="<think>hmm</think>",
        ground_truth="12",
        extra_info=dict(EXTRA_INFO),
        judge=judge,
    )
    assert set(ok) == set(failed) == set(guarded) == KEYS  # VERL builds one array per key
    assert all(isinstance(v, float) for r in (ok, failed, guarded) for v in r.values())
    assert (ok["score"], ok["hits"], ok["judge_failed"], ok["masked"]) == (0.8, 1.0, 0.0, 0.0)
    assert (failed["score"], failed["judge_failed"], failed["masked"]) == (0.0, 1.0, 1.0)  # placeholder + flags
    assert (guarded["score"], guarded["guard"]) == (-2.0, 1.0)
    assert len(judge_server.requests()) == 3  # 1 + 2 attempts; the guarded turn sent nothing


async def test_judge_is_built_once_per_process_and_loop(judge_server) -> None:
    judge = _judge_kwargs(judge_server.base_url)
    cfg = verl_fn.reward_config(None)
    first = verl_fn.judge_for(judge, cfg)
    assert verl_fn.judge_for(OmegaConf.create(judge), cfg) is first  # DictConfig from VERL: same judge
    assert verl_fn.reward_config({"on_judge_failure": "mask"}) is verl_fn.reward_config({"on_judge_failure": "mask"})
    await first.aclose()


async def test_config_mistakes_are_refused() -> None:
    base = {"data_source": "ask_mind_qa", "solution_str": "x", "ground_truth": "12", "extra_info": dict(EXTRA_INFO)}
    with pytest.raises(ConfigError, match="reward_kwargs.judge"):
        await verl_fn.compute_score(**base)
    with pytest.raises(ConfigError, match=r"unknown reward_kwargs \['judg'\]"):
        await verl_fn.compute_score(**base, judg={"backend": "lexical"})
    with pytest.raises(ConfigError, match=r"reward_kwargs.reward: on_judge_failure"):
        await verl_fn.compute_score(**base, judge={"backend": "lexical"}, reward={"on_judge_failure": "ignore"})
    with pytest.raises(ConfigError, match=r"reward_kwargs.judge: backend"):
        await verl_fn.compute_score(**base, judge={"backend": "gpt"})
    with pytest.raises(DataError, match="field 'degraded_info': missing"):
        info = {k: v for k, v in EXTRA_INFO.items() if k != "degraded_info"}
        await verl_fn.compute_score(**{**base, "extra_info": info}, judge={"backend": "lexical"})


def _config(model_path: str, reward_kwargs: dict[str, Any]) -> Any:
    return OmegaConf.create(
        {
            "actor_rollout_ref": {"model": {"path": model_path, "tokenizer_path": None}},
            "reward": {
                "custom_reward_function": {
                    "path": "pkg://reward.verl_fn",
                    "name": "compute_score",
                    "reward_kwargs": reward_kwargs,
                },
                "reward_manager": {
                    "source": "register",
                    "name": "naive",
                    "module": {"path": None, "name": "custom_reward_manager"},
                },
                "reward_model": {"enable": False},
                "sandbox_fusion": {"url": None},
            },
        }
    )


async def test_verls_loader_resolves_the_pkg_path_and_merges_reward_kwargs(tiny_model) -> None:
    fn = _verl.get_custom_reward_fn(_config(str(tiny_model), {"judge": {"backend": "lexical"}}))
    result = await fn(
        data_source="ask_mind_qa",
        solution_str="Is it the same 2.5 as in the numerator?",
        ground_truth="12",
        extra_info=dict(EXTRA_INFO),
    )
    assert result["score"] == 0.8 and result["hits"] == 1.0


def _data_proto(tokenizer: Any, response: str, extra_info: dict[str, Any]) -> Any:
    prompt = torch.tensor([tokenizer("Simplify, please.", add_special_tokens=False)["input_ids"]])
    resp = torch.tensor([tokenizer(response, add_special_tokens=False)["input_ids"]])
    batch = TensorDict(
        {
            "prompts": prompt,
            "responses": resp,
            "input_ids": torch.cat([prompt, resp], 1),
            "attention_mask": torch.ones(1, prompt.shape[1] + resp.shape[1], dtype=torch.int64),
        },
        batch_size=1,
    )
    non_tensor = {
        "data_source": np.array(["ask_mind_qa"], dtype=object),
        "reward_model": np.array([{"ground_truth": "12"}], dtype=object),
        "extra_info": np.array([extra_info], dtype=object),
        "tool_extra_fields": np.array([{"turn_scores": [], "tool_rewards": []}], dtype=object),
        "__num_turns__": np.array([2]),
    }
    return _verl.DataProto(batch=batch, non_tensor_batch=non_tensor)


@pytest.mark.timeout(120)
async def test_verls_reward_loop_worker_scores_turns_through_the_scripted_judge(judge_server, tiny_model) -> None:
    worker = _verl.RewardLoopWorker(
        _config(
            str(tiny_model), {"judge": _judge_kwargs(judge_server.base_url), "reward": {"on_judge_failure": "mask"}}
        )
    )
    judge_server.script(
        [
            {"json": {"answered_final": False, "hits": [True, True], "irrelevant_or_redundant": False, "notes": []}},
            {"json": {"decision": "correct"}},
            {"status": 500, "repeat": 2},
        ]
    )
    asks = _data_proto(worker.input_tokenizer, "What is the small number, and is it the same 2.5?", dict(EXTRA_INFO))
    final = _data_proto(worker.input_tokenizer, "Final Answer: 12", {**EXTRA_INFO, "is_final_turn": True})
    failed = _data_proto(worker.input_tokenizer, "What is it?", dict(EXTRA_INFO))
    results = [await worker.compute_score(d) for d in (asks, final, failed)]
    assert [r["reward_score"] for r in results] == [1.0, 1.0, 0.0]
    assert [r["reward_extra_info"]["masked"] for r in results] == [0.0, 0.0, 1.0]
    assert "What is the small number, and is it the same 2.5?" in judge_server.requests()[0]["messages"][-1]["content"]
