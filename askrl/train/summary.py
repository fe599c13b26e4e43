"""The end-of-run summary: one table of what a run did and where everything it wrote lies.

Built from the run's own files only (``metrics.jsonl``, ``eval/history.jsonl``, ``global_step_N/``, the wandb run
directory), so it is the same for a run that just finished and for one looked at later:

    rows = summary_rows(run_dir, wall_s=312.0, started=t0, log_path=log)
    print_summary(rows, console.stream())

Rows: steps, wall time, final and best step metrics, the evaluation before training (step 0, when the run made one)
next to the evaluation of the last evaluated checkpoint and the change between them, and the paths
of checkpoints, exported model, conversations, evaluation results, the wandb run (with the ``wandb sync`` command
when it ran offline), the log and the report command.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TextIO

from askrl.train.progress import EVAL_FIELDS, EVAL_HISTORY, METRICS_FILE, STEP_FIELDS, JsonlTail, eval_line, pick


def _steps(run_dir: Path) -> list[dict[str, Any]]:
    rows = JsonlTail(run_dir / METRICS_FILE, from_start=True).read()
    return [r for r in rows if isinstance(r.get("step"), int) and isinstance(r.get("metrics"), dict)]


def _checkpoints(run_dir: Path) -> list[Path]:
    found = [p for p in run_dir.glob("global_step_*") if p.is_dir() and p.name.removeprefix("global_step_").isdigit()]
    return sorted(found, key=lambda p: int(p.name.removeprefix("global_step_")))


def _exported_models(run_dir: Path) -> list[Path]:
    """HF model folders under the run dir (an exported or merged checkpoint has ``config.json`` and weights)."""
    found = []
    for config in [*run_dir.glob("*/config.json"), *run_dir.glob("global_step_*/*/config.json")]:
        folder = config.parent
        if folder.name != "actor" and any(folder.glob("*.safetensors")):
            found.append(folder)
    return sorted(found)


def wandb_run_dir(started: float, root: Path | None = None) -> Path | None:
    """The newest wandb run directory (``wandb/run-*`` or ``wandb/offline-run-*``) created since ``started``."""
    root = root or Path(os.environ.get("WANDB_DIR") or ".") / "wandb"
    runs = [p for p in root.glob("*run-*") if p.is_dir() and p.stat().st_mtime >= started - 1]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def _metric_rows(steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    rows = []
    for label, keys, fmt in STEP_FIELDS:
        values = [(s["step"], pick(s["metrics"], keys)) for s in steps]
        values = [(step, v) for step, v in values if v is not None]
        if not values:
            continue
        final = fmt.format(values[-1][1])
        if label in ("judge failures", "judge latency"):
            rows.append((label, f"final {final}"))
            continue
        best_step, best = max(values, key=lambda sv: sv[1])
        rows.append((label, f"final {final}, best {fmt.format(best)} (step {best_step})"))
    return rows


def eval_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    """``suite metric +0.25 ...; ...``: the metrics both evaluations report, after minus before."""
    parts = []
    for suite, metrics in (after.get("suites") or {}).items():
        old = (before.get("suites") or {}).get(suite) or {}
        shown = [f"{k} {metrics[k] - old[k]:+.2f}" for k in EVAL_FIELDS
                 if isinstance(metrics.get(k), int | float) and isinstance(old.get(k), int | float)]
        if shown:
            parts.append(f"{suite} " + " ".join(shown))
    return "; ".join(parts) or "no metric in both"


def _eval_rows(evals: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The evaluation before training (step 0, ``askrl.eval.before_train``), the last one, and their change."""
    if not evals:
        return [("last evaluation", "none")]
    before = next((e for e in evals if e.get("global_step") == 0 and e.get("status") == "ok"), None)
    last = evals[-1]
    if before is None or last is before:
        return [("last evaluation", eval_line(last))]
    rows = [("evaluation before training", eval_line(before)), ("last evaluation", eval_line(last))]
    if last.get("status") == "ok":
        rows.append((f"change (step 0 -> {last.get('global_step')})", eval_change(before, last)))
    return rows


def summary_rows(run_dir: Path, *, wall_s: float, started: float, log_path: Path | None = None) -> list[tuple[str, str]]:
    """The (name, value) rows of the summary table."""
    steps = _steps(run_dir)
    rows: list[tuple[str, str]] = [
        ("steps", str(steps[-1]["step"]) if steps else "0 (no step finished)"),
        ("wall time", f"{wall_s:.0f} s"),
    ]
    rows += _metric_rows(steps)
    rows += _eval_rows(JsonlTail(run_dir / EVAL_HISTORY, from_start=True).read())
    checkpoints = _checkpoints(run_dir)
    rows.append(("checkpoints", f"{len(checkpoints)}, latest {checkpoints[-1]}" if checkpoints else "none"))
    exported = _exported_models(run_dir)
    rows.append(("exported model", ", ".join(map(str, exported)) if exported else
                 f"none (python -m askrl.export --run {run_dir} --out DIR)"))
    conversations = run_dir / "conversations.jsonl"
    rows.append(("conversations", str(conversations) if conversations.is_file() else "none"))
    eval_dir = run_dir / "eval"
    rows.append(("evaluation results", str(eval_dir) if eval_dir.is_dir() else "none"))
    wandb_dir = wandb_run_dir(started)
    if wandb_dir is None:
        rows.append(("wandb run", "none"))
    elif wandb_dir.name.startswith("offline-"):
        # the upload command on a row of its own, so the table never wraps it (it is meant to be copied)
        rows.append(("wandb run", f"{wandb_dir} (offline)"))
        rows.append(("wandb upload", f"wandb sync {wandb_dir}"))
    else:
        rows.append(("wandb run", str(wandb_dir)))
    if log_path is not None:
        rows.append(("log", str(log_path)))
    rows.append(("report", f"python -m askrl.report {run_dir}"))
    return rows


def print_summary(rows: list[tuple[str, str]], out: TextIO, title: str = "askrl run summary") -> None:
    """The rows as a rich table (plain text when ``out`` is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    Console(file=out, width=None if out.isatty() else 140).print(table)

