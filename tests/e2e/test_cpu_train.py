"""End to end on CPU: ``python -m askrl.train recipe=smoke profile=cpu`` runs VERL 0.9.1's real GRPO trainer.

What runs (nothing faked): the tiny Qwen2 trains for 2 GRPO steps with VERL's v1 sync trainer, FSDP2 actor over
gloo, the ``hf_cpu`` rollout server, VERL's agent loop, TransferQueue and reward loop; the step-2 checkpoint is
merged by ``python -m verl.model_merger merge --backend fsdp`` and transformers loads and generates from it.

What is checked: exit code 0; finite losses and rewards and a non-zero gradient each step; the actor's weights
change (the rollout server's weight checksum after each sync, logged by ``askrl.cpu.server``, and the merged
checkpoint vs the initial model); the rollout generated with the synced weights (VERL's
``training/rollout_actor_probs_pearson_corr`` and ``training/rollout_probs_diff_mean``; the learning rate is raised
to 1e-3 so that a rollout left on stale weights would show there, see docs/cpu_feasibility.md §7).

Metrics come from VERL's own ``file`` logger (JSONL, ``VERL_FILE_LOGGER_PATH``). Every subprocess runs in its own
session under a hard timeout; on exit everything left in that session (Ray's raylet, GCS, workers) is killed, because
a failing Ray actor hangs instead of exiting.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

TRAIN_TIMEOUT_S = 420
MERGE_TIMEOUT_S = 300
CHECKSUM_LINE = re.compile(r"hf_cpu weights loaded: replica=0 global_steps=(\d+) tensors=\d+ checksum=([0-9a-f]+)")
READY_LINE = re.compile(r"hf_cpu server 0 ready: .* checksum=([0-9a-f]+)")


@dataclass
class SmokeRun:
    code: int
    wall_s: float
    log: str
    metrics: dict[int, dict[str, float]]
    checkpoint: Path
    workdir: Path


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, run_bounded) -> Iterator[SmokeRun]:
    workdir = tmp_path_factory.mktemp("cpu_train")
    ray_dir = tempfile.mkdtemp(prefix="askrl-e2e-", dir="/tmp")  # short: Ray socket paths must stay < 108 bytes
    metrics_path = workdir / "metrics.jsonl"
    env = {
        **os.environ,
        "VERL_FILE_LOGGER_PATH": str(metrics_path),  # read by VERL's file logger in the TaskRunner
        "RAY_DEDUP_LOGS": "0",  # keep every server log line (checksums)
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "askrl.train",
        "recipe=smoke",
        "profile=cpu",
        f"trainer.default_local_dir={workdir / 'ckpt'}",
        "trainer.logger=[console,file]",
        f"ray_kwargs.ray_init._temp_dir={ray_dir}",
        # A visible step per update, so that stale rollout weights would break the rollout/actor agreement.
        "actor_rollout_ref.actor.optim.lr=1e-3",
        "askrl.verbose=true",  # the rollout server's checksum lines are read from the console
    ]
    try:
        code, wall_s = run_bounded(cmd, env=env, timeout_s=TRAIN_TIMEOUT_S, log=workdir / "train.log")
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    log = (workdir / "train.log").read_text(errors="replace")
    metrics = {}
    if metrics_path.is_file():
        for line in metrics_path.read_text().splitlines():
            record = json.loads(line)
            metrics[record["step"]] = record["data"]
    print(f"e2e smoke train wall time: {wall_s:.1f}s")  # shown with -s; the README quotes it
    yield SmokeRun(code, wall_s, log, metrics, workdir / "ckpt", workdir)


def test_trainer_exits_cleanly_after_two_steps(smoke_run: SmokeRun) -> None:
    assert smoke_run.code == 0, smoke_run.log[-6000:]
    assert sorted(smoke_run.metrics) == [1, 2]


@pytest.mark.parametrize("step", [1, 2])
def test_losses_and_rewards_are_finite_and_the_gradient_is_not_zero(smoke_run: SmokeRun, step: int) -> None:
    m = smoke_run.metrics[step]
    for key in ("actor/pg_loss", "actor/grad_norm", "critic/score/mean", "critic/rewards/mean", "actor/entropy"):
        assert math.isfinite(m[key]), (key, m[key])
    assert m["actor/grad_norm"] > 0, "all-zero advantages: the smoke reward gave no in-group variance"
    assert m["critic/advantages/max"] > 0


def test_actor_weights_change_and_reach_the_rollout_server(smoke_run: SmokeRun) -> None:
    checksums = {int(step): digest for step, digest in CHECKSUM_LINE.findall(smoke_run.log)}
    assert sorted(checksums) == [0, 1, 2], smoke_run.log[-4000:]
    # Step 0 syncs the actor's initial weights: identical to what the server loaded from disk, so every name mapped.
    assert checksums[0] == READY_LINE.search(smoke_run.log).group(1)
    assert len({checksums[0], checksums[1], checksums[2]}) == 3


@pytest.mark.parametrize("step", [1, 2])
def test_rollout_generated_with_the_synced_weights(smoke_run: SmokeRun, step: int) -> None:
    m = smoke_run.metrics[step]
    # The server's log-probs (at generation) against the actor's recomputation (before the update): equal weights
    # give float noise (~1e-9 with the fp32 profile); one lr=1e-3 step stale gave Pearson ~0.45-0.48 and a mean
    # |dp| ~4e-4 (checked by a negative control that skipped the sync).
    assert m["training/rollout_actor_probs_pearson_corr"] > 0.99
    assert m["training/rollout_probs_diff_mean"] < 1e-4


def test_checkpoint_merges_into_hf_and_generates(smoke_run: SmokeRun, tiny_model: Path, run_bounded) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    actor_dir = smoke_run.checkpoint / "global_step_2" / "actor"
    assert (actor_dir / "model_world_size_1_rank_0.pt").is_file()
    # askrl's checkpoint callback (trainer.checkpoint_callback_class) ran in the trainer after the save
    provenance = json.loads((smoke_run.checkpoint / "global_step_2" / "askrl_provenance.json").read_text())
    assert provenance["global_step"] == 2 and provenance["experiment"] == "smoke"
    merged = smoke_run.workdir / "merged"
    cmd = [sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp"]
    cmd += ["--local_dir", str(actor_dir), "--target_dir", str(merged)]
    code, _ = run_bounded(cmd, env=dict(os.environ), timeout_s=MERGE_TIMEOUT_S, log=smoke_run.workdir / "merge.log")
    assert code == 0, (smoke_run.workdir / "merge.log").read_text()[-4000:]

    tokenizer = AutoTokenizer.from_pretrained(merged)
    model = AutoModelForCausalLM.from_pretrained(merged).eval()
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 12 + 7? Answer after ####."}], add_generation_prompt=True
    )["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=8, do_sample=False, pad_token_id=0)
    assert out.shape[1] > len(prompt)

    # The merger writes bf16; compare with the initial model rounded the same way: training moved the weights.
    initial = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.bfloat16).state_dict()
    trained = model.to(torch.bfloat16).state_dict()
    changed = [name for name, tensor in trained.items() if not torch.equal(tensor, initial[name])]
    assert len(changed) >= len(trained) // 2, f"only {len(changed)}/{len(trained)} tensors changed"
