"""Write a run's report: ``training.png``, ``eval_<suite>.png`` per evaluated suite, ``calibration.png`` when the
evaluations hold calibration items, and a ``report.md`` that shows them with the run's final numbers. A plot with
nothing to draw is neither written nor linked (a stale one from an earlier report is removed).

    paths = build_report(Path("checkpoints/askrl/askmind_grpo"), out=None)   # out: RUN_DIR/report
"""

from __future__ import annotations

import re
from pathlib import Path

from matplotlib.figure import Figure

from askrl.report.logs import RunLogs, load_run
from askrl.report.plots import (
    TRAINING_PANELS,
    best_point,
    calibration_figure,
    calibration_suites,
    eval_figure,
    training_figure,
)
from eval_hooks.metrics import metric_order

CALIBRATION_SUITE = "calibration"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def figures(logs: RunLogs) -> dict[str, Figure | None]:
    """File name -> figure (None: nothing to draw), in the order the report shows them."""
    out: dict[str, Figure | None] = {"training.png": training_figure(logs)}
    for suite in sorted(logs.evals):
        out[f"eval_{_safe(suite)}.png"] = eval_figure(logs, suite)
    for suite in calibration_suites(logs) or [CALIBRATION_SUITE]:
        name = "calibration.png" if suite == CALIBRATION_SUITE else f"calibration_{_safe(suite)}.png"
        out[name] = calibration_figure(logs, suite)
    return out


def _final_table(logs: RunLogs) -> list[str]:
    lines = ["| metric | key | final | best (step) |", "|---|---|---|---|"]
    for panel in TRAINING_PANELS:
        found = logs.series(*panel.keys)
        if found is None:
            lines.append(f"| {panel.title} | {panel.keys[0]} | not logged | |")
            continue
        key, points = found
        best = best_point(points, panel.better)
        shown = f"{best[1]:.4g} ({best[0]}, {panel.better})" if best else "no better direction"
        lines.append(f"| {panel.title} | `{key}` | {points[-1][1]:.4g} | {shown} |")
    return lines


def _eval_table(logs: RunLogs) -> list[str]:
    done = ", ".join(f"step {s}: {status}" for s, status in logs.eval_status) or "none"
    if not logs.evals:
        return [f"No finished checkpoint evaluation in `eval/history.jsonl` (evaluations: {done})."]
    lines = [f"Evaluations: {done}.", "", "| suite | metric | last step | value |", "|---|---|---|---|"]
    for suite, metrics in sorted(logs.evals.items()):
        for name in metric_order(k for k in metrics if "/" not in k):  # breakdowns: eval/global_step_N/summary.json
            lines.append(f"| {suite} | {name} | {metrics[name][-1][0]} | {metrics[name][-1][1]:.4g} |")
        for step, counts in sorted(logs.eval_counts.get(suite, {}).items()):
            shown = ", ".join(f"{key} {int(value)}" for key, value in counts.items())
            lines.append(f"| {suite} | samples | {step} | {shown} |")
    return lines


def build_report(run_dir: Path, out: Path | None = None) -> list[Path]:
    """Write every plot with data and ``report.md`` into ``out`` (default ``run_dir/report``); return the paths."""
    logs = load_run(run_dir)
    out = out or run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    md = [f"# Run report: {run_dir}", "",
          f"{logs.steps} training steps in `metrics.jsonl`; {len(logs.eval_status)} checkpoint evaluations in "
          f"`eval/history.jsonl`" + (f"; {logs.skipped} unreadable lines skipped." if logs.skipped else "."), ""]
    training, evaluation = [], []
    for name, fig in figures(logs).items():
        path = out / name
        if fig is None:
            path.unlink(missing_ok=True)  # an earlier report's plot would show data this run no longer has
            continue
        fig.savefig(path, dpi=100)
        written.append(path)
        (training if name == "training.png" else evaluation).append(f"![{name.removesuffix('.png')}]({name})")
    md += [*training, "", "## Training", "", *_final_table(logs), ""]
    md += ["## Evaluation", "", *(line for image in evaluation for line in (image, "")), *_eval_table(logs), ""]
    report = out / "report.md"
    report.write_text("\n".join(md), encoding="utf-8")
    written.append(report)
    return written
