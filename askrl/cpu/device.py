"""The ``device_module`` the CPU platform hands VERL: ``torch.cpu`` plus the accelerator calls VERL makes.

Why: VERL calls its platform's device module as if it were ``torch.cuda`` (``empty_cache``, ``memory_reserved``,
``mem_get_info``, ``get_rng_state``, ``get_device_name`` ...). ``torch.cpu`` lacks most of these, so the CPU
platform returns this shim instead. Every method is explicit: an attribute VERL starts to use in a later release
raises ``AttributeError`` naming it, rather than a catch-all quietly returning 0.

Called by VERL code through ``askrl.cpu.platform.PlatformCPU.device_module``; imports only torch and psutil.
There is no device memory on CPU, so the memory counters report 0 and ``mem_get_info`` reports host RAM.

    from askrl.cpu.device import CPU_DEVICE_MODULE
    CPU_DEVICE_MODULE.empty_cache()           # no-op
    free, total = CPU_DEVICE_MODULE.mem_get_info()
"""

from __future__ import annotations

from typing import Any

import psutil
import torch


class CpuDeviceModule:
    """A stand-in for ``torch.cuda`` on a host whose only device is the CPU."""

    # Streams and events: torch.cpu has no-op versions; VERL only uses them for overlap it cannot get on CPU.
    Stream = torch.cpu.Stream
    Event = torch.cpu.Event
    stream = staticmethod(torch.cpu.stream)
    current_stream = staticmethod(torch.cpu.current_stream)

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 1

    def current_device(self) -> torch.device:
        return torch.device("cpu")

    def set_device(self, device: Any) -> None:
        """Nothing to select: there is one CPU device."""

    def synchronize(self, device: Any = None) -> None:
        """CPU kernels run synchronously."""

    def get_device_name(self, device: Any = None) -> str:
        # verl.utils.flops_counter looks the name up in its FLOPS table; "CPU" is its CPU entry.
        return "CPU"

    def empty_cache(self) -> None:
        """No caching allocator on CPU."""

    def ipc_collect(self) -> None:
        """No CUDA IPC on CPU."""

    def set_per_process_memory_fraction(self, fraction: float, device: Any = None) -> None:
        """No device memory budget on CPU."""

    def memory_allocated(self, device: Any = None) -> int:
        return 0

    def memory_reserved(self, device: Any = None) -> int:
        return 0

    def max_memory_allocated(self, device: Any = None) -> int:
        return 0

    def max_memory_reserved(self, device: Any = None) -> int:
        return 0

    def reset_peak_memory_stats(self, device: Any = None) -> None:
        """No device memory counters to reset."""

    def mem_get_info(self, device: Any = None) -> tuple[int, int]:
        """Free and total host RAM in bytes: the memory the CPU 'device' actually has."""
        memory = psutil.virtual_memory()
        return memory.available, memory.total

    def get_rng_state(self, device: Any = None) -> torch.Tensor:
        return torch.get_rng_state()

    def set_rng_state(self, state: torch.Tensor, device: Any = None) -> None:
        torch.set_rng_state(state)

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)


CPU_DEVICE_MODULE = CpuDeviceModule()
