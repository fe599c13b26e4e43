"""The two VERL-side halves of the ``hf_cpu`` rollout: the replica (driver side) and the adapter (trainer side).

Why: VERL resolves a rollout backend by name twice. ``RolloutReplicaRegistry`` gives the replica that
``LLMServerManager`` asks to ``launch_servers()``; ``verl.workers.rollout.base._ROLLOUT_REGISTRY[(name, "async")]``
gives the class each trainer rank builds to push weights into the server. ``askrl.plugins`` registers both under
:data:`askrl.cpu.server.ROLLOUT_NAME` (``hf_cpu``).

Contract:
- Hybrid mode only (actor and rollout colocated, VERL's sync trainer) and one rank per replica
  (``rollout.tensor_model_parallel_size = data_parallel_size = pipeline_model_parallel_size = 1``): HF generation
  has no tensor parallelism. Anything else raises :class:`askrl.errors.ConfigError` at launch.
- Weight sync: every trainer rank drains VERL's ``(hf_name, tensor)`` generator (with FSDP the tensors are gathered
  collectively, so all ranks must iterate); rank 0 of the replica sends the full state dict through Ray's object
  store in one ``load_weights`` call. LoRA (``peft_config``) and ``delta_flush`` updates raise ``RolloutError``.
- ``resume``/``release`` are no-ops: the server keeps weights in host RAM.

    from askrl.cpu.replica import HFCPUReplica, HFCPUServerAdapter   # VERL builds both; nothing to call directly
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterable, Iterable
from typing import Any

import ray
import torch
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from askrl import _verl
from askrl.cpu import ROLLOUT_NAME
from askrl.cpu.server import HFGenerationServer, server_actor_name
from askrl.errors import ConfigError, RolloutError

logger = logging.getLogger(__name__)


class HFCPUReplica(_verl.RolloutReplica):
    """One ``hf_cpu`` server per trainer rank, placed on that rank's node."""

    async def launch_servers(self) -> None:
        if self.rollout_mode != _verl.RolloutMode.HYBRID:
            raise ConfigError(
                f"rollout {ROLLOUT_NAME} runs only colocated with the actor (hybrid mode, trainer.v1.trainer_mode=sync); "
                f"got {self.rollout_mode}"
            )
        if self.world_size != 1:
            raise ConfigError(
                f"rollout {ROLLOUT_NAME} serves one model copy per trainer rank; set actor_rollout_ref.rollout."
                "tensor_model_parallel_size, data_parallel_size and pipeline_model_parallel_size to 1 "
                f"(their product is {self.world_size})"
            )
        node_id, node_ip = await self.workers[0].__ray_call__.remote(
            lambda worker: (ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address())
        )
        server = (
            ray.remote(HFGenerationServer)
            .options(
                name=server_actor_name(self.replica_rank),
                num_cpus=0,  # shares the trainer rank's cores: rollout and update never run at the same time
                max_concurrency=self.max_concurrency,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
            )
            .remote(config=self.config, model_config=self.model_config, replica_rank=self.replica_rank)
        )
        await server.get_checksum.remote()  # surfaces a failed model load here rather than at the first request
        self.servers = [server]
        self._server_handle = server
        self._server_address = f"{ROLLOUT_NAME}_{self.replica_rank}@{node_ip}"


async def _drain(weights: Iterable[tuple[str, torch.Tensor]] | AsyncIterable[tuple[str, torch.Tensor]]) -> dict:
    state: dict[str, torch.Tensor] = {}
    async for name, tensor in _verl.ensure_async_iterator(weights):
        state[name] = tensor.detach().to("cpu")
    return state


class HFCPUServerAdapter(_verl.BaseRollout):
    """Lives in each trainer rank (``ActorRolloutRefWorker.rollout``); forwards weight updates to its server."""

    def __init__(self, config: Any, model_config: Any, device_mesh: Any, replica_rank: int = -1) -> None:
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ["RANK"])
        per_replica = (
            self.config.tensor_model_parallel_size
            * self.config.data_parallel_size
            * self.config.pipeline_model_parallel_size
        )
        self.replica_rank = rank // per_replica if replica_rank == -1 else replica_rank
        self.rollout_rank = rank % per_replica
        self._server: Any = None

    async def resume(self, tags: list[str]) -> None:
        """Weights and cache stay in host RAM: nothing to resume."""

    async def release(self) -> None:
        """Weights and cache stay in host RAM: nothing to release."""

    async def update_weights(
        self,
        weights: Iterable[tuple[str, torch.Tensor]] | AsyncIterable[tuple[str, torch.Tensor]],
        wire_format: str = "named_tensors",
        peft_config: Any = None,
        global_steps: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Send the full weights to this replica's server (see module docstring)."""
        if wire_format != "named_tensors":
            raise RolloutError(
                f"rollout {ROLLOUT_NAME} takes full weights only (wire_format='named_tensors'), got {wire_format!r}; "
                "use actor_rollout_ref.rollout.checkpoint_engine.backend=naive"
            )
        if peft_config is not None:
            raise RolloutError(f"rollout {ROLLOUT_NAME} does not serve LoRA adapters; set model.lora.merge=true")
        state = await _drain(weights)  # every rank: the gather behind the generator is collective
        if self.rollout_rank != 0:
            return
        if self._server is None:
            self._server = ray.get_actor(server_actor_name(self.replica_rank))
        await self._server.load_weights.remote(state, global_steps)
