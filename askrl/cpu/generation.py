"""Token-in/token-out generation for a batch of requests with one HF ``generate`` call, on CPU.

Why: the CPU rollout server (:mod:`askrl.cpu.server`) answers VERL's agent-loop requests one prompt at a time, but
HF generation on CPU is ~8x faster per token at batch 8 than at batch 1. This module is the pure part: it turns
VERL's ``sampling_params`` dict into a typed request (vLLM semantics), left-pads compatible requests into one
batch, runs ``model.generate`` once and splits the result back per request. No Ray, no asyncio, no VERL.

Contract:
- A request's ``settings`` (:class:`SamplingSettings`) decide batch compatibility: only requests with equal settings
  share a ``generate`` call (:func:`generate_batch` raises ``ValueError`` otherwise). ``max_tokens`` may differ.
- Output tokens end at the first stop token (included, like vLLM) or at the request's ``max_tokens``.
- ``log_probs[i]`` is the log-probability of ``token_ids[i]``: from the raw logits (``raw_logprobs``) or from the
  scores after temperature/top-k/top-p (``processed_logprobs``), the two vLLM ``logprobs_mode`` values VERL uses.
- Unsupported sampling keys raise :class:`askrl.errors.RolloutError` naming the key (never silently ignored).

    req = parse_request(prompt_ids, {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "logprobs": True},
                        limits=TokenLimits(prompt_length=64, response_length=16, max_model_len=80), eos_token_ids={2})
    [result] = generate_batch(model, [req], pad_token_id=0, logprobs_mode="processed_logprobs")
    result.token_ids, result.log_probs, result.finish_reason
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from transformers import GenerationConfig, PreTrainedModel, StoppingCriteria, StoppingCriteriaList

from askrl.errors import RolloutError

LogprobsMode = Literal["raw_logprobs", "processed_logprobs"]
LOGPROBS_MODES: tuple[str, ...] = ("raw_logprobs", "processed_logprobs")
FinishReason = Literal["stop", "length", "abort"]

# Keys of VERL's sampling_params this backend understands (vLLM names). Anything else raises.
SUPPORTED_SAMPLING_KEYS = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "repetition_penalty",
        "logprobs",
        "max_tokens",
        "max_new_tokens",
        "stop_token_ids",
        "ignore_eos",
        "min_tokens",
    }
)


@dataclass(frozen=True)
class TokenLimits:
    """The length budget of the rollout config, in tokens (VERL's ``rollout.prompt_length`` etc.)."""

    prompt_length: int
    response_length: int
    max_model_len: int


@dataclass(frozen=True)
class SamplingSettings:
    """Everything that must be equal for two requests to share one ``generate`` call."""

    do_sample: bool
    temperature: float
    top_p: float
    top_k: int  # 0 disables top-k (HF); VERL's -1 is mapped to 0
    repetition_penalty: float
    min_tokens: int
    stop_token_ids: frozenset[int]


@dataclass(frozen=True)
class GenerationRequest:
    prompt_ids: tuple[int, ...]
    max_tokens: int
    want_logprobs: bool
    settings: SamplingSettings


@dataclass(frozen=True)
class GenerationResult:
    token_ids: list[int]
    log_probs: list[float] | None
    finish_reason: FinishReason


def _max_tokens(params: dict[str, Any], prompt_len: int, limits: TokenLimits) -> int:
    """vLLM's rule: an explicit ``max_tokens`` (or ``max_new_tokens``), else the remaining response budget.

    Clamped to the model context left after the prompt; raises when no token fits.
    """
    room = limits.max_model_len - prompt_len
    if room < 1:
        raise RolloutError(
            f"prompt of {prompt_len} tokens leaves no room within max_model_len={limits.max_model_len}; "
            "raise actor_rollout_ref.rollout.max_model_len or shorten the prompt"
        )
    if "max_tokens" in params:
        wanted = int(params["max_tokens"])
    elif "max_new_tokens" in params:
        wanted = int(params["max_new_tokens"])
    else:
        wanted = min(limits.response_length, limits.prompt_length + limits.response_length - prompt_len)
    return max(1, min(wanted, room))


def parse_request(
    prompt_ids: Sequence[int],
    sampling_params: Mapping[str, Any],
    *,
    limits: TokenLimits,
    eos_token_ids: Iterable[int],
) -> GenerationRequest:
    """Turn VERL's ``sampling_params`` (vLLM names) into a typed request.

    Args:
        prompt_ids: the prompt's token ids (non-empty).
        sampling_params: ``temperature`` (0 = greedy), ``top_p``, ``top_k`` (-1 = off), ``repetition_penalty``,
            ``logprobs`` (truthy or an int >= 0 = return the sampled token's log-prob), ``max_tokens`` or
            ``max_new_tokens``, ``stop_token_ids``, ``ignore_eos``, ``min_tokens``.
        limits: the rollout's token budget.
        eos_token_ids: the model's end-of-sequence ids; stop tokens unless ``ignore_eos``.

    Raises:
        RolloutError: an unsupported key, an empty prompt, or a prompt with no room to generate.
    """
    unknown = set(sampling_params) - SUPPORTED_SAMPLING_KEYS
    if unknown:
        raise RolloutError(
            f"the hf_cpu rollout does not support sampling params {sorted(unknown)}; "
            f"supported: {sorted(SUPPORTED_SAMPLING_KEYS)}"
        )
    if not prompt_ids:
        raise RolloutError("empty prompt_ids: the hf_cpu rollout needs at least one prompt token")
    params = dict(sampling_params)
    temperature = float(params.get("temperature", 1.0))
    do_sample = temperature > 0
    top_k = int(params.get("top_k", -1))
    stops = {int(t) for t in params.get("stop_token_ids") or ()}
    if not params.get("ignore_eos", False):
        stops |= {int(t) for t in eos_token_ids}
    logprobs = params.get("logprobs")
    want_logprobs = logprobs is not None and logprobs is not False
    settings = SamplingSettings(
        do_sample=do_sample,
        # Greedy decoding ignores the sampling knobs; normalising them lets every greedy request share a batch.
        temperature=temperature if do_sample else 1.0,
        top_p=float(params.get("top_p", 1.0)) if do_sample else 1.0,
        top_k=(0 if top_k < 0 else top_k) if do_sample else 0,
        repetition_penalty=float(params.get("repetition_penalty", 1.0)),
        min_tokens=int(params.get("min_tokens", 0)),
        stop_token_ids=frozenset(stops),
    )
    return GenerationRequest(
        prompt_ids=tuple(int(t) for t in prompt_ids),
        max_tokens=_max_tokens(params, len(prompt_ids), limits),
        want_logprobs=want_logprobs,
        settings=settings,
    )


class _StopWhenSet(StoppingCriteria):
    """Ends the whole batch at the next step once ``event`` is set (used to abort running generation)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


def _generation_config(settings: SamplingSettings, max_new_tokens: int, pad_token_id: int) -> GenerationConfig:
    # The sampling fields are set explicitly: HF fills unset (None) fields from the checkpoint's
    # generation_config.json and its global defaults (top_k=50). An empty eos list (ignore_eos, no stops) disables
    # stopping, where None would fall back to the checkpoint's eos.
    sampling = (
        {"temperature": settings.temperature, "top_p": settings.top_p, "top_k": settings.top_k}
        if settings.do_sample
        else {}  # greedy: HF warns about sampling knobs it ignores
    )
    return GenerationConfig(
        do_sample=settings.do_sample,
        **sampling,
        repetition_penalty=settings.repetition_penalty,
        min_new_tokens=settings.min_tokens,
        max_new_tokens=max_new_tokens,
        eos_token_id=sorted(settings.stop_token_ids),
        pad_token_id=pad_token_id,
        return_dict_in_generate=True,
    )


def _left_pad(prompts: Sequence[tuple[int, ...]], pad_token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        attention_mask[row, width - len(prompt) :] = 1
    return input_ids, attention_mask


def _cut(tokens: list[int], request: GenerationRequest, aborted: bool) -> tuple[list[int], FinishReason]:
    """Keep tokens up to and including the first stop token, and at most ``max_tokens``."""
    tokens = tokens[: request.max_tokens]
    for pos, token in enumerate(tokens):
        if pos >= request.settings.min_tokens and token in request.settings.stop_token_ids:
            return tokens[: pos + 1], "stop"
    if aborted and len(tokens) < request.max_tokens:
        return tokens, "abort"
    return tokens, "length"


@torch.no_grad()
def generate_batch(
    model: PreTrainedModel,
    requests: Sequence[GenerationRequest],
    *,
    pad_token_id: int,
    logprobs_mode: LogprobsMode,
    abort: threading.Event | None = None,
) -> list[GenerationResult]:
    """Generate for ``requests`` (equal ``settings``) with one left-padded ``model.generate`` call.

    Args:
        model: a causal LM in eval mode.
        requests: at least one request; all with the same ``settings``.
        pad_token_id: the id used for left padding (masked out) and for finished rows.
        logprobs_mode: which scores the returned log-probs come from (see module docstring).
        abort: when set during generation, the batch stops at the next step; unfinished requests end "abort".

    Returns:
        One :class:`GenerationResult` per request, in order.

    Raises:
        ValueError: empty ``requests``, mixed settings, or an unknown ``logprobs_mode``.
    """
    if not requests:
        raise ValueError("generate_batch needs at least one request")
    settings = requests[0].settings
    if any(r.settings != settings for r in requests):
        raise ValueError("generate_batch got requests with different sampling settings; group them first")
    if logprobs_mode not in LOGPROBS_MODES:
        raise ValueError(f"logprobs_mode {logprobs_mode!r} is not supported; use one of {LOGPROBS_MODES}")

    want_logprobs = any(r.want_logprobs for r in requests)
    input_ids, attention_mask = _left_pad([r.prompt_ids for r in requests], pad_token_id)
    config = _generation_config(settings, max(r.max_tokens for r in requests), pad_token_id)
    config.output_logits = want_logprobs and logprobs_mode == "raw_logprobs"
    config.output_scores = want_logprobs and logprobs_mode == "processed_logprobs"
    criteria = StoppingCriteriaList([_StopWhenSet(abort)] if abort is not None else [])
    out = model.generate(
        input_ids=input_ids.to(model.device),
        attention_mask=attention_mask.to(model.device),
        generation_config=config,
        stopping_criteria=criteria,
    )
    aborted = abort is not None and abort.is_set()
    new_tokens = out.sequences[:, input_ids.shape[1] :].cpu()
    token_logprobs = None
    if want_logprobs:
        steps = out.logits if logprobs_mode == "raw_logprobs" else out.scores
        # [batch, steps, vocab] -> log-prob of the token actually emitted at each step.
        stacked = torch.stack([s.float() for s in steps], dim=1).cpu()
        token_logprobs = torch.log_softmax(stacked, dim=-1).gather(-1, new_tokens.unsqueeze(-1)).squeeze(-1)

    results = []
    for row, request in enumerate(requests):
        tokens, reason = _cut(new_tokens[row].tolist(), request, aborted)
        log_probs = None
        if request.want_logprobs and token_logprobs is not None:
            log_probs = token_logprobs[row, : len(tokens)].tolist()
        results.append(GenerationResult(token_ids=tokens, log_probs=log_probs, finish_reason=reason))
    return results
