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


class OnDriverNode:
    """A Ray actor class whose actors are placed on the driver's node: what ``run_ppo`` gets as its TaskRunner class.

    Why: the TaskRunner runs the trainer loop, the checkpoint callback and the ``serve`` evaluation backend's model
    server (on ``askrl.eval.gpus``, ids of that node), and writes the run dir's ``metrics.jsonl`` that the driver's
    console reads. On a multi-node cluster Ray could place it on any node with a free CPU; pinned, it runs where
    ``python -m askrl.train`` was started. ``run_ppo`` calls ``.remote()`` (or ``.options(...).remote()``) only
    after ``ray.init``, which is when the driver's node is known.
    """

    def __init__(self, actor_class: Any) -> None:
        self._actor_class = actor_class

    def options(self, **options: Any) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        node = ray.get_runtime_context().get_node_id()
        strategy = NodeAffinitySchedulingStrategy(node_id=node, soft=False)
        return self._actor_class.options(scheduling_strategy=strategy, **options)

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        return self.options().remote(*args, **kwargs)


def task_runner_class() -> OnDriverNode:
    """The TaskRunner class to pass to ``run_ppo``: one CPU, like VERL's own ``TaskRunnerV1``, on the driver's node."""
    return OnDriverNode(ray.remote(num_cpus=1)(AskrlTaskRunner))
