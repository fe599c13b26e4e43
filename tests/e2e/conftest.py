"""Fixtures for end-to-end runs: a bounded subprocess runner that cleans up everything Ray left behind.

A failing Ray actor hangs instead of exiting, so every e2e command runs in its own session under a hard timeout,
and on exit every process still in that session (raylet, GCS, workers) is killed.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from askrl.bench.trainer_modes import kill_session


def _run_bounded(cmd: list[str], *, env: dict[str, str], timeout_s: int, log: Path) -> tuple[int, float]:
    """Run ``cmd`` in a new session with output to ``log``; return (exit code, wall seconds). Fails on timeout."""
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_session(proc.pid)
            proc.wait()
            pytest.fail(f"{' '.join(cmd[:4])} ran past {timeout_s}s; log tail:\n{log.read_text()[-4000:]}")
        finally:
            kill_session(proc.pid)
    return code, time.monotonic() - started


def _check_two_recipe_steps(steps: dict[int, dict], conversations: Path, wandb_dir: Path) -> None:
    """What a task recipe's 2-step CPU run must show (``steps``: step -> metrics): finite losses, askrl's own
    training-step metrics (VERL logs none of these on training steps), sample conversations, an offline wandb run."""
    assert sorted(steps) == [1, 2]
    for step, m in steps.items():
        assert math.isfinite(m["actor/pg_loss"]), (step, m["actor/pg_loss"])
        assert m["reward/trajectories"] == 2 * 4, m  # 2 prompts x rollout_n 4 under the CPU profile
        assert "rollout/num_turns/mean" in m and "reward/masked_frac" in m
        assert m["reward/masked_frac"] == 0.0  # the lexical judge never fails
        assert math.isfinite(m["reward/episode/mean"])
    lines = conversations.read_text().splitlines()
    assert lines and json.loads(lines[0])["conversation"].startswith("USER: ")
    assert list(wandb_dir.glob("wandb/offline-run-*")), "wandb did not log offline"


@pytest.fixture(scope="session")
def check_two_recipe_steps() -> Callable[[dict[int, dict], Path, Path], None]:
    """``check_two_recipe_steps(steps, conversations_jsonl, wandb_dir)``: the checks every task recipe's run passes
    (``test_recipes_train.py`` trains one recipe, ``test_console.py``'s run is another)."""
    return _check_two_recipe_steps


@pytest.fixture(scope="session")
def run_bounded() -> Callable[..., tuple[int, float]]:
    """``run_bounded(cmd, env=..., timeout_s=..., log=path) -> (exit code, wall seconds)``; fails on timeout."""
    return _run_bounded
