"""VERL's colocate_async trainer with askrl's hooks, and training runs that lose their judge: end to end on CPU.

Each test runs ``python -m askrl.train recipe=askmind_grpo`` under the auto CPU profile (tiny policy, generated
demo records) in its own session under a hard timeout (``run_bounded``). Real: VERL's trainer, Ray, the clarify
loop, the judge client over HTTP. Faked: the judge model (the scripted server, a subprocess that is really killed
and restarted on the same port); in the outage tests the tiny policy is a copy that ends its turns after a dozen
tokens (``askrl.bench.trainer_modes.policy_copy``), so every turn is graded by the judge.

Wall times on the 2-core CI machine are printed (``-s``); see the README's tests section.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from askrl.bench.trainer_modes import policy_copy, read_steps, train_command
from askrl.testing.scripted_server import spawn

pytestmark = pytest.mark.slow
TIMEOUT_S = 600


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env["ASKRL_DATA_DIR"] = ""
    env.pop("VERL_PLATFORM", None)
    return env


def test_colocate_async_trains_two_steps_with_askrl_hooks(tmp_path: Path, tiny_model: Path, run_bounded) -> None:
    run_dir = tmp_path / "ckpt"
    cmd = [
        sys.executable, "-m", "askrl.train", "recipe=askmind_grpo",
        "askrl.cpu_model=tiny",
        "trainer.v1.trainer_mode=colocate_async",
        "askrl.tracking.conversations_every=1",
        "askrl.cpu.eval_suites=[]",  # checkpoint evaluation has its own tests (test_checkpoint_eval.py)
        "trainer.save_freq=-1",
        f"trainer.default_local_dir={run_dir}",
        f"ray_kwargs.ray_init._temp_dir={tempfile.mkdtemp(prefix='askrl-async-', dir='/tmp')}",
    ]  # fmt: skip
    code, wall_s = run_bounded(cmd, env=_env(tmp_path), timeout_s=TIMEOUT_S, log=tmp_path / "train.log")
    assert code == 0, (tmp_path / "train.log").read_text(errors="replace")[-6000:]
    print(f"colocate_async: 2 CPU steps in {wall_s:.1f}s")
    steps = read_steps(run_dir)
    assert len(steps) == 2
    for m in steps:
        assert "reward/episode/mean" in m and "judge/calls_per_episode" in m  # askrl's hooks ran in this mode
        assert "training/off_policy/trajectory_staleness/max" in m  # and VERL's staleness record came with it
    assert (run_dir / "conversations.jsonl").read_text().strip()


class Outage:
    """Kills the judge subprocess once it has served ``after`` requests; restarts it on the same port ``for_s``
    seconds later (never, with ``None``)."""

    def __init__(self, url: str, proc, *, after: int, for_s: float | None) -> None:
        self.url, self.proc, self.after, self.for_s = url, proc, after, for_s
        self.killed_at: float | None = None
        self.restarted_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _served(self) -> int:
        try:
            return len(httpx.get(f"{self.url}/admin/requests", timeout=5).json()["requests"])
        except httpx.HTTPError:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set() and self._served() < self.after:
            time.sleep(0.2)
        if self._stop.is_set():
            return
        self.proc.kill()
        self.proc.wait()
        self.killed_at = time.monotonic()
        if self.for_s is None or self._stop.wait(self.for_s):
            return
        self.proc, _ = spawn(port=int(self.url.rsplit(":", 1)[1]))
        self.restarted_at = time.monotonic()

    def close(self) -> int:
        """Stop watching, kill the server; how many requests its last instance served."""
        self._stop.set()
        self._thread.join(timeout=60)
        served = self._served() if self.restarted_at is not None else 0
        self.proc.kill()
        self.proc.wait()
        return served


def _outage_run(tmp_path: Path, tiny_model: Path, run_bounded, *, for_s: float | None, extra: list[str]):
    proc, url = spawn()
    outage = Outage(url, proc, after=2, for_s=for_s)
    run_dir = tmp_path / "ckpt"
    policy = policy_copy(tiny_model, tmp_path / "policy")
    # no checkpoint evaluation: its calls to the same judge would meet the outage instead of a training step's
    cmd = train_command(policy=policy, judge_url=url, run_dir=run_dir, mode="sync", steps=2,
                        extra=["askrl.cpu.eval_suites=[]", *extra])
    try:
        code, wall_s = run_bounded(cmd, env=_env(tmp_path), timeout_s=TIMEOUT_S, log=tmp_path / "train.log")
    finally:
        served_after = outage.close()
    return code, wall_s, outage, served_after, run_dir, (tmp_path / "train.log").read_text(errors="replace")


def test_a_15s_judge_outage_mid_step_costs_no_masked_episode(tmp_path: Path, tiny_model: Path, run_bounded) -> None:
    # 15 s: longer than a call's whole retry budget (4 attempts, about 7.5 s of backoff), so calls must wait for the
    # endpoint to come back rather than retry through the outage
    code, wall_s, outage, served_after, run_dir, log = _outage_run(
        tmp_path, tiny_model, run_bounded, for_s=15, extra=[]
    )
    assert code == 0, log[-6000:]
    print(f"sync, 2 CPU steps through a 15 s judge outage in {wall_s:.1f}s")
    assert outage.killed_at is not None and outage.restarted_at is not None and served_after > 0
    steps = read_steps(run_dir)
    assert len(steps) == 2
    for m in steps:  # every step counts its judge failures, and the outage cost none
        assert m["judge/failed_episodes"] == 0.0 and m["reward/masked_frac"] == 0.0
        assert m["judge/calls_per_episode"] > 0


def test_a_judge_that_never_comes_back_stops_the_run_naming_it(tmp_path: Path, tiny_model: Path, run_bounded) -> None:
    extra = ["+askrl.judge.client.call_timeout_s=15"]
    code, wall_s, outage, _, _, log = _outage_run(tmp_path, tiny_model, run_bounded, for_s=None, extra=extra)
    print(f"a judge gone for good stopped the run after {wall_s:.1f}s (exit {code})")
    assert code != 0 and outage.killed_at is not None
    lines = [line for line in log.splitlines() if line.startswith("askrl.train: ")]
    assert len(lines) == 1, log[-4000:]
    assert lines[0].startswith("askrl.train: judge unavailable: endpoint(s) scripted (http://127.0.0.1:"), lines[0]
    assert "call_timeout_s=15" in lines[0]
