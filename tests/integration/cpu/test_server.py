"""askrl.cpu.server.HFGenerationServer in-process (no Ray), with VERL's real RolloutConfig/HFModelConfig/TokenOutput.

Covers: TokenOutput shape and log-probs vs a direct forward pass, batching of concurrent requests (a spy counts
the real ``generate_batch`` calls), per-request max_tokens and stop tokens, weight loads (checksum, outputs and
``global_steps`` change; mismatched names rejected), abort/resume, and rejected inputs. Nothing is faked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import torch

from askrl.cpu import server as server_module
from askrl.cpu.server import HFGenerationServer
from askrl.errors import ConfigError, RolloutError

PROMPT = [1, 77, 20, 30, 40, 2, 50, 1, 90]
SAMPLE = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}
GREEDY = {**SAMPLE, "temperature": 0}


@pytest.fixture
def server(rollout_config: Callable[..., Any], model_config: Any) -> HFGenerationServer:
    return HFGenerationServer(config=rollout_config(), model_config=model_config, replica_rank=0)


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the size of every real generate_batch call the server makes."""
    sizes: list[int] = []
    real = server_module.generate_batch

    def spy(model, requests, **kwargs):
        sizes.append(len(requests))
        return real(model, requests, **kwargs)

    monkeypatch.setattr(server_module, "generate_batch", spy)
    return sizes


def forward_logprobs(model: torch.nn.Module, prompt: list[int], tokens: list[int]) -> torch.Tensor:
    with torch.no_grad():
        logits = model(torch.tensor([prompt + tokens])).logits[0, len(prompt) - 1 : -1]
    return torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(tokens)[:, None]).squeeze(-1)


async def test_generate_returns_token_output_with_forward_pass_logprobs(server: HFGenerationServer) -> None:
    out = await server.generate(prompt_ids=PROMPT, sampling_params=dict(SAMPLE), request_id="r1")
    assert type(out).__name__ == "TokenOutput" and out.stop_reason == "completed"
    assert 1 <= len(out.token_ids) <= 16 and len(out.log_probs) == len(out.token_ids)
    assert out.extra_fields == {"global_steps": None}
    expected = forward_logprobs(server.model, PROMPT, out.token_ids)
    assert torch.allclose(torch.tensor(out.log_probs), expected, atol=1e-4)
    no_lp = await server.generate(prompt_ids=PROMPT, sampling_params={**SAMPLE, "logprobs": False}, request_id="r2")
    assert no_lp.log_probs is None


async def test_concurrent_requests_share_one_generate_call(server: HFGenerationServer, batch_sizes: list[int]) -> None:
    outs = await asyncio.gather(
        *[
            server.generate(prompt_ids=PROMPT[: 4 + i], sampling_params=dict(SAMPLE), request_id=f"r{i}")
            for i in range(6)
        ]
    )
    assert batch_sizes == [6] and all(o.token_ids for o in outs)
    batch_sizes.clear()
    await asyncio.gather(
        *[
            server.generate(prompt_ids=PROMPT, sampling_params=dict(p), request_id=f"m{i}")
            for i, p in enumerate([SAMPLE, GREEDY, SAMPLE])
        ]
    )
    assert sorted(batch_sizes) == [1, 2]  # compatible settings batch together, greedy runs apart


async def test_max_tokens_and_stop_tokens_per_request(server: HFGenerationServer) -> None:
    free = await server.generate(prompt_ids=PROMPT, sampling_params={**GREEDY, "ignore_eos": True}, request_id="a")
    assert len(free.token_ids) == 16
    stop = free.token_ids[5]
    capped, stopped = await asyncio.gather(
        server.generate(
            prompt_ids=PROMPT, sampling_params={**GREEDY, "ignore_eos": True, "max_tokens": 3}, request_id="b"
        ),
        server.generate(
            prompt_ids=PROMPT, sampling_params={**GREEDY, "ignore_eos": True, "stop_token_ids": [stop]}, request_id="c"
        ),
    )
    assert capped.token_ids == free.token_ids[:3]
    assert stopped.token_ids == free.token_ids[: free.token_ids.index(stop) + 1]


async def test_load_weights_changes_checksum_outputs_and_global_steps(server: HFGenerationServer) -> None:
    before = await server.generate(prompt_ids=PROMPT, sampling_params=dict(GREEDY), request_id="a")
    checksum = await server.get_checksum()
    state = {k: v.clone() for k, v in server.model.state_dict().items() if k != "lm_head.weight"}  # tied: absent
    generator = torch.Generator().manual_seed(0)
    state = {k: v + 0.5 * torch.randn(v.shape, generator=generator) for k, v in state.items()}
    new_checksum = await server.load_weights(state, global_steps=3)
    assert new_checksum != checksum and await server.get_checksum() == new_checksum
    after = await server.generate(prompt_ids=PROMPT, sampling_params=dict(GREEDY), request_id="b")
    assert after.extra_fields["global_steps"] == 3
    assert after.token_ids != before.token_ids or after.log_probs != pytest.approx(before.log_probs, abs=1e-3)
    assert torch.equal(server.model.lm_head.weight, state["model.embed_tokens.weight"])  # tie kept


async def test_load_weights_rejects_names_that_do_not_match(server: HFGenerationServer) -> None:
    state = dict(server.model.state_dict())
    with pytest.raises(RolloutError, match="unexpected=\\['bogus.weight'\\]"):
        await server.load_weights({**state, "bogus.weight": torch.zeros(1)}, global_steps=1)
    state.pop("model.norm.weight")
    with pytest.raises(RolloutError, match="missing=\\['model.norm.weight'\\]"):
        await server.load_weights(state, global_steps=1)


async def test_abort_ends_queued_requests_and_resume_restores_service(server: HFGenerationServer) -> None:
    queued = asyncio.create_task(server.generate(prompt_ids=PROMPT, sampling_params=dict(SAMPLE), request_id="q"))
    await asyncio.sleep(0)  # queued, batch window (20 ms) still open
    result = await server.abort_all_requests(reject_request=True)
    assert result == {"aborted_count": 1, "request_ids": ["q"]}
    assert (await queued).stop_reason == "aborted"
    rejected = await server.generate(prompt_ids=PROMPT, sampling_params=dict(SAMPLE), request_id="x")
    assert rejected.stop_reason == "aborted" and rejected.token_ids == []
    await server.resume_generation()
    out = await server.generate(prompt_ids=PROMPT, sampling_params=dict(SAMPLE), request_id="y")
    assert out.stop_reason == "completed" and out.token_ids


async def test_rejected_inputs(
    server: HFGenerationServer, rollout_config: Callable[..., Any], model_config: Any
) -> None:
    with pytest.raises(RolloutError, match="text only"):
        await server.generate(prompt_ids=PROMPT, sampling_params=dict(SAMPLE), request_id="i", image_data=[object()])
    with pytest.raises(RolloutError, match="seed"):
        await server.generate(prompt_ids=PROMPT, sampling_params={**SAMPLE, "seed": 1}, request_id="s")
    with pytest.raises(ConfigError, match="logprobs_mode"):
        HFGenerationServer(config=rollout_config(logprobs_mode="raw_logits"), model_config=model_config, replica_rank=0)
    with pytest.raises(ConfigError, match="engine_kwargs.hf_cpu"):
        HFGenerationServer(
            config=rollout_config(engine_kwargs={"hf_cpu": {"batch_wait": 1}}),
            model_config=model_config,
            replica_rank=0,
        )
