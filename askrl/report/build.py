"""Write a run's report: ``training.png``, ``eval_<suite>.png`` per evaluated suite, ``calibration.png`` and a
``report.md`` that shows them with the run's final numbers.

    paths = build_report(Path("checkpoints/askrl/askmind_grpo"), out=None)   # out: RUN_DIR/report
"""

from __future__ import annotations

import re
from pathlib import Path

from matplotlib.figure import Figure

from askrl.report.logs import RunLogs, load_run
from askrl.report.plots import TRAINING_PANELS, calibration_figure, eval_figure, training_figure


def figures(logs: RunLogs) -> dict[str, Figure]:
    """File name -> figure, in the order the report shows them."""
    out = {"training.png": training_figure(logs)}
    for suite in sorted(logs.evals):
        out[f"eval_{re.sub(r'[^A-Za-z0-9_.-]', '_', suite)}.png"] = eval_figure(logs, suite)
    out["calibration.png"] = calibration_figure(logs)
    return out


def _final_table(logs: RunLogs) -> list[str]:
    lines = ["| metric | key | final | best (step) |", "|---|---|---|---|"]
    for title, _, keys in TRAINING_PANELS:
        found = logs.series(*keys)
        if found is None:
            lines.append(f"| {title} | {keys[0]} | not logged | |")
            continue
        key, points = found
        best_step, best = max(points, key=lambda p: p[1])
        lines.append(f"| {title} | `{key}` | {points[-1][1]:.4g} | {best:.4g} ({best_step}) |")
    return lines


def _eval_table(logs: RunLogs) -> list[str]:
    if not logs.evals:
        done = ", ".join(f"step {s}: {status}" for s, status in logs.eval_status) or "none"
        return [f"No successful checkpoint evaluation in `eval/history.jsonl` (evaluations: {done})."]
    lines = ["| suite | metric | last step | value |", "|---|---|---|---|"]
    for suite, metrics in sorted(logs.evals.items()):
        for name, points in sorted(metrics.items()):
            if "/" not in name:  # per-data-set breakdowns: in eval/global_step_N/summary.json
                lines.append(f"| {suite} | {name} | {points[-1][0]} | {points[-1][1]:.4g} |")
    return lines


def build_report(run_dir: Path, out: Path | None = None) -> list[Path]:
    """Write every plot and ``report.md`` into ``out`` (default ``run_dir/report``); return the written paths."""
    logs = load_run(run_dir)
    out = out or run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    md = [f"# Run report: {run_dir}", "",
          f"{logs.steps} training steps in `metrics.jsonl`; {len(logs.eval_status)} checkpoint evaluations in "
          f"`eval/history.jsonl`" + (f"; {logs.skipped} unreadable lines skipped." if logs.skipped else "."), ""]
    for name, fig in figures(logs).items():
        path = out / name
        fig.savefig(path, dpi=100)
        written.append(path)
        md += [f"![{name.removesuffix('.png')}]({name})", ""]
        if name == "training.png":
            md += ["## Training", "", *_final_table(logs), ""]
        if name == "calibration.png":
            md += ["## Evaluation", "", *_eval_table(logs), ""]
    report = out / "report.md"
    report.write_text("\n".join(md), encoding="utf-8")
    written.append(report)
    return written
