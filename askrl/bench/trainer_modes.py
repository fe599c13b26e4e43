"""Seconds per training step of VERL's trainer modes on CPU, with a slow scripted judge (``scripts/bench_trainer_modes.py``).

Why: in ``sync`` mode every step waits for its slowest episode, judge calls included; ``colocate_async`` lets
episodes that wait on the judge keep waiting while the actor trains. This runs the same short training
(``askmind_grpo`` under the CPU profile: the tiny policy, generated demo records) once per mode, in one sitting,
against one scripted judge subprocess with a fixed latency, and reads each run's ``metrics.jsonl``
(``timing_s/step``, VERL's off-policy staleness, askrl's judge metrics).

The tiny random model almost never ends a turn, so its turns would be cut and graded by a guard without calling
the judge; the policy is a copy whose ``generation_config.json`` lists 40 ordinary token ids as end-of-sequence
(``policy_copy``), so turns end after a dozen tokens and every turn is graded by the judge.

Run it under the heavy lock (it starts Ray once per mode):

    flock /tmp/askrl-heavy.lock timeout 1500 .venv/bin/python scripts/bench_trainer_modes.py --judge-latency-ms 300

How it fails: ``EvalError`` naming the mode and the log when a run fails or passes its timeout (every process of
the run's session is killed either way). The last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from askrl.errors import EvalError
from askrl.models import prepare
from askrl.testing.scripted_server import spawn


def policy_copy(tiny_model: Path, out: Path) -> Path:
    """The tiny model with token ids 100-139 added to its end-of-sequence list (see the module docstring)."""
    shutil.copytree(tiny_model, out)
    path = out / "generation_config.json"
    config = json.loads(path.read_text())
    eos = config["eos_token_id"]
    config["eos_token_id"] = sorted({*(eos if isinstance(eos, list) else [eos]), *range(100, 140)})
    path.write_text(json.dumps(config))
    return out


def train_command(*, policy: Path, judge_url: str, run_dir: Path, mode: str, steps: int, extra: list[str]) -> list[str]:
    """``python -m askrl.train`` for ``askmind_grpo`` on CPU with the scripted LLM judge at ``judge_url``."""
    endpoint = f'[{{name:scripted,base_url:"{judge_url}/v1",model:scripted}}]'
    return [
        sys.executable, "-m", "askrl.train", "recipe=askmind_grpo",
        "askrl.cpu_model=tiny",
        f"actor_rollout_ref.model.path={policy}",
        f"askrl.judge.client.endpoints={endpoint}",
        f"trainer.v1.trainer_mode={mode}",
        f"trainer.total_training_steps={steps}",
        "trainer.save_freq=-1",
        "trainer.logger=[console]",
        f"trainer.default_local_dir={run_dir}",
        f"ray_kwargs.ray_init._temp_dir={tempfile.mkdtemp(prefix='askrl-modes-', dir='/tmp')}",
        *extra,
    ]  # fmt: skip


def kill_session(sid: int) -> None:
    """Kill every process still in session ``sid`` (the run and whatever Ray started under it)."""
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid:
                proc.kill()
        except (ProcessLookupError, psutil.Error):
            continue


def run_bounded(cmd: list[str], *, log: Path, timeout_s: float) -> tuple[int, float]:
    """Run ``cmd`` in its own session, output to ``log``; (exit code, wall seconds); ``None`` code on timeout."""
    started = time.monotonic()
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1", "ASKRL_DATA_DIR": ""}
    env.pop("VERL_PLATFORM", None)
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = -9
        finally:
            kill_session(proc.pid)
            proc.wait()
    return code, time.monotonic() - started


def read_steps(run_dir: Path) -> list[dict[str, float]]:
    """The run's step metrics (``metrics.jsonl``: one ``{"step", "time", "metrics"}`` object a step), in order."""
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r["metrics"] for r in sorted(rows, key=lambda r: r["step"])]


def summarize(mode: str, steps: list[dict[str, float]], wall_s: float) -> dict[str, Any]:
    """Per-step seconds and the figures that explain them; the mean leaves out step 1 (start-up, warm-up batch)."""
    seconds = [round(m.get("timing_s/step", float("nan")), 3) for m in steps]
    later = seconds[1:] or seconds

    def mean_of(key: str) -> float | None:
        values = [m[key] for m in steps if key in m]
        return round(sum(values) / len(values), 4) if values else None

    return {
        "mode": mode,
        "s_per_step": seconds,
        "mean_s_per_step_after_first": round(sum(later) / len(later), 3) if later else None,
        "wall_s": round(wall_s, 1),
        "gen_s_per_step": [round(m.get("timing_s/gen", float("nan")), 3) for m in steps],
        "judge_calls_per_episode": mean_of("judge/calls_per_episode"),
        "judge_latency_s_episode_mean": mean_of("judge/latency_s/episode_mean"),
        "trajectory_staleness_max": max((m["training/off_policy/trajectory_staleness/max"] for m in steps
                                         if "training/off_policy/trajectory_staleness/max" in m), default=None),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seconds per CPU training step: sync vs colocate_async.")
    parser.add_argument("--modes", default="sync,colocate_async")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--judge-latency-ms", type=float, default=300.0)
    parser.add_argument("--timeout-s", type=float, default=600.0, help="per run")
    parser.add_argument("--out", type=Path, default=None, help="keep run dirs and logs here (default: a temp dir)")
    args, extra = parser.parse_known_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="askrl-bench-modes-"))
    policy = policy_copy(prepare("tiny"), out / "policy") if not (out / "policy").exists() else out / "policy"
    proc, url = spawn("--latency-ms", str(args.judge_latency_ms))
    results = []
    try:
        for mode in args.modes.split(","):
            run_dir, log = out / mode / "run", out / f"{mode}.log"
            cmd = train_command(policy=policy, judge_url=url, run_dir=run_dir, mode=mode, steps=args.steps, extra=extra)
            code, wall_s = run_bounded(cmd, log=log, timeout_s=args.timeout_s)
            if code != 0:
                raise EvalError(f"{mode}: the training run exited with {code} after {wall_s:.0f} s; see {log}")
            results.append(summarize(mode, read_steps(run_dir), wall_s))
            print(json.dumps(results[-1]), flush=True)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    summary: dict[str, Any] = {"judge_latency_ms": args.judge_latency_ms, "steps": args.steps, "runs": results}
    by_mode = {r["mode"]: r["mean_s_per_step_after_first"] for r in results}
    if by_mode.get("sync") and by_mode.get("colocate_async"):
        summary["colocate_async_over_sync"] = round(by_mode["colocate_async"] / by_mode["sync"], 3)
    print(json.dumps(summary))
