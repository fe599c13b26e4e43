"""Fixtures for end-to-end runs: a bounded subprocess runner that cleans up everything Ray left behind.

A failing Ray actor hangs instead of exiting, so every e2e command runs in its own session under a hard timeout,
and on exit every process still in that session (raylet, GCS, workers) is killed.
"""

from __future__ import annotations

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



@pytest.fixture(scope="session")
def run_bounded() -> Callable[..., tuple[int, float]]:
    """``run_bounded(cmd, env=..., timeout_s=..., log=path) -> (exit code, wall seconds)``; fails on timeout."""
    return _run_bounded
