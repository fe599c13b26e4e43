"""Trainer modes checked before Ray starts (``askrl.trainer.modes``): VERL's separate_async asserts as one line."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from askrl.errors import ConfigError
from askrl.trainer.modes import check_trainer_mode


def cfg(mode: str | None, *, device: str = "cuda", backend: str = "nccl", nnodes: int = 1, batch: int = 64) -> object:
    return OmegaConf.create(
        {
            "trainer": {"device": device, "v1": {"trainer_mode": mode, "separate_async": {"parameter_sync_step": 4}}},
            "data": {"train_batch_size": batch},
            "actor_rollout_ref": {
                "actor": {"ppo_mini_batch_size": 16},
                "rollout": {"nnodes": nnodes, "n_gpus_per_node": 8, "checkpoint_engine": {"backend": backend}},
            },
        }
    )


def test_sync_and_colocate_async_pass_on_any_device() -> None:
    assert check_trainer_mode(cfg(None, device="cpu")) == "sync"
    assert check_trainer_mode(cfg("colocate_async", device="cpu")) == "colocate_async"


def test_separate_async_passes_where_its_pool_and_engine_exist() -> None:
    assert check_trainer_mode(cfg("separate_async")) == "separate_async"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"device": "cpu"}, "CPU profile has none"),
        ({"backend": "naive"}, "checkpoint_engine.backend=nccl"),
        ({"nnodes": 0}, "rollout.nnodes > 0"),
        ({"batch": 48}, r"train_batch_size \(48\) = .*parameter_sync_step \(4\) x .*ppo_mini_batch_size \(16\)"),
    ],
)
def test_separate_async_is_refused_with_the_key_to_fix(overrides: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_trainer_mode(cfg("separate_async", **overrides))


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="not one of VERL's trainer modes"):
        check_trainer_mode(cfg("fully_async"))
