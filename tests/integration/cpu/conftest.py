"""Fixtures for the CPU backend's integration tests: VERL's real rollout/model configs for the tiny model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf


def _rollout_config(**overrides: Any) -> Any:
    from askrl import _verl

    base = {
        "name": "hf_cpu",
        "prompt_length": 64,
        "response_length": 16,
        "dtype": "float32",
        "tensor_model_parallel_size": 1,
        "max_num_seqs": 16,
        "engine_kwargs": {"hf_cpu": {"batch_wait_ms": 20}},
    }
    return _verl.omega_conf_to_dataclass(OmegaConf.create({**base, **overrides}), dataclass_type=_verl.RolloutConfig)


@pytest.fixture
def rollout_config() -> Callable[..., Any]:
    """Builds VERL's ``RolloutConfig`` as the profile=cpu run does (lengths 64/16, fp32), plus keyword overrides."""
    return _rollout_config


@pytest.fixture
def model_config(tiny_model: Path) -> Any:
    """``actor_rollout_ref.model`` as VERL hands it to a replica: a DictConfig, converted by the server."""
    return OmegaConf.create({"path": str(tiny_model), "override_config": {"attn_implementation": "sdpa"}})
