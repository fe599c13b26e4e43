"""Which of VERL's trainer modes (``trainer.v1.trainer_mode``) an askrl run may use, checked before Ray starts.

Why: VERL checks the async modes' requirements with ``assert`` inside the TaskRunner actor, after Ray started and
the workers were built, where a failure hangs or scrolls by in a remote traceback. askrl's trainer hooks (step
metrics, sample conversations, checkpoint evaluation: :mod:`askrl.trainer.hooks`) serve all three modes;
``separate_async`` runs only where its resource pools exist (tested end to end: ``sync`` and ``colocate_async`` on
CPU; ``separate_async`` needs GPUs and is not).

- ``sync``: rollout, then training, then the weight update; the judge is on the critical path of every step.
- ``colocate_async``: trainer and rollout share the devices; when a step has its batch, unfinished episodes are
  paused (VERL's ``FullyAsyncLLMServerClient`` resumes their generation after the weight update, invisibly to the
  agent loop) and episodes waiting on the judge keep waiting while the actor trains. Trajectories may then span
  policy versions; VERL bounds and records that (``trainer.v1.sampler.max_off_policy_threshold``, its
  ``*/off_policy/*staleness*`` metrics).
- ``separate_async``: a separate rollout pool (``actor_rollout_ref.rollout.nnodes`` x ``n_gpus_per_node``) that
  never pauses, weights sent by a GPU checkpoint engine (nccl, nixl, mooncake), one update every
  ``parameter_sync_step`` mini-batches. Not on the CPU profile: gloo has no such engine (VERL refuses ``naive``).

How it fails: ``ConfigError`` naming the key and the fix.

    check_trainer_mode(cfg)     # after VERL's validation (``trainer.device`` is set), before Ray starts
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from askrl.errors import ConfigError

MODES = ("sync", "colocate_async", "separate_async")
KEY = "trainer.v1.trainer_mode"


def _get(cfg: DictConfig, key: str) -> Any:
    return OmegaConf.select(cfg, key, default=None)


def check_trainer_mode(cfg: DictConfig) -> str:
    """The run's trainer mode, after checking that askrl and this machine can run it."""
    mode = _get(cfg, KEY) or "sync"
    if mode not in MODES:
        raise ConfigError(f"{KEY}={mode!r} is not one of VERL's trainer modes {list(MODES)}")
    if mode == "separate_async":
        _check_separate_async(cfg)
    return str(mode)


def _check_separate_async(cfg: DictConfig) -> None:
    """VERL's ``PPOTrainerSeparateAsync.__init__`` assertions, as one-line errors before Ray starts."""
    if _get(cfg, "trainer.device") == "cpu":
        raise ConfigError(
            f"{KEY}=separate_async sends weights from the trainer to a separate rollout pool through a GPU "
            "checkpoint engine (nccl, nixl or mooncake); the CPU profile has none: use colocate_async or sync"
        )
    backend = _get(cfg, "actor_rollout_ref.rollout.checkpoint_engine.backend")
    if backend in (None, "naive"):
        raise ConfigError(
            f"{KEY}=separate_async needs actor_rollout_ref.rollout.checkpoint_engine.backend=nccl (or nixl, "
            f"mooncake), got {backend!r}"
        )
    for key in ("actor_rollout_ref.rollout.nnodes", "actor_rollout_ref.rollout.n_gpus_per_node"):
        if not (_get(cfg, key) or 0) > 0:
            raise ConfigError(f"{KEY}=separate_async needs a separate rollout pool: set {key} > 0")
    batch = _get(cfg, "data.train_batch_size")
    mini = _get(cfg, "actor_rollout_ref.actor.ppo_mini_batch_size")
    sync_step = _get(cfg, "trainer.v1.separate_async.parameter_sync_step")
    if batch != sync_step * mini:
        raise ConfigError(
            f"{KEY}=separate_async needs data.train_batch_size ({batch}) = trainer.v1.separate_async."
            f"parameter_sync_step ({sync_step}) x actor_rollout_ref.actor.ppo_mini_batch_size ({mini})"
        )
