"""An OpenAI-compatible chat endpoint over a live rollout replica's token-in/token-out server handle.

Why: the ``rollout`` evaluation backend evaluates a checkpoint against the rollout servers right after their weight
sync. vLLM replicas already serve the OpenAI API (``replica.server_address``); the ``hf_cpu`` server is a Ray actor
with vLLM's ``generate(prompt_ids, sampling_params, request_id)`` only. This endpoint, started in the trainer's
process for the duration of one evaluation, applies the tokenizer's chat template, calls ``generate`` and decodes,
so the evaluator talks to the CPU rollout exactly as it talks to vLLM.

Contract: ``GET /health``, ``GET /v1/models`` (one model, ``served_name``), ``POST /v1/chat/completions`` with
``messages``, ``max_tokens`` (or ``max_completion_tokens``), ``temperature``, ``top_p``, ``n`` and ``seed``
(accepted, not used: the server's sampling is not seeded per request); ``stop`` strings are applied by cutting the
decoded text. Other fields are ignored. Binds 127.0.0.1 on a free port; :meth:`ReplicaChatEndpoint.close` stops it.

    with ReplicaChatEndpoint(server_handle, tokenizer) as endpoint:
        subprocess.run(["python", "-m", "eval_hooks.run", "--model-url", endpoint.base_url, ...])
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_SAMPLING = ("temperature", "top_p")


class ReplicaChatEndpoint:
    """A uvicorn server in a daemon thread, forwarding chat completions to ``handle.generate``."""

    def __init__(self, handle: Any, tokenizer: Any, *, served_name: str = "default", max_tokens: int = 256) -> None:
        self._handle = handle
        self._tokenizer = tokenizer
        self.served_name = served_name
        self._default_max_tokens = max_tokens
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._server = uvicorn.Server(uvicorn.Config(self._app(), host="127.0.0.1", port=self.port,
                                                     log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, name="askrl-replica-endpoint", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the replica chat endpoint did not start on 127.0.0.1:{self.port}")
            time.sleep(0.05)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> ReplicaChatEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = self._tokenizer.apply_chat_template(body["messages"], add_generation_prompt=True, tokenize=True)
        prompt_ids = list(prompt["input_ids"] if isinstance(prompt, dict) or hasattr(prompt, "keys") else prompt)
        params: dict[str, Any] = {k: body[k] for k in _SAMPLING if body.get(k) is not None}
        params["max_tokens"] = int(body.get("max_tokens") or body.get("max_completion_tokens")
                                   or self._default_max_tokens)
        stops = body.get("stop") or []
        stops = [stops] if isinstance(stops, str) else list(stops)
        outputs = await asyncio.gather(*[
            self._handle.generate.remote(prompt_ids=prompt_ids, sampling_params=params, request_id=uuid.uuid4().hex)
            for _ in range(int(body.get("n") or 1))
        ])
        choices, completion_tokens = [], 0
        for index, out in enumerate(outputs):
            text = self._tokenizer.decode(out.token_ids, skip_special_tokens=True)
            finish = "length" if len(out.token_ids) >= params["max_tokens"] else "stop"
            for stop in stops:
                if stop and stop in text:
                    text, finish = text[: text.index(stop)], "stop"
            completion_tokens += len(out.token_ids)
            choices.append({"index": index, "message": {"role": "assistant", "content": text},
                            "finish_reason": finish})
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.served_name,
            "choices": choices,
            "usage": {"prompt_tokens": len(prompt_ids), "completion_tokens": completion_tokens,
                      "total_tokens": len(prompt_ids) + completion_tokens},
        }

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.served_name, "object": "model", "owned_by": "askrl"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            if not isinstance(body.get("messages"), list) or not body["messages"]:
                return JSONResponse({"error": {"message": "messages must be a non-empty list"}}, status_code=400)
            try:
                return JSONResponse(await self._complete(body))
            except Exception as err:  # the evaluator counts it as a candidate failure and retries
                return JSONResponse({"error": {"message": f"{type(err).__name__}: {err}"}}, status_code=500)

        return app
