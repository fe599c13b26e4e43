"""askrl.report on a synthetic run dir in the shared file formats (metrics.jsonl, eval/history.jsonl): every plot is
written, non-empty, and its figure carries the expected axes and lines (read back from the Figure objects)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from askrl.report.build import build_report, figures
from askrl.report.logs import ReportError, load_run
from askrl.report.plots import NO_DATA, TRAINING_PANELS, calibration_figure, eval_figure, training_figure

STEPS = 4


def _step_metrics(step: int) -> dict[str, float]:
    return {
        "reward/episode/mean": -1.0 + 0.5 * step,
        "reward/checklist_coverage/mean": 0.1 * step,
        "reward/final_correct_rate": 0.2 * step,
        "rollout/ask_rate": 0.9 - 0.1 * step,
        "rollout/num_turns/mean": 2.0 + step,
        "judge/failed_episodes": float(step % 2),
        "judge/latency_s/episode_mean": 0.01 * step,
    }


def write_run(run_dir: Path, *, with_calibration: bool = True) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "metrics.jsonl").open("w") as f:
        for step in range(1, STEPS + 1):
            f.write(json.dumps({"step": step, "time": 1000.0 + step, "metrics": _step_metrics(step)}) + "\n")
        f.write('{"step": 5, "time": 1005.0, "metr')  # a line cut by a kill: skipped, not fatal
    (run_dir / "eval").mkdir(exist_ok=True)
    with (run_dir / "eval" / "history.jsonl").open("w") as f:
        for step in (2, 4):
            suites = {"askmind": {"acc": 0.1 * step, "cov": 0.2 * step, "n": 8, "judge_failed": 0,
                                  "ask_mind_gpqade/acc": 0.5, "ask_mind_gpqade/n": 1}}
            if with_calibration:
                suites["calibration"] = {"clear_ask_rate": 0.5 / step, "underspecified_ask_rate": 0.2 * step,
                                         "false_premise_ask_rate": 0.15 * step, "n": 12, "clear_n": 4,
                                         "wall_s": 3.0}
            f.write(json.dumps({"global_step": step, "status": "ok", "backend": "rollout", "wall_s": 3.0,
                                "suites": suites, "error": None}) + "\n")
        f.write(json.dumps({"global_step": 3, "status": "failed", "backend": "serve", "wall_s": 1.0,
                            "suites": {}, "error": "judge down"}) + "\n")
    return run_dir


def _lines(fig: Figure) -> dict[str, list[tuple[list[float], list[float]]]]:
    """Axes title -> [(x, y) of each line]."""
    return {ax.get_title(): [(list(map(float, ln.get_xdata())), list(map(float, ln.get_ydata()))) for ln in ax.lines]
            for ax in fig.axes if ax.get_visible()}


def test_load_run_reads_both_files_and_skips_the_cut_line(tmp_path: Path) -> None:
    logs = load_run(write_run(tmp_path / "run"))
    assert logs.steps == STEPS and logs.skipped == 1
    assert logs.train["rollout/ask_rate"][0] == (1, pytest.approx(0.8))
    assert logs.evals["askmind"]["acc"] == [(2, pytest.approx(0.2)), (4, pytest.approx(0.4))]
    assert "n" not in logs.evals["askmind"] and "judge_failed" not in logs.evals["askmind"]
    assert "ask_mind_gpqade/acc" in logs.evals["askmind"] and "ask_mind_gpqade/n" not in logs.evals["askmind"]
    assert sorted(logs.evals["calibration"]) == ["clear_ask_rate", "false_premise_ask_rate", "underspecified_ask_rate"]
    assert (3, "failed") in logs.eval_status and 3 not in [s for s, _ in logs.evals["askmind"]["acc"]]


def test_training_figure_has_every_panel_with_its_curve(tmp_path: Path) -> None:
    fig = training_figure(load_run(write_run(tmp_path / "run")))
    lines = _lines(fig)
    assert list(lines) == [title for title, _, _ in TRAINING_PANELS]
    for ax in [a for a in fig.axes if a.get_visible()]:
        assert ax.get_xlabel() == "training step" and ax.get_ylabel()
        assert len(ax.lines) == 1
    xs, ys = lines["Ask rate"][0]
    assert xs == [1.0, 2.0, 3.0, 4.0] and ys == pytest.approx([0.8, 0.7, 0.6, 0.5])
    assert lines["Episode reward"][0][1] == pytest.approx([-0.5, 0.0, 0.5, 1.0])


def test_a_metric_the_run_did_not_log_keeps_its_panel_and_says_so(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()[:STEPS]]
    for row in rows:
        del row["metrics"]["reward/checklist_coverage/mean"]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    fig = training_figure(load_run(run))
    coverage = next(ax for ax in fig.axes if ax.get_title() == "Checklist coverage")
    assert not coverage.lines and [t.get_text() for t in coverage.texts] == [NO_DATA]


def test_eval_and_calibration_figures(tmp_path: Path) -> None:
    logs = load_run(write_run(tmp_path / "run"))
    askmind = eval_figure(logs, "askmind")
    ax = askmind.axes[0]
    assert ax.get_xlabel() == "training step" and ax.get_title() == "Evaluation: askmind"
    assert sorted(line.get_label() for line in ax.lines) == ["acc", "cov"]
    calibration = calibration_figure(logs).axes[0]
    assert calibration.get_ylabel() == "ask rate"
    by_label = {ln.get_label(): list(map(float, ln.get_ydata())) for ln in calibration.lines}
    assert by_label["clear prompts"] == pytest.approx([0.25, 0.125])
    assert by_label["underspecified prompts"] == pytest.approx([0.4, 0.8])
    assert by_label["false-premise prompts"] == pytest.approx([0.3, 0.6])
    assert [list(map(float, ln.get_xdata())) for ln in calibration.lines] == [[2.0, 4.0]] * 3


def test_build_report_writes_every_plot_and_the_markdown(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    written = build_report(run, tmp_path / "out")
    names = [p.name for p in written]
    assert names == ["training.png", "eval_askmind.png", "eval_calibration.png", "calibration.png", "report.md"]
    for path in written[:-1]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    md = (tmp_path / "out" / "report.md").read_text()
    for name in names[:-1]:
        assert f"]({name})" in md
    assert "| Ask rate | `rollout/ask_rate` | 0.5 | 0.8 (1) |" in md
    assert "| askmind | acc | 4 | 0.4 |" in md and "ask_mind_gpqade" not in md
    assert list(figures(load_run(run))) == names[:-1]


def test_cli_defaults_to_run_dir_report_and_fails_in_one_line_without_logs(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", with_calibration=False)
    proc = subprocess.run([sys.executable, "-m", "askrl.report", str(run)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (run / "report" / "report.md").is_file() and (run / "report" / "calibration.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReportError, match="neither metrics.jsonl nor eval/history.jsonl"):
        load_run(empty)
    proc = subprocess.run([sys.executable, "-m", "askrl.report", str(empty)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_a_resumed_run_s_later_line_for_a_step_wins(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    with (run / "metrics.jsonl").open("a") as f:
        f.write("\n" + json.dumps({"step": 4, "time": 2000.0, "metrics": {"rollout/ask_rate": 0.1}}) + "\n")
    points = load_run(run).train["rollout/ask_rate"]
    assert [s for s, _ in points] == [1, 2, 3, 4] and points[-1][1] == pytest.approx(0.1)
