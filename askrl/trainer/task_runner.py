"""The Ray actor that runs VERL's v1 trainer for askrl: VERL's ``TaskRunnerV1`` with askrl's plugins loaded first
and askrl's trainers (VERL's three, each plus step metrics and the other hooks of :mod:`askrl.trainer.hooks`) in
place of VERL's.

Why: VERL resolves advantage estimators, rollout backends and platforms by name inside this actor; its registries
are per process, so ``askrl.plugins`` must be imported here before ``TaskRunnerV1.run`` does anything. (With the
CPU backend VERL already imports it through ``VERL_USE_EXTERNAL_MODULES``; the explicit import covers GPU runs.)

Who calls it: ``askrl.train.launch`` hands :func:`task_runner_class` to VERL's ``run_ppo``. Importing this module
imports VERL (seconds), so ``askrl.train`` imports it only when it launches.

    from askrl.trainer.task_runner import task_runner_class
    _verl.run_ppo(config, task_runner_class=task_runner_class())
"""

from __future__ import annotations

import importlib
from typing import Any

import ray

from askrl import _verl


class AskrlTaskRunner(_verl.TaskRunnerV1.__ray_actor_class__):  # type: ignore[misc,name-defined]
    """``TaskRunnerV1`` that imports ``askrl.plugins`` in its own process before running the trainer."""

    def run(self, config: Any) -> None:
        importlib.import_module("askrl.plugins")
        use_askrl_trainer()
        super().run(config)


def use_askrl_trainer() -> None:
    """Serve VERL's ``sync``, ``colocate_async`` and ``separate_async`` trainer names with askrl's subclasses (step
    metrics, sample conversations, checkpoint evaluation) in this process.

    The names stay VERL's on purpose: VERL branches on ``trainer_mode == "sync"`` in many places, and a new mode
    name would silently switch to async semantics. Only this (TaskRunner) process's registry changes.
    """
    from askrl.trainer.hooks import AskTrainerColocateAsync, AskTrainerSeparateAsync, AskTrainerSync

    registry = _verl.TRAINER_REGISTRY
    modes = {
        "sync": AskTrainerSync,
        "colocate_async": AskTrainerColocateAsync,
        "separate_async": AskTrainerSeparateAsync,
    }
    for mode, cls in modes.items():
        if registry.get(mode) is cls:
            continue
        if not issubclass(cls, registry[mode]):
            raise RuntimeError(f"VERL's {mode} trainer is {registry[mode]!r}, not the class {cls.__name__} extends")
        registry[mode] = cls


def task_runner_class() -> Any:
    """The Ray actor class to pass to ``run_ppo`` (one CPU, like VERL's own ``TaskRunnerV1``)."""
    return ray.remote(num_cpus=1)(AskrlTaskRunner)
