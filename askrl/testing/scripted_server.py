"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for judge tests and benchmarks (a test double).

Who uses it: the ``judge_server`` / ``judge_server_factory`` pytest fixtures (in a background thread), the
benchmarks and the tests that kill and restart a judge (as a subprocess, ``spawn``), and the README's CPU demo of
data building. Nothing in training imports it.

Contract: ``GET /health``, ``GET /v1/models``, ``POST /v1/chat/completions`` (any model name; ``usage`` reported
as word counts). A server started with ``reject_response_format`` answers every request that carries a
``response_format`` with a 400, before anything else; otherwise the format is accepted. Other replies come, in
order of precedence, from: the script queue (``POST /admin/script``: exact content or JSON, status, headers,
delay, hang; optionally only for one model name), then seeded fault injection (hang, HTTP 500, malformed JSON),
then the role the request asks for (``scripted_roles.py``: judge verdicts computed by the lexical judge from the
prompt, the simulated user, or a candidate policy). Faults are deterministic given the seed: each draw is seeded
by (seed, sha256 of the request body, how many times that body was seen), so it does not depend on the order
concurrent requests arrive in, and a retry of the same body gets a fresh draw. Latency is an ``asyncio.sleep``:
fixed, or lognormal around its median (``latency_sigma``, drawn per request body). The request log records when
each request arrived and was answered (``arrived_s``/``done_s``, unix seconds) and the latency slept
(``latency_ms``), so a benchmark can tell service time from queueing.
``GET /admin/requests`` returns the request log; ``POST /admin/config`` changes the options; ``POST /admin/reset``
clears the script, the log and the fault counters and restores the start-up options.

    python -m askrl.testing.scripted_server --port 0 --latency-ms 200 --seed 1   # prints its URL, then serves
    proc, url = spawn("--latency-ms", "200")                                     # the same, as a subprocess
    with ScriptedServer(ServerOptions(error_rate=0.1)) as server:                # in a background thread
        server.script([{"json": {"decision": "correct"}}]); server.base_url      # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import math
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from askrl.errors import EvalError
from askrl.testing.scripted_roles import role_reply

_MALFORMED = (
    'Sure! Here is my verdict: {"answered_final": tru',
    "I think the assistant did a good job overall.",
    '```json\n{"decision": correct}\n```',
)


@dataclass
class ServerOptions:
    """Behaviour of a scripted server (all rates are probabilities per request)."""

    latency_ms: float = 0.0
    latency_sigma: float = 0.0  # > 0: latency is lognormal with median ``latency_ms`` and this shape (seeded)
    error_rate: float = 0.0
    malformed_rate: float = 0.0
    hang_rate: float = 0.0
    seed: int = 0
    reject_response_format: bool = False
    hang_s: float = 600.0  # a hang ends after this long (or at shutdown) with a 503


