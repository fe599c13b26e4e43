"""The environment variables that make every VERL process (driver, Ray workers) run on the CPU backend.

Why: VERL reads its platform and plugins from the environment when ``verl`` is imported, in every Ray worker. The
launcher (``askrl.train``) puts these into ``os.environ`` before Ray starts and into Ray's ``runtime_env`` so that
each worker imports ``askrl.plugins`` (which registers the CPU platform and the ``hf_cpu`` rollout) and selects the
``cpu`` platform. Pure functions; no imports of VERL.

    from askrl.cpu.env import cpu_env_vars
    os.environ.update(cpu_env_vars(os.environ))
"""

from __future__ import annotations

from collections.abc import Mapping

from askrl.cpu import PLATFORM_NAME

VERL_PLATFORM = "VERL_PLATFORM"
VERL_USE_EXTERNAL_MODULES = "VERL_USE_EXTERNAL_MODULES"
VERL_ENGINE_DEVICE = "VERL_ENGINE_DEVICE"
VERL_ENGINE_VENDOR = "VERL_ENGINE_VENDOR"
PLUGIN_MODULE = "askrl.plugins"


def cpu_selected(environ: Mapping[str, str]) -> bool:
    """True when ``VERL_PLATFORM`` selects askrl's CPU platform."""
    return environ.get(VERL_PLATFORM, "").strip().lower() == PLATFORM_NAME


def cpu_env_vars(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables to set for a CPU run, given the current environment (its external modules are kept).

    - ``VERL_PLATFORM=cpu`` selects :class:`askrl.cpu.platform.PlatformCPU`.
    - ``VERL_USE_EXTERNAL_MODULES`` gains ``askrl.plugins``, which VERL imports in every process.
    - ``VERL_ENGINE_DEVICE=cuda``, ``VERL_ENGINE_VENDOR=nvidia``: VERL registers its FSDP engine only for
      cuda/npu; the engine itself is device-agnostic once the platform answers "cpu".
    """
    modules = [m for m in environ.get(VERL_USE_EXTERNAL_MODULES, "").split(",") if m.strip()]
    if PLUGIN_MODULE not in modules:
        modules.append(PLUGIN_MODULE)
    return {
        VERL_PLATFORM: PLATFORM_NAME,
        VERL_USE_EXTERNAL_MODULES: ",".join(modules),
        VERL_ENGINE_DEVICE: "cuda",
        VERL_ENGINE_VENDOR: "nvidia",
    }
