"""One checkpoint's evaluation: the evaluator's command, and for the ``serve`` backend merge -> serve -> evaluate.

Why child processes: a merge holds the whole model in host RAM, a model server holds GPUs (or cores), and the
evaluator runs hundreds of concurrent dialogues; none of it belongs in the trainer's process. Each step runs as a
child process with a deadline and a stop event, and is killed with its process group when either fires, so a hung
server or judge never outlives the evaluation that started it. Children get their own process group but stay in
the trainer's session, so whatever kills the run's session (a scheduler, the e2e tests) takes them too.

The evaluator (``python -m eval_hooks.run``) writes ``<run dir>/eval/global_step_N/<suite>/results.jsonl`` and
``summary.json``; re-running it over the same folder resumes (finished samples are kept), which is what makes an
interrupted evaluation cheap to redo after a restart.

    plan = EvalPlan.from_settings(settings.eval, training_judge=settings.judge, run_dir=run_dir)
    suites = serve_and_evaluate(plan, EvalJob(2, run_dir / "global_step_2"), threading.Event())
    suites = run_evaluator(plan, step=3, model_url="http://10.0.0.2:8000/v1", model_name=None, stop=stop)
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from askrl.errors import DEGRADED_EXIT
from eval_hooks.checkpoint.config import EvalSettings, SuiteSettings, judge_cli_args, suite_groups
from eval_hooks.checkpoint.history import DegradedEvaluation, numeric_suites, step_dir
from eval_hooks.checkpoint.merge import merged_dir
from eval_hooks.checkpoint.worker import EvalJob
from eval_hooks.run_config import failed_line, merge_configs
from eval_hooks.summary import load_summary, write_summary_json

logger = logging.getLogger(__name__)

SERVED_NAME = "default"
_POLL_S = 0.5


class EvalStepError(RuntimeError):
    """A step of a checkpoint evaluation failed (its message says which and why, with a log tail)."""


@dataclass(frozen=True)
class EvalPlan:
    """Everything a checkpoint evaluation needs, as plain values (no DictConfig crosses into the worker)."""

    run_dir: Path
    suites: list[SuiteSettings]
    judge_args: list[str]
    strict: bool = False
    attempts: int = 1
    concurrency: int | None = None
    max_turns: int = 3
    max_tokens: int | None = None
    data_dir: str | None = None
    gpus: str | None = None
    timeout_s: float = 4 * 3600.0
    server_start_timeout_s: float = 900.0
    python: str = field(default=sys.executable)

    @classmethod
    def from_settings(cls, settings: EvalSettings, *, training_judge: Mapping[str, Any], run_dir: str | Path) -> EvalPlan:
        return cls(
            run_dir=Path(run_dir),
            suites=list(settings.suites),
            judge_args=judge_cli_args(settings.judge, training_judge),
            strict=settings.strict,
            attempts=settings.attempts,
            concurrency=settings.concurrency,
            max_turns=settings.max_turns,
            max_tokens=settings.max_tokens,
            data_dir=settings.data_dir,
            gpus=settings.gpus,
            timeout_s=settings.timeout_s,
            server_start_timeout_s=settings.server_start_timeout_s,
        )


def evaluator_command(plan: EvalPlan, *, suites: list[str], limit: int | None, model_url: str,
                      model_name: str | None, out: Path) -> list[str]:
    """``python -m eval_hooks.run ...`` for one group of suites sharing a ``--limit``."""
    cmd = [plan.python, "-m", "eval_hooks.run", "--suite", ",".join(suites), "--model-url", model_url]
    if model_name:
        cmd += ["--model-name", model_name]
    cmd += plan.judge_args
    if plan.data_dir:
        cmd += ["--data-dir", plan.data_dir]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    if plan.strict:
        cmd.append("--strict")
    if plan.attempts != 1:
        cmd += ["--attempts", str(plan.attempts)]
    if plan.concurrency is not None:
        cmd += ["--concurrency", str(plan.concurrency)]
    if plan.max_tokens is not None:
        cmd += ["--max-tokens", str(plan.max_tokens)]
    return cmd + ["--max-turns", str(plan.max_turns), "--no-progress", "--out", str(out)]


def _kill_group(proc: subprocess.Popen, grace_s: float = 20.0) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever is left after ``grace_s``."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _tail(log: Path, chars: int = 1500) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def run_child(cmd: list[str], *, log: Path, deadline: float, stop: threading.Event, what: str,
              env: Mapping[str, str] | None = None, ok_codes: tuple[int, ...] = (0,)) -> int:
    """Run ``cmd`` (own process group, output to ``log``) until it exits; return its exit code if in ``ok_codes``,
    else raise (as on the deadline or ``stop``)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=dict(env or os.environ),
                                process_group=0)
        try:
            while proc.poll() is None:
                if stop.is_set():
                    raise EvalStepError(f"{what} stopped")
                if time.monotonic() > deadline:
                    raise EvalStepError(f"{what} ran past askrl.eval.timeout_s")
                time.sleep(_POLL_S)
        finally:
            _kill_group(proc)
    if proc.returncode not in ok_codes:
        raise EvalStepError(f"{what} exited with code {proc.returncode}; {log} ends:\n{_tail(log)}")
    return proc.returncode


