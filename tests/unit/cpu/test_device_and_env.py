"""askrl.cpu.device (the torch.cuda stand-in VERL calls on CPU) and askrl.cpu.env (the worker environment).

Nothing faked; no VERL import (the platform class itself is covered in tests/integration/cpu/test_platform.py).
"""

from __future__ import annotations

import pytest
import torch

from askrl.cpu.device import CPU_DEVICE_MODULE
from askrl.cpu.env import cpu_env_vars, cpu_selected


def test_device_module_answers_the_calls_verl_makes() -> None:
    dev = CPU_DEVICE_MODULE
    assert dev.is_available() and dev.device_count() == 1 and dev.current_device() == torch.device("cpu")
    assert dev.get_device_name() == "CPU"  # verl.utils.flops_counter's key for CPU
    assert dev.memory_allocated() == dev.memory_reserved() == dev.max_memory_allocated() == 0
    free, total = dev.mem_get_info()
    assert 0 < free <= total
    for call in (dev.empty_cache, dev.synchronize, dev.ipc_collect, dev.reset_peak_memory_stats):
        call()
    dev.set_per_process_memory_fraction(0.9)
    state = dev.get_rng_state()
    first = torch.rand(3)
    dev.set_rng_state(state)
    assert torch.equal(first, torch.rand(3))
    with dev.stream(dev.Stream()):
        dev.current_stream()


def test_device_module_has_no_catch_all() -> None:
    with pytest.raises(AttributeError):
        CPU_DEVICE_MODULE.memory_snapshot  # noqa: B018  # a new VERL call must fail loudly, not return 0


def test_cpu_env_vars_keep_other_external_modules() -> None:
    env = cpu_env_vars({"VERL_USE_EXTERNAL_MODULES": "other.plugin"})
    assert env == {
        "VERL_PLATFORM": "cpu",
        "VERL_USE_EXTERNAL_MODULES": "other.plugin,askrl.plugins",
        "VERL_ENGINE_DEVICE": "cuda",
        "VERL_ENGINE_VENDOR": "nvidia",
    }
    assert cpu_env_vars(env)["VERL_USE_EXTERNAL_MODULES"] == "other.plugin,askrl.plugins"
    assert cpu_env_vars({})["VERL_USE_EXTERNAL_MODULES"] == "askrl.plugins"


def test_cpu_selected() -> None:
    assert (
        cpu_selected({"VERL_PLATFORM": " CPU "})
        and not cpu_selected({})
        and not cpu_selected({"VERL_PLATFORM": "nvidia"})
    )
