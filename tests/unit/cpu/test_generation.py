"""askrl.cpu.generation on the real tiny model: request parsing (vLLM semantics) and batched HF generation.

Covers: max_tokens defaults and clamping, stop tokens (eos, stop_token_ids, ignore_eos), min_tokens, unsupported
keys, left-padded batches equal to one-at-a-time generation, and log-probs equal to a direct forward pass (raw and
processed modes). Nothing is faked: the model is the offline tiny Qwen2 (``tiny_model`` fixture).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from askrl.cpu.generation import GenerationRequest, TokenLimits, generate_batch, parse_request
from askrl.errors import RolloutError

LIMITS = TokenLimits(prompt_length=64, response_length=16, max_model_len=80)
SAMPLE = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}
GREEDY = {**SAMPLE, "temperature": 0}


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path):
    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture(scope="module")
def model(tiny_model: Path):
    return AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32, attn_implementation="sdpa").eval()


@pytest.fixture(scope="module")
def prompts(tokenizer) -> list[list[int]]:
    texts = ["What is 12 + 7? Answer after ####.", "Hello, how can I help you today?", "x"]
    return [
        list(tokenizer.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True)["input_ids"])
        for t in texts
    ]


def request(prompt: list[int], params: dict, eos: set[int] | None = None) -> GenerationRequest:
    return parse_request(prompt, params, limits=LIMITS, eos_token_ids=eos if eos is not None else {2})


def forward_logprobs(model, prompt: list[int], tokens: list[int], temperature: float = 1.0) -> torch.Tensor:
    ids = torch.tensor([prompt + tokens])
    with torch.no_grad():
        logits = model(ids).logits[0, len(prompt) - 1 : -1].float() / temperature
    return torch.log_softmax(logits, -1).gather(-1, torch.tensor(tokens)[:, None]).squeeze(-1)


def test_max_tokens_default_explicit_and_clamped() -> None:
    assert request([1] * 10, {}).max_tokens == 16  # response_length
    assert request([1] * 70, {}).max_tokens == 10  # prompt_length + response_length - len(prompt)
    assert request([1] * 10, {"max_tokens": 5}).max_tokens == 5
    assert request([1] * 10, {"max_new_tokens": 7}).max_tokens == 7
    assert request([1] * 75, {"max_tokens": 50}).max_tokens == 5  # clamped to max_model_len
    with pytest.raises(RolloutError, match="no room"):
        request([1] * 80, {})


def test_stop_tokens_and_greedy_normalisation() -> None:
    assert request([1], {"stop_token_ids": [7]}).settings.stop_token_ids == {2, 7}
    assert request([1], {"stop_token_ids": [7], "ignore_eos": True}).settings.stop_token_ids == {7}
    greedy_a = request([1], {"temperature": 0, "top_p": 0.5, "top_k": 3}).settings
    greedy_b = request([1], {"temperature": 0.0}).settings
    assert greedy_a == greedy_b and not greedy_a.do_sample
    assert request([1], {"top_k": -1}).settings.top_k == 0
    assert request([1], {"logprobs": 0}).want_logprobs and not request([1], {"logprobs": False}).want_logprobs


def test_unsupported_keys_and_empty_prompt_raise() -> None:
    with pytest.raises(RolloutError, match=r"\['seed', 'stop'\]"):
        request([1], {"seed": 1, "stop": ["x"]})
    with pytest.raises(RolloutError, match="empty prompt"):
        request([], {})


def test_batched_greedy_equals_one_at_a_time(model, prompts) -> None:
    reqs = [request(p, GREEDY) for p in prompts]
    batched = generate_batch(model, reqs, pad_token_id=0, logprobs_mode="raw_logprobs")
    for req, out in zip(reqs, batched, strict=True):
        [alone] = generate_batch(model, [req], pad_token_id=0, logprobs_mode="raw_logprobs")
        assert out.token_ids == alone.token_ids
        assert out.log_probs == pytest.approx(alone.log_probs, abs=1e-5)


@pytest.mark.parametrize("mode", ["raw_logprobs", "processed_logprobs"])
def test_sampled_logprobs_match_a_forward_pass(model, prompts, mode: str) -> None:
    torch.manual_seed(0)
    reqs = [request(p, SAMPLE) for p in prompts]
    for prompt, out in zip(prompts, generate_batch(model, reqs, pad_token_id=0, logprobs_mode=mode), strict=True):
        assert 1 <= len(out.token_ids) <= 16 and len(out.log_probs) == len(out.token_ids)
        assert torch.allclose(torch.tensor(out.log_probs), forward_logprobs(model, prompt, out.token_ids), atol=1e-4)


def test_processed_logprobs_include_temperature(model, prompts) -> None:
    torch.manual_seed(0)
    [out] = generate_batch(
        model, [request(prompts[0], {**SAMPLE, "temperature": 0.7})], pad_token_id=0, logprobs_mode="processed_logprobs"
    )
    expected = forward_logprobs(model, prompts[0], out.token_ids, temperature=0.7)
    assert torch.allclose(torch.tensor(out.log_probs), expected, atol=1e-4)


def test_output_ends_at_first_stop_token_and_respects_max_tokens(model, prompts) -> None:
    [free] = generate_batch(
        model, [request(prompts[0], {**GREEDY, "ignore_eos": True})], pad_token_id=0, logprobs_mode="raw_logprobs"
    )
    assert len(free.token_ids) == 16 and free.finish_reason == "length"
    stop = free.token_ids[3]
    first = free.token_ids.index(stop)
    params = {**GREEDY, "ignore_eos": True, "stop_token_ids": [stop]}
    short = {**GREEDY, "ignore_eos": True, "max_tokens": 2}
    [stopped] = generate_batch(model, [request(prompts[0], params)], pad_token_id=0, logprobs_mode="raw_logprobs")
    [capped] = generate_batch(model, [request(prompts[0], short)], pad_token_id=0, logprobs_mode="raw_logprobs")
    assert stopped.token_ids == free.token_ids[: first + 1] and stopped.finish_reason == "stop"
    assert capped.token_ids == free.token_ids[:2] and capped.finish_reason == "length"


def test_rows_with_different_max_tokens_share_a_batch(model, prompts) -> None:
    params = {**GREEDY, "ignore_eos": True}
    reqs = [request(prompts[0], {**params, "max_tokens": n}) for n in (3, 9)]
    three, nine = generate_batch(model, reqs, pad_token_id=0, logprobs_mode="raw_logprobs")
    assert len(three.token_ids) == 3 and len(nine.token_ids) == 9 and nine.token_ids[:3] == three.token_ids
    assert len(three.log_probs) == 3


def test_min_tokens_suppresses_early_stop(model, prompts) -> None:
    [free] = generate_batch(
        model, [request(prompts[1], {**GREEDY, "ignore_eos": True})], pad_token_id=0, logprobs_mode="raw_logprobs"
    )
    stop = free.token_ids[0]
    params = {**GREEDY, "ignore_eos": True, "stop_token_ids": [stop], "min_tokens": 4}
    [out] = generate_batch(model, [request(prompts[1], params)], pad_token_id=0, logprobs_mode="raw_logprobs")
    assert len(out.token_ids) >= 4 and stop not in out.token_ids[:4]


def test_mixed_settings_and_unknown_mode_raise(model, prompts) -> None:
    with pytest.raises(ValueError, match="different sampling settings"):
        generate_batch(
            model,
            [request(prompts[0], SAMPLE), request(prompts[0], GREEDY)],
            pad_token_id=0,
            logprobs_mode="raw_logprobs",
        )
    with pytest.raises(ValueError, match="logprobs_mode"):
        generate_batch(model, [request(prompts[0], SAMPLE)], pad_token_id=0, logprobs_mode="raw_logits")  # type: ignore[arg-type]


def test_abort_event_ends_the_batch_early(model, prompts) -> None:
    abort = threading.Event()
    abort.set()
    [out] = generate_batch(
        model,
        [request(prompts[0], {**GREEDY, "ignore_eos": True})],
        pad_token_id=0,
        logprobs_mode="raw_logprobs",
        abort=abort,
    )
    assert out.finish_reason == "abort" and len(out.token_ids) < 16
