"""Where askrl finds vLLM and the commands it starts vLLM with (no server started here)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from askrl.env_vars import ASKRL_VLLM_PYTHON
from askrl.errors import ConfigError
from askrl.serve import ServerSpec, vllm_command
from askrl.serve.vllm_env import CPU_FLAGS, VENV_DIR, repo_root, vllm_python, vllm_server_command, vllm_server_env


def test_the_vllm_interpreter_is_the_setting_else_the_repos_venv(monkeypatch, tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text("")
    monkeypatch.setenv(ASKRL_VLLM_PYTHON, str(python))
    assert vllm_python() == str(python)
    monkeypatch.setenv(ASKRL_VLLM_PYTHON, str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="ASKRL_VLLM_PYTHON=.*missing: no such interpreter"):
        vllm_python()
    monkeypatch.delenv(ASKRL_VLLM_PYTHON)
    local = repo_root() / VENV_DIR / "bin" / "python"
    if local.is_file():
        assert vllm_python() == str(local)


def test_a_cpu_server_runs_the_api_server_module_in_float32_eager() -> None:
    cmd = vllm_server_command("/venv/bin/python", "/m", port=8012, cpu=True, extra=["--max-model-len", "512"])
    assert cmd[:3] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server"]  # not `vllm serve`
    assert cmd[cmd.index("--port") + 1] == "8012" and cmd[-2:] == ["--max-model-len", "512"]
    assert all(flag in cmd for flag in CPU_FLAGS)
    assert not set(CPU_FLAGS) & set(vllm_server_command("p", "/m", port=1, cpu=False))
    env = vllm_server_env({"VLLM_CPU_KVCACHE_SPACE": "4"}, cpu=True)
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "4" and env["VLLM_NO_USAGE_STATS"] == "1"  # the user's value stays
    assert "VLLM_CPU_KVCACHE_SPACE" not in vllm_server_env({}, cpu=False)


def test_judge_cpu_mode_has_no_gpus_and_one_rank_per_server() -> None:
    cpu = vllm_command("/m", ServerSpec(8012, ()), served_name="default", host="127.0.0.1", extra=[], python="py")
    assert cpu[0] == "py" and cpu[cpu.index("--tensor-parallel-size") + 1] == "1" and "--enforce-eager" in cpu
    gpu = vllm_command("/m", ServerSpec(8012, (0, 1)), served_name="default", host="127.0.0.1", extra=[])
    assert gpu[gpu.index("--tensor-parallel-size") + 1] == "2" and "--enforce-eager" not in gpu


def test_serve_judge_needs_gpus_or_cpu_and_serve_model_needs_vllm_for_backend_vllm(monkeypatch, tmp_path) -> None:
    from askrl.serve import main

    with pytest.raises(SystemExit):
        main(["judge", "--model", "/m", "--ports", "8012"])  # neither --gpus nor --cpu
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setenv(ASKRL_VLLM_PYTHON, str(tmp_path / "missing"))
    assert main(["model", "--path", str(tmp_path), "--backend", "vllm", "--port", "8000"]) == 2
    args = argparse.Namespace(cpu=True, tp=2, ports="8012", gpus=None)
    from askrl.serve.judge import serve_judge

    with pytest.raises(ConfigError, match="--tp does not apply"):
        serve_judge(args)
