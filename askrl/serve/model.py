"""``python -m askrl.serve model``: serve one HF model folder with the OpenAI chat API.

Backend ``auto`` (default) is vLLM's OpenAI server when a vLLM interpreter exists (``askrl/serve/vllm_env.py``: the
gpu extra's vLLM on a GPU machine, ``.venv-vllm`` with vLLM's CPU build on a CPU one), else askrl's transformers
server (``askrl/serve/hf_server.py``). vLLM replaces this process (``exec``), so SIGTERM reaches it
directly; the transformers server stops within seconds of SIGTERM, mid-generation too (the running batch stops
at its next token and its requests get a 503). Both bind to
127.0.0.1 unless ``--host`` says otherwise and answer ``/health`` and ``/v1/models`` (with ``root`` = the path).

    python -m askrl.serve model --path ~/.cache/askrl/models/smollm2 --port 0    # prints http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from askrl.errors import ConfigError
from askrl.serve.vllm_env import has_cuda_gpu, vllm_python, vllm_server_command, vllm_server_env


def vllm_model_command(args: argparse.Namespace, python: str | None = None, *, cpu: bool = False) -> list[str]:
    return vllm_server_command(
        python or sys.executable, args.path, port=args.port, served_name=args.served_name, host=args.host,
        tensor_parallel_size=args.tensor_parallel_size, cpu=cpu,
        extra=["--max-model-len", str(args.max_model_len)] if args.max_model_len else [],
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``model`` subcommand of ``python -m askrl.serve``."""
    p = sub.add_parser("model", help="serve a HF model folder with the OpenAI chat API",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--path", required=True, type=Path, default=argparse.SUPPRESS,
                   help="HF model folder (config.json, weights, tokenizer)")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed)")
    p.add_argument("--served-name", default="default", help="the model name clients send")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0: every interface)")
    p.add_argument("--backend", choices=["auto", "vllm", "hf"], default="auto",
                   help="auto: vLLM where it is installed, else hf (transformers)")
    p.add_argument("--max-model-len", type=int, help="context length; None: the model's")
    p.add_argument("--tensor-parallel-size", type=int, default=1, help="vllm: GPUs one server shards the model over")
    p.add_argument("--max-batch-size", type=int, default=16, help="hf: rows per generate call")
    p.add_argument("--batch-wait-ms", type=float, default=10.0, help="hf: how long to collect concurrent requests")
    p.add_argument("--default-max-tokens", type=int, default=512, help="hf: max_tokens of a request that sets none")
    p.add_argument("--device", default="auto", help="hf: cpu, cuda or auto")
    p.add_argument("--threads", type=int, help="hf: torch intra-op threads; None: torch's default")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not (args.path / "config.json").is_file():
        print(f"serve: {args.path}: not a HF model folder (no config.json)", file=sys.stderr)
        return 2
    try:
        python = vllm_python() if args.backend != "hf" else None
    except ConfigError as err:
        print(f"serve: {err}", file=sys.stderr)
        return 2
    if args.backend == "vllm" and python is None:
        print("serve: --backend vllm but no vLLM here; run `make vllm` or set ASKRL_VLLM_PYTHON", file=sys.stderr)
        return 2
    if python is not None:
        if args.port == 0:
            print("serve: --port 0 is not supported with vLLM; pass a port", file=sys.stderr)
            return 2
        cpu = not has_cuda_gpu()
        cmd = vllm_model_command(args, python, cpu=cpu)
        print(f"serve: {' '.join(cmd)}", file=sys.stderr, flush=True)
        os.execve(python, cmd, vllm_server_env(cpu=cpu))
    from askrl.serve.hf_server import HFServerOptions, serve

    try:
        options = HFServerOptions(
            path=args.path, served_name=args.served_name, host=args.host, port=args.port,
            max_model_len=args.max_model_len, max_batch_size=args.max_batch_size, batch_wait_ms=args.batch_wait_ms,
            default_max_tokens=args.default_max_tokens, device=args.device, threads=args.threads,
        )  # fmt: skip
        serve(options)
    except ConfigError as err:
        print(f"serve: {err}", file=sys.stderr)
        return 2
    return 0
