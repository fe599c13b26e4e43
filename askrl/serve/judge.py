"""Start vLLM OpenAI-compatible servers for the judge (one per GPU group and port) and wait until they answer.

The paper served its judge (Qwen3-30B-A3B-Instruct) with vLLM on several local ports; ``judge.endpoints`` then
lists them and the judge client balances over them.

    python -m askrl.serve judge --model Qwen/Qwen3-30B-A3B-Instruct-2507 --gpus 0,1 --ports 8012,8013
    python -m askrl.serve judge --model /models/judge --gpus 0-3 --tp 2 --ports 8012,8013   # two TP=2 servers

On a machine without a GPU, ``--cpu`` starts the same servers on vLLM's CPU build (``.venv-vllm``, see
``askrl/serve/vllm_env.py``), with no ``CUDA_VISIBLE_DEVICES`` to set; the servers then share the cores:

    python -m askrl.serve judge --cpu --model ~/.cache/askrl/models/smollm2 --ports 8012,8013

Each server runs as ``python -m vllm.entrypoints.openai.api_server`` with its own ``CUDA_VISIBLE_DEVICES``; the
command waits (with a progress line) until every ``/v1/models`` lists the served name, checks that each accepts
every structured-output schema askrl sends (``askrl/judge/structured.py``; a refused one stops all servers with a
line naming it), then prints the endpoint list to paste into ``judge.endpoints`` and keeps the servers in the
foreground until interrupted. A server that exits or stays unhealthy past ``--timeout-s`` stops all of them with
its log tail: no half-started judge.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from askrl.errors import ConfigError
from askrl.judge.structured import check_schemas, sent_schemas
from askrl.serve.vllm_env import vllm_python, vllm_server_command, vllm_server_env


@dataclass(frozen=True)
class ServerSpec:
    port: int
    gpus: tuple[int, ...]


def parse_gpus(text: str) -> list[int]:
    """``"0,1,4-5"`` -> ``[0, 1, 4, 5]``."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, _, hi = part.partition("-")
        try:
            out.extend(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            raise ConfigError(f"--gpus: cannot parse {part!r}; use a list like 0,1 or a range like 0-3") from None
    return out


def plan_servers(gpus: list[int], ports: list[int], tp: int) -> list[ServerSpec]:
    """Split ``gpus`` into ``len(ports)`` groups of ``tp`` GPUs each; refuse a plan that does not add up."""
    if tp < 1:
        raise ConfigError(f"--tp must be >= 1, got {tp}")
    if len(gpus) != len(ports) * tp:
        raise ConfigError(f"{len(ports)} ports x tp {tp} need {len(ports) * tp} GPUs, --gpus gave {len(gpus)}: {gpus}")
    return [ServerSpec(port, tuple(gpus[i * tp : (i + 1) * tp])) for i, port in enumerate(ports)]


def vllm_command(model: str, spec: ServerSpec, *, served_name: str, host: str, extra: list[str],
                 python: str | None = None) -> list[str]:
    """One judge server; a spec without GPUs is a CPU server (vLLM's CPU build, :data:`CPU_FLAGS`)."""
    return vllm_server_command(python or sys.executable, model, port=spec.port, served_name=served_name, host=host,
                               tensor_parallel_size=max(len(spec.gpus), 1), cpu=not spec.gpus, extra=extra)


def is_healthy(base_url: str, served_name: str, timeout_s: float = 2.0) -> bool:
    """True when ``GET {base_url}/models`` answers and lists ``served_name``."""
    try:
        resp = httpx.get(f"{base_url}/models", timeout=timeout_s)
        return resp.status_code == 200 and any(m.get("id") == served_name for m in resp.json().get("data", []))
    except (httpx.HTTPError, ValueError):
        return False


def wait_healthy(
    base_urls: list[str], served_name: str, procs: list[subprocess.Popen[bytes]], timeout_s: float, poll_s: float = 2.0
) -> None:
    """Block until every URL is healthy; raise ``ConfigError`` if a process exits or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    pending = set(base_urls)
    while pending:
        for url, proc in zip(base_urls, procs, strict=True):
            if proc.poll() is not None:
                raise ConfigError(f"judge server for {url} exited with code {proc.returncode} before becoming healthy")
            if url in pending and is_healthy(url, served_name):
                pending.discard(url)
                print(f"serve: {url} is up ({len(base_urls) - len(pending)}/{len(base_urls)})", file=sys.stderr)
        if pending and time.monotonic() > deadline:
            raise ConfigError(f"judge servers not healthy after {timeout_s:.0f} s: {sorted(pending)}")
        if pending:
            time.sleep(poll_s)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a batch scheduler, a test) stops the servers as Ctrl-C does


def serve_judge(args: argparse.Namespace) -> int:
    ports = [int(p) for p in args.ports.split(",")]
    if args.cpu:
        if args.tp != 1:
            raise ConfigError("--cpu serves each judge on the cores; --tp does not apply")
        specs = [ServerSpec(port, ()) for port in ports]
    else:
        specs = plan_servers(parse_gpus(args.gpus), ports, args.tp)
    python = vllm_python()
    if python is None:
        raise ConfigError("no vLLM here: run `make vllm` (CPU) or install the gpu extra, or set ASKRL_VLLM_PYTHON")
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    urls = [f"http://{args.host}:{s.port}/v1" for s in specs]
    if not args.detach:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        for spec in specs:
            env = vllm_server_env(cpu=not spec.gpus)
            if spec.gpus:
                env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, spec.gpus))
            log = (log_dir / f"judge_{spec.port}.log").open("wb")
            cmd = vllm_command(args.model, spec, served_name=args.served_name, host=args.host, extra=args.vllm_args,
                               python=python)
            where = f"CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']}" if spec.gpus else "CPU"
            print(f"serve: {' '.join(cmd)}  ({where}, log {log.name})", file=sys.stderr)
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        wait_healthy(urls, args.served_name, procs, args.timeout_s)
        refused = [line for url in urls for line in check_schemas(url, args.served_name, sent_schemas())]
        if refused:
            raise ConfigError("\n".join(refused))
        print(f"serve: every server accepts askrl's {len(sent_schemas())} structured-output schemas", file=sys.stderr)
        endpoints = [{"base_url": u, "model": args.served_name} for u in urls]
        print(json.dumps({"judge": {"endpoints": endpoints}}))
        sys.stdout.flush()
        if args.detach:
            return 0
        while all(p.poll() is None for p in procs):
            time.sleep(5)
        print("serve: a judge server exited; stopping the others", file=sys.stderr)
        return 1
    except ConfigError as err:
        print(f"serve: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    finally:
        if not args.detach:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``judge`` subcommand of ``python -m askrl.serve``."""
    judge = sub.add_parser("judge", help="start vLLM judge servers and wait until they are healthy")
    judge.add_argument("--model", required=True, help="HF model id or local path of the judge")
    where = judge.add_mutually_exclusive_group(required=True)
    where.add_argument("--gpus", help="GPU ids, e.g. 0,1 or 0-3")
    where.add_argument("--cpu", action="store_true", help="no GPU: one vLLM CPU server per port (.venv-vllm)")
    judge.add_argument("--ports", required=True, help="one port per server, e.g. 8012,8013")
    judge.add_argument("--tp", type=int, default=1, help="tensor-parallel GPUs per server")
    judge.add_argument("--served-name", default="default", help="the model name clients send (the original used 'default')")
    judge.add_argument("--host", default="127.0.0.1")
    judge.add_argument("--timeout-s", type=float, default=1800.0, help="how long to wait for all servers to be healthy")
    judge.add_argument("--log-dir", default="logs/judge")
    judge.add_argument("--detach", action="store_true", help="return once healthy and leave the servers running")
    judge.add_argument("vllm_args", nargs=argparse.REMAINDER, help="after --: extra vLLM arguments")
    judge.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    args.vllm_args = [a for a in args.vllm_args if a != "--"]
    try:
        return serve_judge(args)
    except ConfigError as err:
        print(f"serve: {err}", file=sys.stderr)
        return 2
