"""Pure parts of askrl.cpu.server: request grouping into batches, engine options, the weight checksum.

The server class itself (model, batching loop, weight loads) is exercised in
tests/integration/cpu/test_server.py against VERL's real config classes.
"""

from __future__ import annotations

import asyncio

import pytest
import torch

from askrl.cpu.generation import TokenLimits, parse_request
from askrl.cpu.server import HFCPUEngineOptions, _group, _Pending, server_actor_name, weights_checksum

LIMITS = TokenLimits(prompt_length=8, response_length=4, max_model_len=12)


def pending(temperature: float, rid: str) -> _Pending:
    req = parse_request([1, 2], {"temperature": temperature}, limits=LIMITS, eos_token_ids={2})
    return _Pending(rid, req, asyncio.get_running_loop().create_future())


async def test_groups_by_settings_in_arrival_order_and_caps_size() -> None:
    items = [pending(1.0, "a"), pending(0.0, "g1"), pending(1.0, "b"), pending(1.0, "c"), pending(0.0, "g2")]
    groups = [[p.request_id for p in g] for g in _group(items, max_batch_size=2)]
    assert groups == [["a", "b"], ["c"], ["g1", "g2"]]


def test_engine_options_reject_unknown_keys() -> None:
    assert HFCPUEngineOptions().batch_wait_ms == 5.0
    with pytest.raises(ValueError, match="extra"):
        HFCPUEngineOptions.model_validate({"batch_wait": 1})
    with pytest.raises(ValueError):
        HFCPUEngineOptions.model_validate({"num_threads": 0})


def test_checksum_changes_with_any_weight_and_counts_tied_weights_once() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3))
    model[1].weight = model[0].weight
    before = weights_checksum(model)
    assert before == weights_checksum(model) and len(before) == 12
    with torch.no_grad():
        model[1].bias[0] += 1e-6
    assert weights_checksum(model) != before


def test_server_actor_name() -> None:
    assert server_actor_name(3) == "hf_cpu_server_3"
