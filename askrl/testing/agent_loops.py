"""askrl's agent loops built outside VERL's ``AgentLoopWorker``, exactly as the worker builds them.

Who uses it: the rollout benchmark (``askrl.bench.rollout``) and the rollout integration tests, which drive the
clarify and offline turn loops against a policy server and a judge without a trainer. Importing this module
imports VERL (through ``askrl._verl``).
"""

from __future__ import annotations

from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from askrl import _verl
from askrl.rollout import AGENT_NAME, agent_loop_config_path


def register_agent_loops() -> dict[str, Any]:
    """Load the shipped ``agent_loops.yaml`` into VERL's registry, as ``AgentLoopWorker.__init__`` does."""
    registry = _verl.agent_loop_module._agent_loop_registry
    for entry in OmegaConf.load(agent_loop_config_path()):
        registry[entry.name] = entry
    return registry


def build_loop(config: DictConfig, server: Any, tokenizer: Any, name: str = AGENT_NAME) -> Any:
    """The agent loop registered as ``name`` (default: the clarify loop), built like
    ``AgentLoopWorker._run_agent_loop`` builds one (call inside a running loop)."""
    return hydra.utils.instantiate(
        config=register_agent_loops()[name],
        trainer_config=_verl.DictConfigWrap(config=config),
        server_manager=server,
        tokenizer=tokenizer,
        processor=None,
        hf_model_type="qwen2",
        dataset_cls=_verl.RLHFDataset,
        data_config=_verl.DictConfigWrap(config.data),
    )
