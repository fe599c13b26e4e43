"""Judge reachability: preflight's /v1/models check and askrl.serve's health wait, against real HTTP servers.

The judge endpoint is the scripted OpenAI-compatible server on 127.0.0.1 (it serves the model id ``scripted``);
vLLM itself cannot run here, so the serve tests cover planning, the exact vLLM command, and the health wait
against a live endpoint and a process that dies.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from askrl.errors import ConfigError
from askrl.judge.probe import check_judge_endpoints
from askrl.serve import ServerSpec, is_healthy, parse_gpus, plan_servers, vllm_command, wait_healthy


def test_preflight_accepts_a_serving_endpoint(judge_server) -> None:
    assert check_judge_endpoints([(judge_server.base_url, "scripted", None)]) == []


def test_preflight_names_wrong_model_dead_endpoint_and_missing_key(judge_server, monkeypatch) -> None:
    monkeypatch.delenv("ASKRL_TEST_KEY", raising=False)
    problems = check_judge_endpoints(
        [
            (judge_server.base_url, "qwen3-judge", None),
            ("http://127.0.0.1:9/v1", "scripted", None),
            (judge_server.base_url, "scripted", "ASKRL_TEST_KEY"),
        ],
        timeout_s=2.0,
    )
    assert problems[0] == f"judge endpoint {judge_server.base_url}: serves ['scripted'], not 'qwen3-judge'; fix the endpoint's model name"
    assert problems[1].startswith("judge endpoint http://127.0.0.1:9/v1: no answer from http://127.0.0.1:9/v1/models")
    assert problems[2] == f"judge endpoint {judge_server.base_url}: environment variable ASKRL_TEST_KEY (its API key) is not set"


def test_gpu_plans() -> None:
    assert parse_gpus("0,1,4-5") == [0, 1, 4, 5]
    assert plan_servers([0, 1, 2, 3], [8012, 8013], tp=2) == [ServerSpec(8012, (0, 1)), ServerSpec(8013, (2, 3))]
    with pytest.raises(ConfigError, match="need 2 GPUs, --gpus gave 3"):
        plan_servers([0, 1, 2], [8012, 8013], tp=1)
    with pytest.raises(ConfigError, match="cannot parse 'x'"):
        parse_gpus("0,x")


def test_vllm_command_serves_the_name_clients_send() -> None:
    cmd = vllm_command("/models/judge", ServerSpec(8012, (0, 1)), served_name="default", host="127.0.0.1", extra=["--max-model-len", "8192"])
    assert cmd[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert cmd[cmd.index("--served-model-name") + 1] == "default"
    assert cmd[cmd.index("--port") + 1] == "8012"
    assert cmd[cmd.index("--tensor-parallel-size") + 1] == "2"
    assert cmd[-2:] == ["--max-model-len", "8192"]


def test_wait_healthy_returns_once_served_and_fails_fast_when_a_server_dies(judge_server) -> None:
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert is_healthy(judge_server.base_url, "scripted")
        assert not is_healthy(judge_server.base_url, "default")
        wait_healthy([judge_server.base_url], "scripted", [alive], timeout_s=5, poll_s=0.05)
        with pytest.raises(ConfigError, match="not healthy after 0 s"):
            wait_healthy([judge_server.base_url], "default", [alive], timeout_s=0.2, poll_s=0.05)
    finally:
        alive.kill()
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    with pytest.raises(ConfigError, match="exited with code 3 before becoming healthy"):
        wait_healthy(["http://127.0.0.1:9/v1"], "default", [dead], timeout_s=5, poll_s=0.05)
