"""A small OpenAI-compatible chat server on transformers that batches concurrent requests (no vLLM needed).

Why: evaluation on a CPU machine (tests, demos, the checkpoint evaluation's CPU profile) needs the model behind
the same OpenAI API vLLM offers. Generation reuses the rollout's batching core (``askrl/cpu/generation.py``):
requests that arrive within ``batch_wait_ms`` and share sampling settings (and seed) run as one left-padded
``generate`` call of at most ``max_batch_size`` rows, so concurrent evaluation requests cost little more than one.

API: ``GET /health``; ``GET /v1/models`` (the served name, ``root`` = the model path); ``POST /v1/chat/completions``
with ``messages``, ``n``, ``temperature`` (0 = greedy), ``top_p``, ``max_tokens`` (or ``max_completion_tokens``),
``stop`` (a string or a list; the reply is cut before the first one), ``seed`` (``torch.manual_seed`` before the
batch: reproducible for the same batch composition). Streaming is refused with a 400; unknown fields are ignored,
as OpenAI clients send many. Errors use OpenAI's ``{"error": {...}}`` shape.

    serve(HFServerOptions(path=Path("~/.cache/askrl/models/smollm2").expanduser(), port=0))  # prints its /v1 URL
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from askrl.cpu.generation import GenerationRequest, GenerationResult, TokenLimits, generate_batch, parse_request
from askrl.errors import ConfigError, RolloutError

_DISCONNECT_POLL_S = 0.5


class ShuttingDown(RuntimeError):
    """A request that arrived, or was still generating, when SIGTERM came (answered 503)."""


class HFServerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    served_name: str = "default"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_model_len: int | None = Field(None, ge=16)
    max_batch_size: int = Field(16, ge=1)
    batch_wait_ms: float = Field(10.0, ge=0)
    default_max_tokens: int = Field(512, ge=1)
    device: str = "auto"
    threads: int | None = Field(None, ge=1)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    content: str


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    n: int = Field(1, ge=1, le=64)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False


@dataclass
class _Job:
    request: GenerationRequest
    seed: int | None
    future: asyncio.Future[GenerationResult] = field(repr=False)


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """``text`` up to the first occurrence of any stop string, and whether one was found."""
    positions = [text.find(s) for s in stops if s and s in text]
    return (text[: min(positions)], True) if positions else (text, False)


class Engine:
    """The model, its tokenizer, and the batching loop (one ``generate`` call at a time, in a worker thread)."""

    def __init__(self, options: HFServerOptions) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if options.threads:
            torch.set_num_threads(options.threads)
        device = options.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.options = options
        self.tokenizer = AutoTokenizer.from_pretrained(options.path)
        if self.tokenizer.chat_template is None:
            raise ConfigError(f"{options.path}: the tokenizer has no chat template; the chat API needs one")
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(options.path, dtype=dtype).to(device).eval()
        self.max_model_len = options.max_model_len or int(
            getattr(self.model.config, "max_position_embeddings", 2048) or 2048
        )
        eos = self.model.generation_config.eos_token_id if self.model.generation_config else None
        eos_ids = eos if isinstance(eos, list) else [eos] if eos is not None else []
        if self.tokenizer.eos_token_id is not None:
            eos_ids.append(self.tokenizer.eos_token_id)
        self.eos_ids = sorted(set(eos_ids))
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else self.eos_ids[0] if self.eos_ids else 0)
        self._pending: list[_Job] = []
        self._wake = asyncio.Event()
        self.stopping = threading.Event()
        """Set on SIGTERM: the running ``generate`` stops at its next token, waiting requests fail at once."""
        self._batch_abort = threading.Event()  # the running batch's: SIGTERM, or every client of it went away
        self.batches = 0

    def prompt_ids(self, messages: list[ChatMessage]) -> list[int]:
        out = self.tokenizer.apply_chat_template(
            [m.model_dump() for m in messages], add_generation_prompt=True, tokenize=True
        )
        ids = out["input_ids"] if hasattr(out, "keys") else out
        return [int(t) for t in ids]

    def parse(self, prompt: list[int], req: ChatRequest) -> GenerationRequest:
        max_tokens = req.max_tokens or req.max_completion_tokens or self.options.default_max_tokens
        limits = TokenLimits(prompt_length=self.max_model_len, response_length=max_tokens,
                             max_model_len=self.max_model_len)  # fmt: skip
        params = {"temperature": req.temperature, "top_p": req.top_p, "max_tokens": max_tokens}
        return parse_request(prompt, params, limits=limits, eos_token_ids=self.eos_ids)

    async def generate(self, request: GenerationRequest, seed: int | None) -> GenerationResult:
        if self.stopping.is_set():
            raise ShuttingDown("the server is shutting down")
        future: asyncio.Future[GenerationResult] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(request, seed, future))
        self._wake.set()
        return await future

    def stop(self) -> None:
        """Stop generating (SIGTERM): without this, a shutdown waits for every batch to reach ``max_tokens``."""
        self.stopping.set()
        self._batch_abort.set()
        self._wake.set()

    async def run_batches(self) -> None:
        """Forever: wait for work, collect for ``batch_wait_ms``, run each compatible group as one batch."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.options.batch_wait_ms / 1000)
            jobs, self._pending = self._pending, []
            self._wake.clear()
            if self.stopping.is_set():
                for job in (j for j in jobs if not j.future.done()):
                    job.future.set_exception(ShuttingDown("the server is shutting down"))
                continue
            groups: dict[tuple[Any, int | None], list[_Job]] = {}
            for job in jobs:
                groups.setdefault((job.request.settings, job.seed), []).append(job)
            for (_, seed), group in groups.items():
                for start in range(0, len(group), self.options.max_batch_size):
                    # requests whose client went away (their future cancelled) are not generated
                    chunk = [j for j in group[start : start + self.options.max_batch_size] if not j.future.done()]
                    if not chunk:
                        continue
                    self._watch(chunk)
                    try:
                        results = await asyncio.to_thread(self._generate, [j.request for j in chunk], seed)
                    except Exception as err:  # a failed batch fails its requests, never the server
                        for job in chunk:
                            if not job.future.done():
                                job.future.set_exception(err)
                        continue
                    for job, result in zip(chunk, results, strict=True):
                        if not job.future.done():
                            job.future.set_result(result)

    def _watch(self, chunk: list[_Job]) -> None:
        """A fresh abort event for the next batch, set when every request of it is abandoned (or on SIGTERM)."""
        abort = self._batch_abort = threading.Event()
        if self.stopping.is_set():
            abort.set()

        def abandoned(_: asyncio.Future[GenerationResult]) -> None:
            if all(job.future.cancelled() for job in chunk):
                abort.set()

        for job in chunk:
            job.future.add_done_callback(abandoned)

    def _generate(self, requests: list[GenerationRequest], seed: int | None) -> list[GenerationResult]:
        if seed is not None:
            torch.manual_seed(seed)
        self.batches += 1
        return generate_batch(self.model, requests, pad_token_id=self.pad_id, logprobs_mode="raw_logprobs",
                              abort=self._batch_abort)


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def create_app(engine: Engine) -> FastAPI:
    options = engine.options

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = asyncio.create_task(engine.run_batches())
        yield
        worker.cancel()

    app = FastAPI(title="askrl transformers chat server", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        card = {"id": options.served_name, "object": "model", "owned_by": "askrl", "root": str(options.path),
                "max_model_len": engine.max_model_len}  # fmt: skip
        return {"object": "list", "data": [card]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        try:
            req = ChatRequest.model_validate_json(await request.body())
        except ValidationError as err:
            return _error(400, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()))
        if req.model != options.served_name:
            return _error(404, f"model {req.model!r} is not served here; this server serves {options.served_name!r}",
                          "not_found_error")  # fmt: skip
        if req.stream:
            return _error(400, "stream=true is not supported by this server")
        try:
            prompt = engine.prompt_ids(req.messages)
            gen = engine.parse(prompt, req)
        except (RolloutError, ValueError) as err:
            return _error(400, str(err))
        work = asyncio.ensure_future(asyncio.gather(*(engine.generate(gen, req.seed) for _ in range(req.n))))
        while not (await asyncio.wait({work}, timeout=_DISCONNECT_POLL_S))[0]:
            if await request.is_disconnected():  # nobody waits for this reply: stop generating it
                work.cancel()
                return _error(499, "the client closed the connection")
        try:
            results = work.result()
        except ShuttingDown as err:
            return _error(503, str(err), "server_error")
        except Exception as err:  # noqa: BLE001  (a generation failure is this request's 500)
            return _error(500, f"generation failed: {type(err).__name__}: {err}", "server_error")
        if any(result.finish_reason == "abort" for result in results):  # cut short by SIGTERM: not a real reply
            return _error(503, "the server is shutting down", "server_error")
        stops = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
        choices, completion_tokens = [], 0
        for index, result in enumerate(results):
            text = engine.tokenizer.decode(result.token_ids, skip_special_tokens=True)
            text, stopped = cut_at_stop(text, stops)
            reason = "stop" if stopped or result.finish_reason == "stop" else "length"
            completion_tokens += len(result.token_ids)
            choices.append({"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": reason})
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": options.served_name, "choices": choices,
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": completion_tokens,
                      "total_tokens": len(prompt) + completion_tokens},
        })  # fmt: skip

    return app


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server with our own SIGTERM/SIGINT handling: uvicorn re-raises a caught signal after its graceful
    shutdown (exit status -15); here a SIGTERM is the normal way to stop, so the process exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(server: _Server, engine: Engine, sock: socket.socket, url: str) -> None:
    loop = asyncio.get_running_loop()

    def shut_down() -> None:
        engine.stop()
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shut_down)
    print(url, flush=True)  # after the handlers: a SIGTERM right after the URL still stops cleanly
    await server.serve(sockets=[sock])


def serve(options: HFServerOptions) -> None:
    """Load the model, bind, print ``http://HOST:PORT/v1`` on stdout, serve until SIGTERM/SIGINT (exit 0)."""
    engine = Engine(options)
    sock = bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    print(f"serve: {options.path} as {options.served_name!r} (transformers, {engine.model.device})", file=sys.stderr)
    config = uvicorn.Config(create_app(engine), log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    asyncio.run(_serve(_Server(config), engine, sock, f"http://{host}:{port}/v1"))
