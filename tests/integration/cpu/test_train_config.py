"""askrl.train's config composition (VERL's ppo_trainer + askrl defaults + recipe + profile) and its dry run.

Covers: every recipe composes with profile=cpu; the CPU profile's overrides and their precedence (profile over
recipe, command line over both); the 0.9.1 reward key (not the legacy top-level one); model selection by
``askrl.cpu_model``; the dry run in a fresh process (VERL's own validation, resolved config, no Ray); errors for an
unknown recipe or model. Nothing is faked; the dry run builds the tiny model and smoke data under a temporary
ASKRL_HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from askrl.errors import ConfigError
from askrl.train.compose import compose_config, register_recipes


@pytest.mark.parametrize("recipe", register_recipes())
def test_every_recipe_composes_with_the_cpu_profile(recipe: str) -> None:
    cfg = compose_config([f"recipe={recipe}", "profile=cpu"])
    assert cfg.askrl.platform == "cpu" and cfg.actor_rollout_ref.rollout.name == "hf_cpu"


def test_cpu_profile_applies_what_cpu_needs() -> None:
    cfg = compose_config(["recipe=smoke", "profile=cpu"])
    actor, rollout = cfg.actor_rollout_ref.actor, cfg.actor_rollout_ref.rollout
    assert (actor.strategy, actor.fsdp_config.strategy, cfg.actor_rollout_ref.ref.fsdp_config.strategy) == (
        "fsdp2",
    ) * 3
    fp32 = {"param_dtype": "fp32", "reduce_dtype": "fp32", "buffer_dtype": "fp32"}
    assert actor.fsdp_config.mixed_precision == fp32 == cfg.actor_rollout_ref.ref.fsdp_config.mixed_precision
    assert rollout.dtype == "float32" and not actor.use_torch_compile
    assert cfg.actor_rollout_ref.model.override_config.attn_implementation == "sdpa"
    assert not cfg.actor_rollout_ref.model.use_remove_padding and not rollout.free_cache_engine
    assert rollout.tensor_model_parallel_size == 1 and rollout.engine_kwargs.hf_cpu.num_threads == 2
    assert cfg.transfer_queue.backend.SimpleStorage.num_data_storage_units == 2
    assert (cfg.trainer.device, cfg.trainer.n_gpus_per_node, list(cfg.trainer.logger)) == ("cpu", 1, ["console"])
    ray_init = cfg.ray_kwargs.ray_init
    assert (ray_init.address, ray_init.num_gpus, ray_init.num_cpus, ray_init.include_dashboard) == (
        "local",
        1,
        32,
        False,
    )
    assert (cfg.data.train_batch_size, cfg.data.max_prompt_length, cfg.data.max_response_length) == (2, 64, 16)


def test_recipe_uses_the_live_reward_key_and_grpo() -> None:
    cfg = compose_config(["recipe=smoke", "profile=cpu"])
    assert cfg.reward.custom_reward_function.path == "pkg://askrl.data.smoke"
    assert cfg.reward.custom_reward_function.name == "compute_score"
    assert cfg.custom_reward_function.path is None  # the legacy key 0.9.1 ignores stays unset
    assert cfg.algorithm.adv_estimator == "grpo" and cfg.actor_rollout_ref.rollout.n == 4


def test_precedence_recipe_then_profile_then_command_line() -> None:
    assert compose_config(["recipe=smoke"]).data.train_batch_size != 2  # VERL's default survives without a profile
    assert compose_config(["recipe=smoke", "profile=cpu"]).data.train_batch_size == 2
    cfg = compose_config(["recipe=smoke", "profile=cpu", "data.train_batch_size=8", "trainer.total_training_steps=5"])
    assert cfg.data.train_batch_size == 8 and cfg.trainer.total_training_steps == 5


def test_cpu_model_selects_the_offline_model(smollm2_model: Path, tiny_model: Path) -> None:
    assert compose_config(["recipe=smoke", "profile=cpu"]).actor_rollout_ref.model.path == str(tiny_model)
    cfg = compose_config(["recipe=smoke", "profile=cpu", "askrl.cpu_model=smollm2"])
    assert cfg.actor_rollout_ref.model.path == str(smollm2_model)
    assert compose_config(["profile=cpu", "actor_rollout_ref.model.path=/m"]).actor_rollout_ref.model.path == "/m"


def test_unknown_recipe_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown recipe 'nope'.*smoke"):
        compose_config(["recipe=nope"])


def _train(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASKRL_HOME": str(home)}
    env.pop("VERL_PLATFORM", None)
    return subprocess.run(
        [sys.executable, "-m", "askrl.train", *args], env=env, capture_output=True, text=True, timeout=240
    )


def test_dry_run_validates_and_prints_the_resolved_config(tmp_path: Path) -> None:
    proc = _train(["recipe=smoke", "profile=cpu", "askrl.dry_run=true"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = yaml.safe_load(proc.stdout)
    assert cfg["actor_rollout_ref"]["model"]["path"] == str(tmp_path / "models" / "tiny")
    assert Path(cfg["data"]["train_files"]).is_file() and Path(cfg["data"]["val_files"]).is_file()
    env_vars = cfg["ray_kwargs"]["ray_init"]["runtime_env"]["env_vars"]
    assert env_vars["VERL_PLATFORM"] == "cpu" and "askrl.plugins" in env_vars["VERL_USE_EXTERNAL_MODULES"]
    assert cfg["ray_kwargs"]["ray_init"]["_temp_dir"] is None  # a private dir is made only when Ray starts
    assert Path(cfg["trainer"]["default_local_dir"]).is_absolute()
    assert "All configuration checks passed" in proc.stdout + proc.stderr  # VERL's validate_config ran


def test_bad_model_name_exits_2_with_the_fix(tmp_path: Path) -> None:
    proc = _train(["recipe=smoke", "profile=cpu", "askrl.cpu_model=nope", "askrl.dry_run=true"], tmp_path)
    assert proc.returncode == 2
    assert "askrl.cpu_model='nope'" in proc.stderr and "actor_rollout_ref.model.path" in proc.stderr
