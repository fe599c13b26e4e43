"""askrl's VERL platform ``cpu`` as VERL sees it: loaded through VERL_USE_EXTERNAL_MODULES in a fresh process.

Covers: VERL's device helpers answer "cpu"/gloo, a model sharded with the offload policy VERL gives a reference
model runs forward (no pinned memory without an accelerator), VERL's own ``initialize_global_process_group_ray``
brings up a real gloo process group (the ``cpu:gloo,cpu:gloo`` backend string is fixed), the ``hf_cpu`` replica
and adapter resolve through VERL's registries, and auto-detection never picks ``cpu``. The in-process part checks
the backend wrapper. Nothing is faked.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

from askrl.cpu.env import cpu_env_vars

PROBE = r"""
import json, torch, torch.distributed as dist
import verl  # imports askrl.plugins through VERL_USE_EXTERNAL_MODULES
from verl.utils import device
from verl.utils.distributed import initialize_global_process_group_ray
from verl.workers.rollout.base import get_rollout_class
from verl.workers.rollout.replica import get_rollout_replica_class
from verl.workers.engine.base import EngineRegistry
import verl.workers.engine  # registers the FSDP engines
from verl.workers.engine.fsdp import transformer_impl
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

initialize_global_process_group_ray()
t = torch.ones(2)
dist.all_reduce(t)
# what VERL's FSDP2 engine does for a forward-only model (the reference policy of a KL loss)
ref = torch.nn.Linear(2, 1)
torch.nn.init.ones_(ref.weight), torch.nn.init.zeros_(ref.bias)
fully_shard(ref, mesh=init_device_mesh("cpu", (1,)), offload_policy=transformer_impl.CPUOffloadPolicy(pin_memory=True))
print(json.dumps({
    "device": device.get_device_name(),
    "backend": device.get_nccl_backend(),
    "device_id": str(device.get_device_id()),
    "dist_backend": dist.get_backend(),
    "all_reduce": t.tolist(),
    "flops": __import__("verl.utils.flops_counter", fromlist=["x"]).get_device_flops(),
    "replica": get_rollout_replica_class("hf_cpu").__qualname__,
    "adapter": get_rollout_class("hf_cpu", "async").__qualname__,
    "engine": EngineRegistry.get_engine_cls("language_model", "fsdp2").__name__,
    "offloaded_ref_forward": ref(torch.ones(1, 2)).tolist(),
}))
dist.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_verl_runs_on_the_cpu_platform_in_a_fresh_process() -> None:
    env = {
        **os.environ,
        **cpu_env_vars(os.environ),
        "RANK": "0",
        "WORLD_SIZE": "1",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
    }
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {
        "device": "cpu",
        "backend": "gloo",
        "device_id": "cpu",
        "dist_backend": "gloo",
        "all_reduce": [1.0, 1.0],
        "flops": 0.448,  # VERL's CPU entry, in TFLOPS
        "replica": "HFCPUReplica",
        "adapter": "HFCPUServerAdapter",
        "engine": result["engine"],
        "offloaded_ref_forward": [[2.0]],
    }
    assert result["engine"].startswith("FSDP")


def test_backend_wrapper_rewrites_only_the_duplicate_cpu_string() -> None:
    from askrl.cpu.platform import _fix_backend

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    wrapped = _fix_backend(lambda *a, **k: calls.append((a, k)))
    wrapped(backend="cpu:gloo, cpu:gloo", rank=0)
    wrapped("cpu:gloo,cpu:gloo")
    wrapped(backend="cpu:gloo,cuda:nccl")
    assert calls == [((), {"backend": "gloo", "rank": 0}), (("gloo",), {}), ((), {"backend": "cpu:gloo,cuda:nccl"})]


def test_platform_answers_and_is_never_auto_detected() -> None:
    from askrl import _verl, plugins
    from askrl.cpu.platform import PlatformCPU

    plugins.register_cpu_backend()
    plugins.register_cpu_backend()  # idempotent
    assert _verl.PlatformRegistry.get("cpu") is PlatformCPU
    platform = PlatformCPU()
    assert not platform.is_platform_available(use_smi_check=True)
    assert (platform.device_name, platform.communication_backend_name(), platform.ray_resource_name()) == (
        "cpu",
        "gloo",
        "GPU",
    )
    assert platform.ray_resource_options(1) == {"num_gpus": 1}
    assert platform.get_device_capability() == (None, None) and platform.device_count() == 1
    with platform.nvtx_range("x"):
        pass
    assert _verl.rollout_base_module._ROLLOUT_REGISTRY[("hf_cpu", "async")] == "askrl.cpu.replica.HFCPUServerAdapter"
