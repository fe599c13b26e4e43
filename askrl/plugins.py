"""Every registration askrl makes into VERL's registries, run in every process that imports it.

Why: VERL's registries are per process, and VERL resolves names in Ray workers that run no askrl code. VERL
imports the modules listed in ``VERL_USE_EXTERNAL_MODULES`` when ``verl`` itself is imported, so ``askrl.train``
lists this module there (see :mod:`askrl.cpu.env`); ``askrl.trainer.task_runner`` also imports it in the trainer's
TaskRunner before anything resolves a name.

What it registers, at import (idempotent):
- askrl's advantage estimators (``reward.advantages``), always;
- with ``VERL_PLATFORM=cpu``: platform ``cpu`` (:mod:`askrl.cpu.platform`), rollout replica ``hf_cpu``
  (``RolloutReplicaRegistry.register``) and its trainer-side adapter (``_ROLLOUT_REGISTRY[("hf_cpu", "async")]``,
  VERL's private dict, written only after checking the VERL version and that the dict exists);
- the level of the ``askrl`` logger from ``ASKRL_LOG_LEVEL`` (Ray workers run no entry point that could set it).

Imports VERL only through ``askrl._verl``; loading this module is cheap when the CPU backend is not selected.
Raises :class:`askrl.errors.ConfigError` if VERL's private rollout registry is not where 0.9.1 keeps it.

    import askrl.plugins                     # registers (again: no-op)
    askrl.plugins.register_cpu_backend()     # explicit, e.g. in tests
"""

from __future__ import annotations

import logging
import os

from askrl import _verl
from askrl.cpu import ROLLOUT_NAME
from askrl.cpu.env import cpu_selected
from askrl.errors import ConfigError
from reward.advantages import register_advantage_estimators

logger = logging.getLogger(__name__)

#: Level of the ``askrl`` logger in processes askrl does not start itself (Ray workers); set by ``askrl.train``.
ASKRL_LOG_LEVEL = "ASKRL_LOG_LEVEL"

_ADAPTER_FQN = "askrl.cpu.replica.HFCPUServerAdapter"


def _load_replica() -> type:
    from askrl.cpu.replica import HFCPUReplica

    return HFCPUReplica


def register_rollout_adapter(name: str, fqn: str) -> None:
    """Map VERL rollout ``name`` (async mode) to the adapter class ``fqn`` in VERL's private rollout registry.

    VERL 0.9.1 has no public function for this; the dict ``verl.workers.rollout.base._ROLLOUT_REGISTRY`` is the
    extension point its own backends use.

    Raises:
        ConfigError: VERL is not the pinned version, or the dict is missing.
    """
    found = _verl.installed_version()
    if found != _verl.VERL_VERSION:
        raise ConfigError(
            f"registering rollout {name!r} needs VERL {_verl.VERL_VERSION}'s private _ROLLOUT_REGISTRY; found VERL "
            f"{found}. Install verl=={_verl.VERL_VERSION} or port askrl.plugins.register_rollout_adapter"
        )
    registry = getattr(_verl.rollout_base_module, "_ROLLOUT_REGISTRY", None)
    if not isinstance(registry, dict):
        raise ConfigError(
            "verl.workers.rollout.base._ROLLOUT_REGISTRY is missing or not a dict; "
            "port askrl.plugins.register_rollout_adapter to this VERL"
        )
    registry[(name, "async")] = fqn


def register_cpu_backend() -> None:
    """Register platform ``cpu``, rollout replica ``hf_cpu`` and its adapter (idempotent)."""
    from askrl.cpu import platform

    platform.register()
    _verl.RolloutReplicaRegistry.register(ROLLOUT_NAME, _load_replica)
    register_rollout_adapter(ROLLOUT_NAME, _ADAPTER_FQN)
    logger.debug("registered VERL platform %r and rollout %r", platform.PLATFORM_NAME, ROLLOUT_NAME)


def _apply_log_level() -> None:
    level = os.environ.get(ASKRL_LOG_LEVEL)
    if level:
        logging.getLogger("askrl").setLevel(level.upper())


def register() -> None:
    """Everything this module registers, for the current environment (see module docstring)."""
    _apply_log_level()
    register_advantage_estimators()
    if cpu_selected(os.environ):
        register_cpu_backend()


register()
