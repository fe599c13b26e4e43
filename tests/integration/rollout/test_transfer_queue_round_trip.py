"""Clarify episodes through VERL's v1 worker into a real TransferQueue, and advantages from what comes back.

Real: Ray (local, 16 logical CPUs so TransferQueue's actors fit on a 2-core box), TransferQueue with one storage
unit, ``AgentLoopWorkerTQ``'s own ``_run_prompt`` -> ``_run_agent_loop`` (hydra instantiation from the shipped
YAML) -> ``_agent_loop_postprocess`` (``as_dict`` -> ``kv_batch_put``), the LLM judge over HTTP to the scripted
server, and VERL's ``compute_advantage_for_multi_trajectories`` on the fields the v1 trainer fetches. The worker
object is built without its Ray actor ``__init__`` (no rollout replicas); its policy is ``ScriptedPolicy``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from askrl import _verl
from askrl.rollout import AGENT_NAME
from reward.advantages import TURN_GRPO, register_advantage_estimators, turn_spans

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("judges_closed")]

UID = "clarify0"  # TransferQueue keys are "{uid}_{session}_{index}": no underscore in the uid
N = 4


@pytest.fixture(scope="module")
def transfer_queue() -> Iterator[object]:
    ray = pytest.importorskip("ray")
    tq = pytest.importorskip("transfer_queue")
    ray.init(num_cpus=16, include_dashboard=False, log_to_driver=False)
    try:
        tq.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1}}}))
        yield tq
        tq.close()
    finally:
        ray.shutdown()


def worker_for(config, server, tokenizer):
    """An ``AgentLoopWorkerTQ`` without its actor ``__init__``: just the attributes its methods read."""
    cls = _verl.AgentLoopWorkerTQ.__ray_actor_class__
    worker = cls.__new__(cls)
    worker.config = config
    worker.llm_client = server
    worker.tokenizer = tokenizer
    worker.processor = None
    worker.hf_model_type = "qwen2"
    worker.dataset_cls = _verl.RLHFDataset
    worker.tools = []
    worker.reward_loop_worker_handles = None
    worker.distillation_enabled = False
    return worker


async def test_episodes_round_trip_through_transfer_queue(kit, tokenizer, judge_server, transfer_queue):
    tq = transfer_queue
    kit.register_agent_loops()
    judge_server.reset()
    judge_server.script([{"status": 500}])  # exactly one judge call fails: one trajectory must come back masked
    config = kit.trainer_config(
        askrl={"judge": kit.llm_judge_block(judge_server.base_url), "rollout": {"speculative_user_reply": False}}
    )
    config.actor_rollout_ref.rollout.n = N
    config.actor_rollout_ref.rollout.val_kwargs = {"n": 1}
    scripts = [[kit.GOOD_ASK, kit.ANSWER], [kit.ANSWER], [kit.USELESS_ASK], [kit.GOOD_ASK, kit.ANSWER]]
    server = kit.ScriptedPolicy(tokenizer, scripts=scripts)
    worker = worker_for(config, server, tokenizer)
    prompt = {"uid": UID, "global_steps": 1, "agent_name": AGENT_NAME, **kit.row_kwargs(kit.MIND)}
    trajectory = {"step": 1, "sample_index": 0, "rollout_n": 0, "validate": False}

    await worker._run_prompt(dict(prompt), dict(kit.SAMPLING), trajectory=trajectory)

    listing = (await tq.async_kv_list(partition_id="train"))["train"]
    assert listing[UID]["status"] == "finished"
    keys = [f"{UID}_{i}_0" for i in range(N)]
    assert all(listing[k]["status"] == "success" for k in keys)

    fields = ["uid", "responses", "response_mask", "loss_mask", "rm_scores", "extra_fields", "num_turns"]
    data = await tq.async_kv_batch_get(keys=keys, partition_id="train", select_fields=fields)
    extra = data.pop("extra_fields").tolist()
    infos = [e["reward_extra_info"] for e in extra]
    masked_rows = [i for i, info in enumerate(infos) if info["masked"] == 1.0]
    assert len(masked_rows) == 1

    responses = data["responses"].unbind(0)
    masks = data["response_mask"].unbind(0)
    losses = data["loss_mask"].unbind(0)
    scores = data["rm_scores"].unbind(0)
    for i in range(N):
        assert torch.equal(losses[i], masks[i])
        assert scores[i].shape == masks[i].shape == responses[i].shape
        if i in masked_rows:
            assert masks[i].sum() == 0 and scores[i].abs().sum() == 0
            continue
        spans = turn_spans(masks[i])
        ends = [e - 1 for _, e in spans]
        assert scores[i].nonzero().flatten().tolist() == [p for p in ends if scores[i][p] != 0]
        assert scores[i].sum().item() == pytest.approx(infos[i]["score"])
        assert [t["end"] for t in extra[i]["askrl_turns"]] == ends
        assert infos[i]["rollout/num_turns"] == len(spans)

    # advantages exactly as the v1 trainer's _compute_advantage computes them
    register_advantage_estimators()
    fetched = await tq.async_kv_batch_get(
        keys=keys, partition_id="train", select_fields=["uid", "response_mask", "rm_scores"]
    )
    proto = _verl.DataProto(batch=fetched.to_padded_tensor())
    proto.batch["token_level_rewards"] = proto.batch["rm_scores"]
    proto.non_tensor_batch["uid"] = np.array(proto.batch.pop("uid").tolist(), dtype=object)
    algo = OmegaConf.create({"adv_estimator": TURN_GRPO, "norm_adv_by_std_in_grpo": True})
    out = _verl.compute_advantage_for_multi_trajectories(proto, batch_keys=keys, adv_estimator=TURN_GRPO, config=algo)
    advantages = out.batch["advantages"]
    assert advantages[masked_rows[0]].abs().sum() == 0
    first_turn = [
        float(advantages[i, turn_spans(proto.batch["response_mask"][i])[0][0]])
        for i in range(N)
        if i not in masked_rows
    ]
    assert sum(first_turn) == pytest.approx(0.0, abs=1e-5)
    assert torch.all(advantages[proto.batch["response_mask"] == 0] == 0)


async def test_dapo_group_filter_ignores_the_masked_trajectory(kit, tokenizer, judge_server, transfer_queue):
    """Four episodes answer at once (each -1.0: correct, premature), one is masked by a judge failure: VERL's own
    filter sees (-1, -1, -1, 0) and keeps the group; askrl's sampler sees three equal valid returns and filters it."""
    import asyncio

    from askrl.rollout.group_filter import mask_aware_replay_buffer

    uid = "filter0"
    kit.register_agent_loops()
    judge_server.reset()
    judge_server.script([{"status": 500}])
    config = kit.trainer_config(
        askrl={"judge": kit.llm_judge_block(judge_server.base_url), "rollout": {"speculative_user_reply": False}}
    )
    config.actor_rollout_ref.rollout.n = N
    config.actor_rollout_ref.rollout.val_kwargs = {"n": 1}
    worker = worker_for(config, kit.ScriptedPolicy(tokenizer, [kit.ANSWER]), tokenizer)
    prompt = {"uid": uid, "global_steps": 1, "agent_name": AGENT_NAME, **kit.row_kwargs(kit.MIND)}
    await worker._run_prompt(
        dict(prompt), dict(kit.SAMPLING), trajectory={"step": 1, "sample_index": 0, "rollout_n": 0, "validate": False}
    )
    keys = [f"{uid}_{i}_0" for i in range(N)]
    scores = await transfer_queue.async_kv_batch_get(keys=keys, partition_id="train", select_fields=["rm_scores"])
    assert sorted(round(float(s.sum()), 6) for s in scores["rm_scores"].unbind(0)) == [-1.0, -1.0, -1.0, 0.0]

    base = {
        "trainer_mode": "sync",
        "trainer_config": OmegaConf.create({}),
        "max_off_policy_threshold": None,
        "max_off_policy_strategy": "drop",
        "refill_fn": lambda n: None,
    }
    options = {"filter_groups_metric": "reward", "train_batch_size": 1, "max_inflight_gen_batches": 1}
    ours = mask_aware_replay_buffer(**base, sampler_kwargs=OmegaConf.create(options))
    verls = _verl.ReplayBuffer(
        **base, sampler_kwargs=OmegaConf.create({}), filter_groups_metric="reward", train_batch_size=1, gen_batch_size=1
    )
    for buffer in (ours, verls):
        buffer.partitions["train"] = {key: {} for key in keys}
        buffer.finished_keys["train"] = {uid}
    assert await asyncio.to_thread(verls._dapo_filtered_keys, "train") == (set(), {})  # the placeholder counted
    filtered, counts = await asyncio.to_thread(ours._dapo_filtered_keys, "train")
    assert filtered == {uid} and counts == {-1.0: 1}
