"""A task recipe trains for 2 steps under the CPU profile, exactly as ``python -m askrl.train recipe=NAME`` runs on a
machine without a GPU: the auto CPU profile, the lexical judge, generated demo records, the clarify loop, askrl's
advantages and askrl's trainer metrics, through VERL's real trainer.

Two runs cover the four recipes' parts (AskMind and AskOverconfidence, GRPO and DAPO): this file trains
``overconfidence_dapo`` (DAPO's group filter on AskOverconfidence episodes) and ``test_console.py``'s run is
``askmind_grpo``, both checked by ``check_two_recipe_steps``. Every recipe also passes VERL's config validation and
askrl's preflight in a dry run (``tests/integration/cpu/test_train_config.py``), which is where a recipe's own
mistake shows; a launch costs about a minute of the suite's 2 cores.

Only the policy is swapped for the tiny model (``askrl.cpu_model=tiny``) to keep CI time down; the README's demo
runs SmolLM2. A random tiny model rarely ends its turn, so its first turn is usually cut at the per-turn cap and
graded by a guard: the episodes are short, but every stage (generation, grading, placement, advantage, update,
metrics) runs. Metrics come from VERL's file logger; wandb runs offline into a temporary directory.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RECIPES = ["overconfidence_dapo"]
TIMEOUT_S = 600


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_trains_two_steps_on_cpu(recipe: str, tmp_path: Path, tiny_model: Path, run_bounded,
                                       check_two_recipe_steps) -> None:
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
        "askrl.cpu.eval_suites=[]",  # checkpoint evaluation has its own tests (test_checkpoint_eval.py)
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

    steps = {r["step"]: r["data"] for r in map(json.loads, metrics_path.read_text().splitlines())}  # VERL's file logger
    check_two_recipe_steps(steps, tmp_path / "ckpt" / "conversations.jsonl", tmp_path)
