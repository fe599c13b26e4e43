"""The one module that imports ``verl``: every VERL name askrl uses, resolved lazily, plus the version check.

Why: askrl pins ``verl==0.9.1`` and leans on parts of it that move between releases (the agent-loop token
helpers, the private rollout registry, the checkpoint callback). Keeping every import here means a VERL upgrade
touches this file (and ``askrl/plugins.py``), and a unit test checks that no other module imports ``verl``.

Names resolve on first attribute access, so ``import askrl._verl`` costs nothing until a VERL name is used
(importing VERL takes several seconds).

    from askrl import _verl
    _verl.AgentLoopBase          # verl.experimental.agent_loop.agent_loop.AgentLoopBase
    _verl.check_version()        # raises ConfigError on a VERL other than 0.9.1
"""

from __future__ import annotations

import importlib
from typing import Any

from askrl.errors import ConfigError

VERL_VERSION = "0.9.1"

# name -> "module:attribute" (or "module" for a whole module). Add a row when askrl needs another VERL name.
_EXPORTS: dict[str, str] = {
    # core
    "verl": "verl",
    "DataProto": "verl.protocol:DataProto",
    "core_algos": "verl.trainer.ppo.core_algos",
    "register_adv_est": "verl.trainer.ppo.core_algos:register_adv_est",
    "get_adv_estimator_fn": "verl.trainer.ppo.core_algos:get_adv_estimator_fn",
    "RLHFDataset": "verl.utils.dataset.rl_dataset:RLHFDataset",
    # agent loop
    "agent_loop_module": "verl.experimental.agent_loop.agent_loop",
    "AgentLoopBase": "verl.experimental.agent_loop.agent_loop:AgentLoopBase",
    "AgentLoopOutput": "verl.experimental.agent_loop.agent_loop:AgentLoopOutput",
    "AgentLoopMetrics": "verl.experimental.agent_loop.agent_loop:AgentLoopMetrics",
    "DictConfigWrap": "verl.experimental.agent_loop.agent_loop:DictConfigWrap",
    "AgentLoopWorkerTQ": "verl.trainer.ppo.v1.agent_loop_tq:AgentLoopWorkerTQ",
    "compute_advantage_for_multi_trajectories": "verl.trainer.ppo.v1.utils:compute_advantage_for_multi_trajectories",
    # rollout
    "TokenOutput": "verl.workers.rollout.replica:TokenOutput",
    "RolloutReplica": "verl.workers.rollout.replica:RolloutReplica",
    "RolloutReplicaRegistry": "verl.workers.rollout.replica:RolloutReplicaRegistry",
    "RolloutMode": "verl.workers.rollout.replica:RolloutMode",
    "RolloutConfig": "verl.workers.config:RolloutConfig",
    "HFModelConfig": "verl.workers.config:HFModelConfig",
    "ensure_async_iterator": "verl.workers.rollout.utils:ensure_async_iterator",
    "BaseRollout": "verl.workers.rollout.base:BaseRollout",
    "rollout_base_module": "verl.workers.rollout.base",
    # VERL's vLLM rollout (only importable where vLLM is installed: askrl.cpu.vllm_reload)
    "vLLMColocateWorkerExtension": "verl.workers.rollout.vllm_rollout.utils:vLLMColocateWorkerExtension",
    "BucketedWeightReceiver": "verl.workers.rollout.vllm_rollout.bucketed_weight_transfer:BucketedWeightReceiver",
    # platform
    "PlatformBase": "verl.plugin.platform.platform_base:PlatformBase",
    "PlatformRegistry": "verl.plugin.platform.platform_manager:PlatformRegistry",
    "platform_manager": "verl.plugin.platform.platform_manager",
    # trainer, checkpoints
    "main_ppo": "verl.trainer.main_ppo",
    "run_ppo": "verl.trainer.main_ppo:run_ppo",
    "TaskRunnerV1": "verl.trainer.main_ppo:TaskRunnerV1",
    "auto_set_device": "verl.utils.device:auto_set_device",
    "validate_config": "verl.utils.config:validate_config",
    "omega_conf_to_dataclass": "verl.utils.config:omega_conf_to_dataclass",
    "need_critic": "verl.trainer.ppo.utils:need_critic",
    "need_reference_policy": "verl.trainer.ppo.utils:need_reference_policy",
    "PPOTrainerSync": "verl.trainer.ppo.v1.trainer_sync:PPOTrainerSync",
    "PPOTrainerColocateAsync": "verl.trainer.ppo.v1.trainer_colocate_async:PPOTrainerColocateAsync",
    "PPOTrainerSeparateAsync": "verl.trainer.ppo.v1.trainer_separate_async:PPOTrainerSeparateAsync",
    "ReplayBuffer": "verl.trainer.ppo.v1.replay_buffer:ReplayBuffer",
    "ReplayBufferAsync": "verl.trainer.ppo.v1.replay_buffer:ReplayBufferAsync",
    "replay_buffer_module": "verl.trainer.ppo.v1.replay_buffer",
    "TRAINER_REGISTRY": "verl.trainer.ppo.v1.trainer_base:TRAINER_REGISTRY",
    "CheckpointCallback": "verl.trainer.ppo.checkpoint_callback:CheckpointCallback",
    "build_checkpoint_callback": "verl.trainer.ppo.checkpoint_callback:build_checkpoint_callback",
    "ModelMergerConfig": "verl.model_merger.base_model_merger:ModelMergerConfig",
    "FSDPModelMerger": "verl.model_merger.fsdp_model_merger:FSDPModelMerger",
    # reward loop (the rubric reward as a custom reward function)
    "RewardLoopWorker": "verl.experimental.reward_loop.reward_loop:RewardLoopWorker",
    "get_custom_reward_fn": "verl.trainer.ppo.reward:get_custom_reward_fn",
}


def __getattr__(name: str) -> Any:
    try:
        target = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"askrl._verl has no VERL export {name!r}; add it to _EXPORTS") from None
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def installed_version() -> str | None:
    """The installed VERL version, or None when VERL is not installed (read from metadata, without importing it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("verl")
    except PackageNotFoundError:
        return None


def check_version() -> None:
    """Refuse to run on a VERL other than the pinned one: askrl relies on 0.9.1's private layout."""
    found = installed_version()
    if found != VERL_VERSION:
        raise ConfigError(
            f"askrl needs verl=={VERL_VERSION}, found {found or 'no verl'}; run `bash scripts/setup.sh` or "
            f"`pip install verl=={VERL_VERSION}`"
        )
