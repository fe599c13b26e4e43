"""Actor-to-rollout weight sync for VERL's own vLLM rollout (``rollout.name=vllm``) on vLLM's CPU build.

Why: after loading, vLLM's CPU build packs each linear layer's weight for oneDNN and puts an empty ``Parameter``
without ``weight_loader`` in its place (``dispatch_cpu_unquantized_gemm(remove_weight=True)``). VERL 0.9.1 syncs
weights with an in-place ``model.load_weights`` written for the CUDA layout, so the first sync fails with
``'Parameter' object has no attribute 'weight_loader'`` (``docs/vllm_rollout_cpu.md``). vLLM has its own answer,
layerwise reload (``vllm.model_executor.model_loader.reload``): put the checkpoint-format parameters back, load,
re-run each layer's post-processing. This worker extension wraps VERL's own receive-and-load in it; the transport
(VERL's bucketed ZMQ/shared-memory receiver) and the per-bucket load are VERL's; each bucket is copied out of the
shared buffer first (see ``load``).

Used in the vLLM environment only (it imports vLLM), as the vLLM worker's extension class:

    actor_rollout_ref.rollout.engine_kwargs.vllm.worker_extension_cls=askrl.cpu.vllm_reload.CPUReloadWorkerExtension
"""

from __future__ import annotations

from typing import Any

import torch
from vllm.model_executor.model_loader.reload import finalize_layerwise_reload, initialize_layerwise_reload

from askrl import _verl
from askrl.errors import RolloutError

EXTENSION_FQN = f"{__name__}.CPUReloadWorkerExtension"


class CPUReloadWorkerExtension(_verl.vLLMColocateWorkerExtension):  # type: ignore[misc,name-defined]
    """VERL's colocated vLLM worker extension, with full-weight updates done as a vLLM layerwise reload."""

    def update_weights_from_ipc(self, peft_config: dict | None = None, base_sync_done: bool = False,
                                use_shm: bool = False) -> None:  # fmt: skip
        if peft_config:
            raise RolloutError("the vLLM CPU weight reload takes full weights only; set model.lora.merge=true")
        models = list(self._iter_all_models_with_config())
        for model, _ in models:
            initialize_layerwise_reload(model)
        cpu = torch.device("cpu")
        receiver = _verl.BucketedWeightReceiver(zmq_handle=self._get_zmq_handle(), device=cpu, use_shm=use_shm)

        def load(weights: list[tuple[str, Any]], is_last: bool) -> None:
            # On CPU the received tensors are views of VERL's shared-memory bucket, which the next bucket overwrites
            # (and which cannot be closed while a view lives), and layerwise reload keeps a layer's tensors until
            # the layer is complete: copy them out.
            self._update_weights([(name, t.clone()) for name, t in weights], peft_config=None,
                                 base_sync_done=base_sync_done)  # fmt: skip

        receiver.receive_weights(on_bucket_received=load)
        for model, model_config in models:
            finalize_layerwise_reload(model, model_config)