def run_evaluator(plan: EvalPlan, *, step: int, model_url: str, model_name: str | None, stop: threading.Event,
                  deadline: float | None = None, time_each_suite: bool = False) -> dict[str, dict[str, float]]:
    """Run the plan's suites against ``model_url`` into ``eval/global_step_N``; return the numeric summary.

    Suites with different ``limit`` run as separate evaluator invocations over the same folder (``--limit`` is per
    invocation); with ``time_each_suite`` every suite runs on its own and gets a ``wall_s`` metric (the ``rollout``
    backend, where training waits for it). Several invocations' summaries are combined into one ``summary.json``
    (their ``config`` blocks merged). When more samples failed than the evaluator tolerates (its exit code 3),
    raises :class:`DegradedEvaluation` carrying the summary of the valid samples.
    """
    out = step_dir(plan.run_dir, step)
    out.mkdir(parents=True, exist_ok=True)
    deadline = deadline if deadline is not None else time.monotonic() + plan.timeout_s
    groups = suite_groups(plan.suites)
    if time_each_suite:
        groups = [([name], limit) for names, limit in groups for name in names]
    combined: dict[str, Any] = {}
    configs: list[dict[str, Any]] = []
    walls: dict[str, float] = {}
    for names, limit in groups:
        cmd = evaluator_command(plan, suites=names, limit=limit, model_url=model_url, model_name=model_name, out=out)
        started = time.monotonic()
        run_child(cmd, log=out / "evaluator.log", deadline=deadline, stop=stop, what=f"evaluator ({','.join(names)})",
                  ok_codes=(0, DEGRADED_EXIT))  # fmt: skip
        summary, config = load_summary(out)
        missing = [name for name in names if name not in summary]
        if missing or config is None:
            raise EvalStepError(f"evaluator wrote no summary for suites {missing or names} in {out / 'summary.json'}")
        combined.update({name: summary[name] for name in names})
        configs.append(config)
        if time_each_suite:
            walls[names[0]] = time.monotonic() - started
    config = merge_configs(configs)
    if len(groups) > 1:
        write_summary_json(out, combined, config)
    suites = numeric_suites(combined)
    for name, wall_s in walls.items():
        suites[name]["wall_s"] = wall_s
    if config["status"] == "degraded":
        raise DegradedEvaluation(failed_line(config), suites)
    return suites


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_healthy(base: str, proc: subprocess.Popen, *, timeout_s: float, stop: threading.Event, log: Path) -> None:
    """Poll ``base/health`` until it answers 200; raise if the server exits, the timeout passes or ``stop`` is set."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stop.is_set():
            raise EvalStepError("model server start stopped")
        if proc.poll() is not None:
            raise EvalStepError(f"model server exited with code {proc.returncode}; {log} ends:\n{_tail(log)}")
        try:
            if httpx.get(f"{base}/health", timeout=5.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(_POLL_S)
    raise EvalStepError(f"model server did not answer {base}/health within {timeout_s:.0f}s; {log} ends:\n{_tail(log)}")


def merge_command(plan: EvalPlan, checkpoint_dir: Path, out: Path) -> list[str]:
    return [plan.python, "-m", "eval_hooks.checkpoint.merge", "--checkpoint", str(checkpoint_dir), "--out", str(out)]


def serve_command(plan: EvalPlan, merged: Path, port: int) -> list[str]:
    """``python -m askrl.serve model`` for a merged checkpoint; vLLM shards it over every GPU set aside."""
    tp = len(plan.gpus.split(",")) if plan.gpus else 1
    return [plan.python, "-m", "askrl.serve", "model", "--path", str(merged), "--port", str(port),
            "--served-name", SERVED_NAME, "--host", "127.0.0.1", "--tensor-parallel-size", str(tp)]


def serve_and_evaluate(plan: EvalPlan, job: EvalJob, stop: threading.Event) -> dict[str, dict[str, float]]:
    """The ``serve`` backend for one checkpoint: merge (once), serve, run the suites, stop the server."""
    deadline = time.monotonic() + plan.timeout_s
    out = step_dir(plan.run_dir, job.step)
    merged = merged_dir(plan.run_dir, job.step)
    if not (merged / "config.json").is_file():
        run_child(merge_command(plan, job.checkpoint_dir, merged), log=out / "merge.log", deadline=deadline,
                  stop=stop, what=f"merge of {job.checkpoint_dir}")
    port = free_port()
    env = dict(os.environ)
    if plan.gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = plan.gpus  # GPUs set aside outside Ray's pool
    cmd = serve_command(plan, merged, port)
    log = out / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as sink:
        server = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env, process_group=0)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server, timeout_s=min(plan.server_start_timeout_s, max(deadline - time.monotonic(), 1.0)),
                     stop=stop, log=log)
        return run_evaluator(plan, step=job.step, model_url=f"{base}/v1", model_name=SERVED_NAME, stop=stop,
                             deadline=deadline)
    finally:
        _kill_group(server)
        prune_merged(plan.run_dir, keep=job.step)


def prune_merged(run_dir: Path, *, keep: int) -> None:
    """Delete merged folders of steps before ``keep``: a 7B merge is ~15 GB, and one per evaluation adds up.

    The newest stays for ``python -m askrl.export`` / ``vllm serve``; an older step can be merged again from its
    checkpoint (``python -m eval_hooks.checkpoint.merge``) while VERL keeps that checkpoint.
    """
    for folder in (run_dir / "merged").glob("global_step_*"):
        suffix = folder.name.removeprefix("global_step_")
        if suffix.isdigit() and int(suffix) < keep:
            shutil.rmtree(folder, ignore_errors=True)
