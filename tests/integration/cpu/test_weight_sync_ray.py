"""The hf_cpu weight path across processes: trainer-side adapter -> Ray object store -> server actor.

Starts a private local Ray cluster (hard pytest timeout), runs the real ``HFGenerationServer`` as a named Ray actor,
and drives VERL's adapter contract (``update_weights(generator, global_steps=...)``) on the real
``HFCPUServerAdapter``. Covers: the server's checksum and outputs follow the pushed weights, ``global_steps`` reaches
``TokenOutput.extra_fields``, and unsupported update kinds are refused. Nothing is faked.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import ray
import torch

from askrl import _verl
from askrl.cpu.replica import HFCPUServerAdapter
from askrl.cpu.server import HFGenerationServer, server_actor_name
from askrl.errors import RolloutError

pytestmark = pytest.mark.timeout(240)
PROMPT = [1, 77, 20, 30, 40, 2, 50, 1, 90]
GREEDY = {"temperature": 0, "top_p": 1.0, "top_k": -1, "logprobs": True}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    temp_dir = tempfile.mkdtemp(prefix="askrl-it-ray-", dir="/tmp")  # short: Ray socket paths < 108 bytes
    ray.init(address="local", num_cpus=4, include_dashboard=False, _temp_dir=temp_dir, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


async def test_adapter_pushes_weights_the_server_then_uses(
    local_ray: None, rollout_config: Callable[..., Any], model_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = rollout_config()
    server = (
        ray.remote(HFGenerationServer)
        .options(name=server_actor_name(0), num_cpus=0)
        .remote(config=config, model_config=model_config, replica_rank=0)
    )
    try:
        initial = await server.get_checksum.remote()
        before = await server.generate.remote(prompt_ids=PROMPT, sampling_params=dict(GREEDY), request_id="a")

        monkeypatch.setenv("RANK", "0")
        hf_model_config = _verl.omega_conf_to_dataclass(model_config, dataclass_type=_verl.HFModelConfig)
        adapter = HFCPUServerAdapter(config=config, model_config=hf_model_config, device_mesh=None)
        assert (adapter.replica_rank, adapter.rollout_rank) == (0, 0)

        from transformers import AutoModelForCausalLM

        reference = AutoModelForCausalLM.from_pretrained(hf_model_config.local_path, dtype=torch.float32)
        generator = torch.Generator().manual_seed(0)
        new_state = {
            name: tensor + 0.5 * torch.randn(tensor.shape, generator=generator)
            for name, tensor in reference.state_dict().items()
            if name != "lm_head.weight"  # tied to the embedding; VERL's generator leaves it out too
        }

        async def weights():  # VERL may hand a sync or an async generator
            for item in new_state.items():
                yield item

        await adapter.update_weights(weights(), global_steps=7)
        synced = await server.get_checksum.remote()
        after = await server.generate.remote(prompt_ids=PROMPT, sampling_params=dict(GREEDY), request_id="b")

        reference.load_state_dict(new_state, strict=False)
        from askrl.cpu.server import weights_checksum

        assert synced != initial and synced == weights_checksum(reference)
        assert after.extra_fields["global_steps"] == 7 and before.extra_fields["global_steps"] is None
        with torch.no_grad():
            logits = reference(torch.tensor([PROMPT + after.token_ids])).logits[0, len(PROMPT) - 1 : -1]
        expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(after.token_ids)[:, None]).squeeze(-1)
        # 1e-3: the server runs with another torch thread count, so float sums differ in the last bits.
        assert torch.allclose(torch.tensor(after.log_probs), expected, atol=1e-3)

        with pytest.raises(RolloutError, match="LoRA"):
            await adapter.update_weights(iter(new_state.items()), peft_config={"r": 8})
        with pytest.raises(RolloutError, match="named_tensors"):
            await adapter.update_weights(iter(()), wire_format="delta_flush")
    finally:
        ray.kill(server)
