"""``python -m askrl.serve model`` (transformers backend) as a subprocess on the tiny model: /health, /v1/models,
chat completions with n, temperature, top_p, max_tokens, stop and seed, batching of concurrent requests, and a
clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def served(tiny_model):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "askrl.serve", "model", "--path", str(tiny_model), "--port", "0",
           "--served-name", "tiny", "--backend", "hf", "--batch-wait-ms", "50", "--threads", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
    yield proc, url
    if proc.poll() is None:
        proc.kill()


def test_health_and_models(served, tiny_model):
    _, url = served
    base = url.removesuffix("/v1")
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    [card] = httpx.get(f"{url}/models").json()["data"]
    assert card["id"] == "tiny" and card["root"] == str(tiny_model)


async def test_chat_completions_sampling_and_batching(served):
    _, url = served
    client = openai.AsyncOpenAI(base_url=url, api_key="EMPTY", max_retries=0)
    msgs = [{"role": "user", "content": "Say something."}]
    out = await client.chat.completions.create(model="tiny", messages=msgs, n=3, temperature=1.0, top_p=0.9,
                                               max_tokens=6, seed=7)  # fmt: skip
    assert len(out.choices) == 3 and out.usage.completion_tokens <= 18
    again = await client.chat.completions.create(model="tiny", messages=msgs, n=3, temperature=1.0, top_p=0.9,
                                                 max_tokens=6, seed=7)  # fmt: skip
    assert [c.message.content for c in again.choices] == [c.message.content for c in out.choices]  # seeded
    greedy = [client.chat.completions.create(model="tiny", messages=msgs, temperature=0, max_tokens=8) for _ in range(4)]
    texts = {r.choices[0].message.content for r in await asyncio.gather(*greedy)}
    assert len(texts) == 1  # greedy requests that arrive together share a batch and agree
    text = next(iter(texts))
    if len(text) > 2:
        stop = text[1:3]
        cut = await client.chat.completions.create(model="tiny", messages=msgs, temperature=0, max_tokens=8, stop=[stop])
        assert cut.choices[0].message.content == text[: text.find(stop)]
        assert cut.choices[0].finish_reason == "stop"
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(model="other", messages=msgs, max_tokens=2)
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(model="tiny", messages=msgs, max_tokens=0)
    await client.close()


def test_sigterm_stops_cleanly(served):
    proc, _ = served
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


LONG_GREEDY = {"model": "tiny", "messages": [{"role": "user", "content": "Say something."}], "temperature": 0,
               "max_tokens": 3000}  # ~15 s of greedy tokens on one thread: the tiny model never emits EOS greedily


def _one_thread_server(tiny_model: Path) -> tuple[subprocess.Popen[str], str]:
    """A transformers server on one thread (so a long generation stays long), and its /v1 URL."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "askrl.serve", "model", "--path", str(tiny_model), "--port", "0",
           "--served-name", "tiny", "--backend", "hf", "--threads", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_sigterm_mid_generation_stops_within_5_s(tiny_model):
    """Requests in flight, each a greedy 3,000-token generation (~15 s on one thread: the tiny model never emits
    EOS greedily): SIGTERM stops the server within 5 s, and the requests get a 503 instead of a cut-short reply."""
    import threading
    import time

    proc, url = _one_thread_server(tiny_model)
    try:
        body = LONG_GREEDY
        statuses: list[int | str] = []

        def ask() -> None:
            try:
                statuses.append(httpx.post(f"{url}/chat/completions", json=body, timeout=60).status_code)
            except httpx.HTTPError as err:
                statuses.append(type(err).__name__)

        clients = [threading.Thread(target=ask) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(2.0)  # the batch is generating
        assert not statuses
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        stopped_s = time.monotonic() - sent
        for client in clients:
            client.join(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert stopped_s < 5.0, f"the server took {stopped_s:.1f} s to stop"
    assert statuses == [503] * 4


def test_help_shows_the_defaults(capsys):
    from askrl.serve import main

    with pytest.raises(SystemExit):
        main(["model", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("--port PORT 0 picks a free port (printed) (default: 8000)", "(default: default)",
                  "--max-batch-size MAX_BATCH_SIZE hf: rows per generate call (default: 16)",
                  "--default-max-tokens DEFAULT_MAX_TOKENS hf: max_tokens of a request that sets none (default: 512)"):
        assert shown in text


def test_a_client_that_goes_away_stops_its_generation(tiny_model):
    """Abandoned requests are not generated to the end: the next request is answered in seconds."""
    import threading
    import time

    proc, url = _one_thread_server(tiny_model)
    try:
        long = LONG_GREEDY
        outcomes: list[str] = []

        def give_up() -> None:  # a client that stops waiting after 1.5 s and closes its connection
            try:
                httpx.post(f"{url}/chat/completions", json=long, timeout=1.5)
                outcomes.append("answered")
            except httpx.TimeoutException:
                outcomes.append("gave up")

        clients = [threading.Thread(target=give_up) for _ in range(4)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        assert outcomes == ["gave up"] * 4
        started = time.monotonic()
        reply = httpx.post(f"{url}/chat/completions", json={**long, "max_tokens": 4}, timeout=60)
        assert reply.status_code == 200
        waited = time.monotonic() - started
        assert waited < 4.0, f"waited {waited:.1f} s"  # not queued behind the abandoned ~14 s batch
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
