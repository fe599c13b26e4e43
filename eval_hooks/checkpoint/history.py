"""``<run dir>/eval/history.jsonl``: one line per finished checkpoint evaluation, the run's evaluation memory.

Why: a run killed and restarted with ``trainer.resume_mode=auto`` must continue its evaluation history, not redo
it. A line is appended only when an evaluation ends (``ok``, ``degraded``, ``failed`` or ``skipped``), so an
evaluation that was
interrupted has no line and is run again on resume (the evaluator's own streamed results under
``eval/global_step_N/`` let it pick up where it stopped), while a finished one is never repeated.

Line format (the shared contract):
``{"global_step": N, "status": "ok"|"degraded"|"failed"|"skipped", "backend": "serve"|"rollout", "wall_s": float,
"suites": {suite: {metric: float}}, "error": str|null}``. ``degraded``: the evaluator finished but more samples
failed than it tolerates (``--max-failed-frac``); ``suites`` holds the valid samples' metrics and ``error`` the
counts. It is finished like the others (a resumed run does not redo it; the evaluator would retry its failed
samples if run again over the same folder).

    history = EvalHistory(run_dir)
    history.append(EvalRecord(global_step=2, status="ok", backend="serve", wall_s=31.5, suites={...}))
    history.finished_steps()          # {2}
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from eval_hooks.run_config import CONFIG_KEY

logger = logging.getLogger(__name__)

HISTORY_FILE = "history.jsonl"
Status = Literal["ok", "degraded", "failed", "skipped"]


def eval_dir(run_dir: str | Path) -> Path:
    """``<run dir>/eval``: the evaluator's folders (``global_step_N/``) and the history."""
    return Path(run_dir) / "eval"


def step_dir(run_dir: str | Path, step: int) -> Path:
    """``<run dir>/eval/global_step_N``: the evaluator's OUT for one checkpoint."""
    return eval_dir(run_dir) / f"global_step_{step}"


@dataclass(frozen=True)
class EvalRecord:
    """One evaluation's outcome, as written to the history."""

    global_step: int
    status: Status
    backend: str
    wall_s: float
    suites: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None


class DegradedEvaluation(RuntimeError):
    """The evaluator finished with too many failed samples; ``suites`` is the summary of the valid ones."""

    def __init__(self, message: str, suites: dict[str, dict[str, float]]) -> None:
        super().__init__(message)
        self.suites = suites


def numeric_suites(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The evaluator's ``summary.json`` reduced to finite numbers per suite (counts included, strings dropped;
    the ``config`` block is not a suite)."""
    out: dict[str, dict[str, float]] = {}
    for suite, metrics in summary.items():
        if not isinstance(metrics, dict) or suite == CONFIG_KEY:
            continue
        values = {
            name: float(value)
            for name, value in metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(float(value))
        }
        out[str(suite)] = values
    return out


class EvalHistory:
    """Append-only access to one run's ``eval/history.jsonl`` (thread-safe within a process)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = eval_dir(run_dir) / HISTORY_FILE
        self._lock = threading.Lock()

    def records(self) -> list[EvalRecord]:
        """Every record so far; a line that does not parse (a write cut by a kill) is skipped with a warning."""
        if not self.path.is_file():
            return []
        out = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                out.append(EvalRecord(**raw))
            except (json.JSONDecodeError, TypeError) as err:
                logger.warning("%s:%d: unreadable evaluation history line skipped (%s)", self.path, number, err)
        return out

    def finished_steps(self) -> set[int]:
        """Steps whose evaluation ended (ok, failed or skipped): never run again."""
        return {r.global_step for r in self.records()}

    def append(self, record: EvalRecord) -> None:
        """Add one line (flushed and fsynced: the history must survive the kill that resume is for)."""
        line = json.dumps(asdict(record), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_file() and self.path.stat().st_size:
                with self.path.open("rb") as existing:
                    existing.seek(-1, os.SEEK_END)
                    if existing.read(1) != b"\n":  # a line cut by a kill: end it, so this record stays readable
                        line = "\n" + line
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
