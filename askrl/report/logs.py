"""A run's local logs as series: training metrics by step, evaluation metrics by suite and checkpoint step.

Lines that are not JSON objects in the contract's shape (a line cut by a kill, a foreign line) are counted in
``skipped`` and left out; a run dir with neither file is an error naming both paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from askrl.errors import AskrlError
from eval_hooks.metrics import COUNT_KEYS, is_count_key

METRICS_FILE = "metrics.jsonl"
EVAL_HISTORY = Path("eval") / "history.jsonl"

class ReportError(AskrlError):
    """The run dir has nothing to report."""


@dataclass
class RunLogs:
    """Series read from one run dir: ``train[key] = [(step, value)]``, ``evals[suite][metric] = [(step, value)]``
    (metrics of evaluations that finished ``ok`` or ``degraded``), ``eval_counts[suite][step] = {count: value}``."""

    run_dir: Path
    train: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    evals: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    eval_counts: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    eval_status: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0

    def series(self, *keys: str) -> tuple[str, list[tuple[int, float]]] | None:
        """The first of ``keys`` the run logged, with its points."""
        for key in keys:
            if self.train.get(key):
                return key, self.train[key]
        return None

    @property
    def steps(self) -> int:
        return max((s for points in self.train.values() for s, _ in points), default=0)


def _rows(path: Path) -> tuple[list[dict[str, Any]], int]:
    rows, skipped = [], 0
    if not path.is_file():
        return rows, skipped
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            skipped += 1
            continue
        if isinstance(row, dict):
            rows.append(row)
        else:
            skipped += 1
    return rows, skipped


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def load_run(run_dir: Path) -> RunLogs:
    """Read ``metrics.jsonl`` and ``eval/history.jsonl``; a later line for the same step wins (a resumed run)."""
    metrics_path, history_path = run_dir / METRICS_FILE, run_dir / EVAL_HISTORY
    if not metrics_path.is_file() and not history_path.is_file():
        raise ReportError(f"{run_dir}: neither {metrics_path.name} nor {EVAL_HISTORY} exists; is this a run dir "
                          "(trainer.default_local_dir of a training run)?")
    logs = RunLogs(run_dir=run_dir)
    rows, logs.skipped = _rows(metrics_path)
    by_step: dict[int, dict[str, Any]] = {}
    for row in rows:
        if isinstance(row.get("step"), int) and isinstance(row.get("metrics"), dict):
            by_step[row["step"]] = row["metrics"]
        else:
            logs.skipped += 1
    for step in sorted(by_step):
        for key, value in by_step[step].items():
            if (number := _number(value)) is not None:
                logs.train.setdefault(key, []).append((step, number))
    entries, skipped = _rows(history_path)
    logs.skipped += skipped
    latest: dict[int, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry.get("global_step"), int):
            logs.skipped += 1
            continue
        logs.eval_status.append((entry["global_step"], str(entry.get("status"))))
        if entry.get("status") in ("ok", "degraded") and isinstance(entry.get("suites"), dict):
            latest[entry["global_step"]] = entry["suites"]
    for step in sorted(latest):
        for suite, metrics in latest[step].items():
            if not isinstance(metrics, dict):
                continue
            for key, value in metrics.items():
                if (number := _number(value)) is None:
                    continue
                if not is_count_key(key):
                    logs.evals.setdefault(suite, {}).setdefault(key, []).append((step, number))
                elif key in COUNT_KEYS:
                    logs.eval_counts.setdefault(suite, {}).setdefault(step, {})[key] = number
    return logs
