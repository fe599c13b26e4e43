"""The scripted OpenAI-compatible server itself: endpoints, roles, admin API, CLI start/stop, and the benchmark.

Nothing is faked here beyond the server being a test double; requests go over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx
import pytest

from askrl.bench import judge as bench
from askrl.testing.scripted_server import ScriptedServer, ServerOptions


def chat(base_url: str, messages: list[dict[str, str]], model: str = "policy") -> dict:
    response = httpx.post(f"{base_url}/chat/completions", json={"model": model, "messages": messages}, timeout=5)
    response.raise_for_status()
    return response.json()


def test_thread_server_starts_fast_and_stops_cleanly() -> None:
    start = time.monotonic()
    server = ScriptedServer(ServerOptions()).start()
    assert time.monotonic() - start < 2.0
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    server.script([{"hang": True}])
    stop = time.monotonic()
    server.stop()  # nothing is hanging yet; stop must not wait for the graceful-shutdown timeout
    assert time.monotonic() - stop < 2.0


def test_models_and_usage(judge_server) -> None:
    assert httpx.get(f"{judge_server.base_url}/models").json()["data"][0]["id"] == "scripted"
    body = chat(judge_server.base_url, [{"role": "user", "content": "one two three"}])
    assert body["object"] == "chat.completion"
    assert body["usage"]["prompt_tokens"] == 3
    assert body["usage"]["completion_tokens"] == len(body["choices"][0]["message"]["content"].split())


def test_policy_role_asks_then_answers(judge_server) -> None:
    first = chat(judge_server.base_url, [{"role": "user", "content": "How many apples are left?"}])
    ask = first["choices"][0]["message"]["content"]
    assert ask.endswith("?") and "apple" in ask
    history = [
        {"role": "user", "content": "How many apples are left?"},
        {"role": "assistant", "content": ask},
        {"role": "user", "content": "Tom had 7 and gave away 3."},
    ]
    assert chat(judge_server.base_url, history)["choices"][0]["message"]["content"] == "Final Answer: 3"
    assert [r["served"] for r in judge_server.requests()] == ["policy", "policy"]


def test_script_model_match_and_reset(judge_server) -> None:
    judge_server.script([{"content": "for the judge only", "model": "judge"}])
    assert chat(judge_server.base_url, [{"role": "user", "content": "hi"}], model="policy")["choices"][0]["message"][
        "content"
    ].startswith("Before I answer")
    judge_body = chat(judge_server.base_url, [{"role": "user", "content": "hi"}], model="judge")
    assert judge_body["choices"][0]["message"]["content"] == "for the judge only"
    judge_server.reset()
    assert judge_server.requests() == []


def test_configure_latency(judge_server) -> None:
    judge_server.configure(latency_ms=150)
    start = time.monotonic()
    chat(judge_server.base_url, [{"role": "user", "content": "hi"}])
    assert time.monotonic() - start >= 0.14


def test_cli_serves_and_exits_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "askrl.testing.scripted_server", "--port", "0", "--latency-ms", "5", "--seed", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "CLI server did not come up"
                time.sleep(0.05)
        assert chat(f"{url}/v1", [{"role": "user", "content": "hi"}])["choices"]
    finally:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the captured signal (exit status -SIGTERM)
        assert proc.wait(timeout=5) in (0, -signal.SIGTERM)


def test_benchmark_prints_json_last(capsys) -> None:
    bench.main(["--calls", "40", "--latency-ms", "20", "--concurrency", "8", "--sequential-calls", "3"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary["bound_calls_per_s"] == 400.0
    assert summary["ratio"] > 0
    assert summary["ratio"] == pytest.approx(summary["calls_per_s"] / 400.0, abs=1e-3)  # both are rounded
    assert summary["speedup_vs_sequential"] > 1 and summary["client_cpu_ms_per_call"] > 0
