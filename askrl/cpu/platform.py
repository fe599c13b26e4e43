"""VERL platform ``cpu``: run VERL's FSDP2 trainer on a host without an accelerator, over gloo.

Why: VERL 0.9.1 knows only nvidia, huawei (npu) and amd platforms and falls back to CUDA on a CPU host, which
dies at ``init_process_group`` ("Distributed package doesn't have NCCL built in"). VERL's own extension point is
``PlatformRegistry.register``; ``askrl.plugins`` calls :func:`register` in every process that imports VERL
(VERL imports ``askrl.plugins`` through ``VERL_USE_EXTERNAL_MODULES``), and ``VERL_PLATFORM=cpu`` selects it.

Contract:
- ``device_name`` is ``"cpu"``, the communication backend is ``gloo``, ``current_device()`` is
  ``torch.device("cpu")`` (VERL passes it to ``.to()``), and ``device_module`` is :mod:`askrl.cpu.device`'s shim.
- The Ray resource name stays ``"GPU"``: VERL's resource pools always ask Ray for GPU bundles, so the CPU profile
  declares a fake logical GPU (``ray_init.num_gpus``) per trainer rank.
- When the platform is instantiated (that is, selected), ``torch.distributed.init_process_group`` is wrapped so
  VERL's hard-coded backend string ``cpu:gloo,{device}:{backend}`` = ``cpu:gloo,cpu:gloo`` (which torch rejects as
  a duplicate device) becomes ``gloo``. Nothing else is patched.
- Auto-detection never picks this platform (``is_platform_available`` is False); only ``VERL_PLATFORM=cpu`` does.

Imports VERL only through ``askrl._verl``. Fails with VERL's own ``ValueError`` if ``VERL_PLATFORM=cpu`` is set in a
process where :func:`register` did not run (the env var ``VERL_USE_EXTERNAL_MODULES`` was not passed on).

    from askrl.cpu import platform
    platform.register()                      # idempotent
    # then, with VERL_PLATFORM=cpu: verl.utils.device.get_device_name() == "cpu"
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.distributed as dist

from askrl import _verl
from askrl.cpu import PLATFORM_NAME
from askrl.cpu.device import CPU_DEVICE_MODULE, CpuDeviceModule

logger = logging.getLogger(__name__)

_DUPLICATE_CPU_BACKEND = "cpu:gloo,cpu:gloo"


def _fix_backend(init_process_group: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``init_process_group`` so VERL's ``cpu:gloo,cpu:gloo`` backend string becomes plain ``gloo``."""

    @functools.wraps(init_process_group)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        backend = kwargs.get("backend", args[0] if args else None)
        if isinstance(backend, str) and backend.replace(" ", "") == _DUPLICATE_CPU_BACKEND:
            if args:
                args = ("gloo", *args[1:])
            else:
                kwargs["backend"] = "gloo"
        return init_process_group(*args, **kwargs)

    wrapper.__askrl_cpu_fix__ = True  # type: ignore[attr-defined]
    return wrapper


def install_backend_fix() -> None:
    """Install the backend-string fix once per process (idempotent)."""
    if not getattr(dist.init_process_group, "__askrl_cpu_fix__", False):
        dist.init_process_group = _fix_backend(dist.init_process_group)


def install_offload_fix() -> None:
    """Make every ``CPUOffloadPolicy`` unpinned, once per process (idempotent; see the module docstring)."""
    from torch.distributed.fsdp import CPUOffloadPolicy

    init = CPUOffloadPolicy.__init__
    if getattr(init, "__askrl_cpu_fix__", False):
        return

    @functools.wraps(init)
    def unpinned(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.pin_memory = False

    unpinned.__askrl_cpu_fix__ = True  # type: ignore[attr-defined]
    CPUOffloadPolicy.__init__ = unpinned  # type: ignore[method-assign]


class PlatformCPU(_verl.PlatformBase):
    """VERL's platform interface answered for a CPU-only host (gloo, no device memory, no profiler)."""

    def __init__(self) -> None:
        # Instantiation happens only when VERL selects this platform, so the patches never touch other runs.
        install_backend_fix()
        install_offload_fix()

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> CpuDeviceModule:
        return CPU_DEVICE_MODULE

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        # Only an explicit VERL_PLATFORM=cpu selects this platform; VERL's probe must keep choosing real devices.
        return False

    def current_device(self) -> torch.device:  # type: ignore[override]  # VERL uses the result as a .to() target
        return torch.device("cpu")

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        """One CPU device: nothing to select."""

    def synchronize(self, device_index: int | None = None) -> None:
        """CPU work is synchronous."""

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        """The CPU allocator has no expandable-segments setting."""

    def empty_cache(self) -> None:
        """No caching allocator on CPU."""

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        # Ray sets it for the fake GPU resource; VERL reads it only to build device UUIDs for vLLM IPC.
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str) -> Iterator[None]:
        yield

    def profiler_start(self) -> None:
        """No device profiler on CPU."""

    def profiler_stop(self) -> None:
        """No device profiler on CPU."""

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> None:
        return None


def register() -> None:
    """Register :class:`PlatformCPU` as VERL platform ``cpu`` (idempotent; registering again is a no-op)."""
    registry = _verl.PlatformRegistry
    if registry.get(PLATFORM_NAME) is not PlatformCPU:
        registry.register(platform=PLATFORM_NAME)(PlatformCPU)
        logger.debug("registered VERL platform %r", PLATFORM_NAME)