class ScriptItem(BaseModel):
    """One queued reply. ``content`` (text) or ``json`` (serialised as the content) for a 200."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    content: str | None = None
    json_body: Any = Field(None, alias="json")
    raw_body: str | None = None  # sent verbatim as the whole HTTP body (with ``content_type``), e.g. broken JSON
    content_type: str = "application/json"
    status: int = 200
    headers: dict[str, str] = {}
    delay_ms: float = 0.0
    hang: bool = False
    model: str | None = None  # only a request for this model name consumes the item
    repeat: int = Field(1, ge=1)  # how many requests the item answers


class _State:
    def __init__(self, options: ServerOptions) -> None:
        self.initial = dataclasses.replace(options)
        self.options = options
        self.script: list[ScriptItem] = []
        self.log: list[dict[str, Any]] = []
        self.seen: Counter[str] = Counter()
        self.release = asyncio.Event()

    def reset(self) -> None:
        self.options = dataclasses.replace(self.initial)
        self.script.clear()
        self.log.clear()
        self.seen.clear()

    def pop_script(self, model: str) -> ScriptItem | None:
        for index, item in enumerate(self.script):
            if item.model is None or item.model == model:
                if item.repeat > 1:
                    self.script[index] = item.model_copy(update={"repeat": item.repeat - 1})
                else:
                    del self.script[index]
                return item
        return None


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": {"message": message, "type": "scripted_error", "code": status}}, status, headers)


def _completion(model: str, content: str, prompt_words: int, index: int) -> Response:
    return _json(
        {
            "id": f"chatcmpl-scripted-{index}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": len(content.split()),
                "total_tokens": prompt_words + len(content.split()),
            },
        }
    )


def create_app(options: ServerOptions) -> FastAPI:
    """The ASGI app; its state lives on ``app.state.scripted`` and is touched only from the server's event loop."""
    state = _State(options)
    app = FastAPI(title="askrl scripted judge server")
    app.state.scripted = state

    async def hang() -> Response:
        try:
            await asyncio.wait_for(state.release.wait(), state.options.hang_s)
        except asyncio.TimeoutError:
            pass
        return _error(503, "scripted hang ended")

    @app.get("/health")
    async def health() -> Response:
        return _json({"status": "ok"})

    @app.get("/v1/models")
    async def models() -> Response:
        return _json({"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "askrl"}]})

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        model = str(body.get("model", ""))
        messages = body.get("messages") or []
        response_format = body.get("response_format")
        entry: dict[str, Any] = {
            "index": len(state.log),
            "model": model,
            "messages": messages,
            "response_format": response_format,
            "temperature": body.get("temperature"),
            "max_tokens": body.get("max_tokens"),
            "seed": body.get("seed"),
            "arrived_s": time.time(),
        }
        state.log.append(entry)
        opts = state.options
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in messages)

        if response_format is not None and opts.reject_response_format:
            entry["served"], entry["status"] = "reject_response_format", 400
            return _error(400, "response_format is not supported by this server")

        item = state.pop_script(model)
        if item is not None:
            entry["served"] = "script"
            if item.delay_ms:
                await asyncio.sleep(item.delay_ms / 1000)
            if item.hang:
                entry["status"] = 503
                return await hang()
            entry["status"] = item.status
            if item.raw_body is not None:
                return Response(item.raw_body, status_code=item.status, media_type=item.content_type)
            if item.status != 200:
                return _error(item.status, f"scripted status {item.status}", item.headers)
            content = item.content if item.content is not None else json.dumps(item.json_body)
            return _completion(model, content, prompt_words, entry["index"])

        digest = hashlib.sha256(raw).hexdigest()[:16]
        state.seen[digest] += 1
        draw = random.Random(f"{opts.seed}:{digest}:{state.seen[digest]}").random()
        if draw < opts.hang_rate:
            entry["served"], entry["status"] = "fault_hang", 503
            return await hang()
        latency_ms = opts.latency_ms
        if opts.latency_sigma > 0 and latency_ms > 0:
            spread = random.Random(f"latency:{opts.seed}:{digest}:{state.seen[digest]}").gauss(0.0, 1.0)
            latency_ms *= math.exp(opts.latency_sigma * spread)
        if latency_ms:
            entry["latency_ms"] = latency_ms
            await asyncio.sleep(latency_ms / 1000)
        if draw < opts.hang_rate + opts.error_rate:
            entry["served"], entry["status"] = "fault_500", 500
            return _error(500, "scripted internal error")
        if draw < opts.hang_rate + opts.error_rate + opts.malformed_rate:
            entry["served"], entry["status"] = "fault_malformed", 200
            content = _MALFORMED[int(digest, 16) % len(_MALFORMED)]
            return _completion(model, content, prompt_words, entry["index"])
        try:
            role, content = await role_reply(messages, response_format)
        except RuntimeError as err:
            entry["served"], entry["status"] = "role_error", 500
            return _error(500, str(err))
        entry["served"], entry["status"], entry["done_s"] = role, 200, time.time()
        return _completion(model, content, prompt_words, entry["index"])

    @app.post("/admin/script")
    async def add_script(request: Request) -> Response:
        payload = json.loads(await request.body())
        items = payload if isinstance(payload, list) else payload.get("items", [])
        state.script.extend(ScriptItem.model_validate(item) for item in items)
        return _json({"queued": len(state.script)})

    @app.get("/admin/requests")
    async def requests_log() -> Response:
        return _json({"requests": state.log})

    @app.post("/admin/config")
    async def configure(request: Request) -> Response:
        state.options = dataclasses.replace(state.options, **json.loads(await request.body()))
        return _json(dataclasses.asdict(state.options))

    @app.post("/admin/reset")
    async def reset() -> Response:
        state.reset()
        return _json({"reset": True})

    return app


class ServerHandle:
    """Talks to a running scripted server over HTTP (same API for a thread or a subprocess)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.base_url = f"{url}/v1"
        self._http = httpx.Client(base_url=url, timeout=10.0)

    def script(self, items: list[dict[str, Any]]) -> None:
        """Queue replies (see ``ScriptItem``), consumed in order by matching chat requests."""
        self._http.post("/admin/script", json={"items": items}).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """Every chat request received since start or the last reset, with how it was served."""
        response = self._http.get("/admin/requests")
        response.raise_for_status()
        return list(response.json()["requests"])

    def configure(self, **options: Any) -> None:
        """Change ``ServerOptions`` fields (e.g. ``latency_ms``, ``error_rate``) while the server runs."""
        self._http.post("/admin/config", json=options).raise_for_status()

    def reset(self) -> None:
        self._http.post("/admin/reset").raise_for_status()

    def close(self) -> None:
        self._http.close()


def _bind(port: int) -> socket.socket:
    """A listening-ready socket on 127.0.0.1. ``IPPROTO_TCP`` is explicit because asyncio sets ``TCP_NODELAY`` on
    accepted connections only when the socket's proto says TCP; without it Nagle adds ~40 ms to every reply."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class ScriptedServer(ServerHandle):
    """A scripted server in a background thread with its own event loop; ``stop()`` releases hangs and joins."""

    def __init__(self, options: ServerOptions | None = None, port: int = 0) -> None:
        self.app = create_app(options or ServerOptions())
        self._sock = _bind(port)
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="scripted-judge-server", daemon=True)
        super().__init__(f"http://127.0.0.1:{self._sock.getsockname()[1]}")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        finally:
            loop.close()

    def start(self, timeout_s: float = 5.0) -> ScriptedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"scripted server on {self.url} did not start within {timeout_s} s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.app.state.scripted.release.set)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(*options: str, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """``python -m askrl.testing.scripted_server`` with ``options`` (its CLI flags) as a subprocess, once healthy: a
    server whose CPU is not charged to the caller (benchmarks), or one a test can kill and restart on ``port``.
    Returns the process and the server's URL (without ``/v1``)."""
    cmd = [sys.executable, "-m", "askrl.testing.scripted_server", "--port", str(port), *options]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if url and httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.terminate()
    raise EvalError(f"scripted server did not start (command: {' '.join(cmd)})")


def main(argv: list[str] | None = None) -> None:
    """CLI: serve until SIGINT/SIGTERM; the first stdout line is the server's URL (useful with ``--port 0``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency (the median when --latency-sigma > 0)")
    parser.add_argument("--latency-sigma", type=float, default=0.0, help="lognormal shape of the latency (0: fixed)")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--malformed-rate", type=float, default=0.0)
    parser.add_argument("--hang-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reject-response-format", action="store_true")
    args = parser.parse_args(argv)
    options = ServerOptions(
        latency_ms=args.latency_ms,
        latency_sigma=args.latency_sigma,
        error_rate=args.error_rate,
        malformed_rate=args.malformed_rate,
        hang_rate=args.hang_rate,
        seed=args.seed,
        reject_response_format=args.reject_response_format,
    )
    sock = _bind(args.port)
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        create_app(options), log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
