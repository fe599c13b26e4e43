"""Each task recipe trains for 2 steps under the CPU profile, exactly as ``python -m askrl.train recipe=NAME`` runs
on a machine without a GPU: the auto CPU profile, the lexical judge, generated demo records, the clarify loop,
askrl's advantages and askrl's trainer metrics, through VERL's real trainer.

Only the policy is swapped for the tiny model (``askrl.cpu_model=tiny``) to keep CI time down; the README's demo
runs SmolLM2. A random tiny model rarely ends its turn, so its first turn is usually cut at the per-turn cap and
graded by a guard: the episodes are short, but every stage (generation, grading, placement, advantage, update,
metrics) runs. Metrics come from VERL's file logger; wandb runs offline into a temporary directory.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RECIPES = ["askmind_grpo", "askmind_dapo", "overconfidence_grpo", "overconfidence_dapo"]
TIMEOUT_S = 600


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_trains_two_steps_on_cpu(recipe: str, tmp_path: Path, tiny_model: Path, run_bounded) -> None:
    metrics_path = tmp_path / "metrics.jsonl"
    ray_dir = tempfile.mkdtemp(prefix="askrl-rcp-", dir="/tmp")
    env = {
        **os.environ,
        "VERL_FILE_LOGGER_PATH": str(metrics_path),
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "ASKRL_DATA_DIR": "",
    }
    env.pop("VERL_PLATFORM", None)
    cmd = [
        sys.executable, "-m", "askrl.train", f"recipe={recipe}",
        "askrl.cpu_model=tiny",
        "askrl.tracking.conversations_every=1",
        "trainer.logger=[console,file,wandb]",
        "trainer.save_freq=-1",
        f"trainer.default_local_dir={tmp_path / 'ckpt'}",
        f"ray_kwargs.ray_init._temp_dir={ray_dir}",
    ]  # fmt: skip
    code, wall_s = run_bounded(cmd, env=env, timeout_s=TIMEOUT_S, log=tmp_path / "train.log")
    log = (tmp_path / "train.log").read_text(errors="replace")
    assert code == 0, log[-6000:]
    print(f"{recipe}: 2 CPU steps in {wall_s:.1f}s")
    assert "askrl: no GPU found: running the CPU profile" in log

    steps = {r["step"]: r["data"] for r in map(json.loads, metrics_path.read_text().splitlines())}
    assert sorted(steps) == [1, 2]
    for step, m in steps.items():
        assert math.isfinite(m["actor/pg_loss"]), (step, m["actor/pg_loss"])
        # askrl's own training-step metrics (VERL logs none of these on training steps)
        assert m["reward/trajectories"] == 2 * 4, m  # 2 prompts x rollout_n 4 under the CPU profile
        assert "rollout/num_turns/mean" in m and "reward/masked_frac" in m
        assert m["reward/masked_frac"] == 0.0  # the lexical judge never fails
        assert math.isfinite(m["reward/episode/mean"])
    conversations = (tmp_path / "ckpt" / "conversations.jsonl").read_text().splitlines()
    assert conversations and json.loads(conversations[0])["conversation"].startswith("USER: ")
    assert list(tmp_path.glob("wandb/offline-run-*")), "wandb did not log offline"
