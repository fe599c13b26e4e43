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
from askrl.report.plots import (
    RATE_LIMITS,
    TRAINING_PANELS,
    best_point,
    calibration_figure,
    eval_figure,
    training_figure,
)

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
    assert list(lines) == [panel.title for panel in TRAINING_PANELS]
    for ax in [a for a in fig.axes if a.get_visible()]:
        assert ax.get_xlabel() == "training step" and ax.get_ylabel()
        assert len(ax.lines) == 1
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    for panel in TRAINING_PANELS:  # rates on a fixed [0, 1] axis, counts and seconds from 0, scores autoscaled
        low, high = axes[panel.title].get_ylim()
        if panel.scale == "rate":
            assert (low, high) == RATE_LIMITS
        elif panel.scale in ("count", "seconds"):
            assert -0.05 * high <= low <= 0 < high
    xs, ys = lines["Ask rate"][0]
    assert xs == [1.0, 2.0, 3.0, 4.0] and ys == pytest.approx([0.8, 0.7, 0.6, 0.5])
    assert lines["Episode reward"][0][1] == pytest.approx([-0.5, 0.0, 0.5, 1.0])


def test_a_metric_the_run_did_not_log_has_no_panel_and_the_table_says_so(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()[:STEPS]]
    for row in rows:
        del row["metrics"]["reward/checklist_coverage/mean"]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    fig = training_figure(load_run(run))
    assert fig is not None
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert "Checklist coverage" not in titles and len(titles) == len(TRAINING_PANELS) - 1
    build_report(run, tmp_path / "out")
    assert "| Checklist coverage | reward/checklist_coverage/mean | not logged | |" in (tmp_path / "out" / "report.md").read_text()


def test_best_follows_each_metric_s_direction(tmp_path: Path) -> None:
    assert best_point([(1, 0.3), (2, 0.1), (3, 0.1)], "min") == (2, 0.1)  # the lowest, the earliest of a tie
    assert best_point([(1, 0.3), (2, 0.5), (3, 0.1)], "max") == (2, 0.5)
    assert best_point([(1, 0.3)], None) is None
    run = write_run(tmp_path / "run")
    build_report(run, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| Judge latency | `judge/latency_s/episode_mean` | 0.04 | 0.01 (1, min) |" in md  # lowest, not highest
    assert "| Turns per episode | `rollout/num_turns/mean` | 6 | 3 (1, min) |" in md
    assert "| Judge failures | `judge/failed_episodes` | 0 | 0 (2, min) |" in md
    assert "| Episode reward | `reward/episode/mean` | 1 | 1 (4, max) |" in md
    assert "| Ask rate | `rollout/ask_rate` | 0.5 | no better direction |" in md


def test_constant_zero_rates_sit_on_the_floor_of_a_0_to_1_axis(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    rows = [{"step": s, "metrics": {"reward/checklist_coverage/mean": 0.0, "rollout/ask_rate": 0.50 + 0.01 * s,
                                    "judge/failed_episodes": 0.0}} for s in (1, 2)]  # fmt: skip
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    fig = training_figure(load_run(run))
    assert fig is not None
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    assert axes["Checklist coverage"].get_ylim() == RATE_LIMITS  # not -0.04..0.04
    assert axes["Ask rate"].get_ylim() == RATE_LIMITS  # a 1-point change does not fill the panel
    low, high = axes["Judge failures"].get_ylim()
    assert low <= 0 and high >= 1 and all(t == int(t) for t in axes["Judge failures"].get_yticks())


def test_eval_and_calibration_figures(tmp_path: Path) -> None:
    logs = load_run(write_run(tmp_path / "run"))
    askmind = eval_figure(logs, "askmind")
    assert askmind is not None and askmind.get_suptitle() == "Evaluation: askmind"
    ax, samples = askmind.axes
    assert ax.get_xlabel() == "training step" and ax.get_title() == "askmind: rates"
    assert [line.get_label() for line in ax.lines] == ["acc", "cov"] and ax.get_ylim() == RATE_LIMITS
    assert samples.get_title() == "Samples" and samples.get_ylabel() == "samples"  # counts on their own axis
    assert [round(p.get_height()) for p in samples.patches] == [8, 8]
    figure = calibration_figure(logs)
    assert figure is not None
    calibration = figure.axes[0]
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
    assert "| Ask rate | `rollout/ask_rate` | 0.5 | no better direction |" in md
    assert "| askmind | acc | 4 | 0.4 |" in md and "ask_mind_gpqade" not in md
    assert list(figures(load_run(run))) == names[:-1]


def test_cli_defaults_to_run_dir_report_and_fails_in_one_line_without_logs(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", with_calibration=False)
    proc = subprocess.run([sys.executable, "-m", "askrl.report", str(run)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (run / "report" / "report.md").is_file()
    assert not (run / "report" / "calibration.png").exists()  # no calibration results: no plot, no link
    assert "calibration" not in (run / "report" / "report.md").read_text()
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


def test_a_single_evaluation_is_a_labelled_bar_chart(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "eval").mkdir(parents=True)
    suites = {"askmind": {"acc": 0.0, "cov": 0.0, "unq": 0.25, "ask_rate": 0.75, "redundant_question_events": 1.0,
                          "n": 4, "judge_failed": 1, "candidate_failed": 0},
              "calibration": {"clear_ask_rate": 0.5, "underspecified_ask_rate": 0.75, "false_premise_ask_rate": 0.25,
                              "questions_per_dialogue": 1.5, "n": 6, "judge_failed": 0, "candidate_failed": 0}}
    (run / "eval" / "history.jsonl").write_text(json.dumps({"global_step": 2, "status": "degraded", "backend": "rollout",
                                                            "wall_s": 9.0, "suites": suites, "error": "1 of 5"}) + "\n")
    logs = load_run(run)
    fig = eval_figure(logs, "askmind")
    assert fig is not None
    rates, samples = fig.axes
    assert not rates.lines and rates.get_title() == "askmind: rates at step 2"
    assert [t.get_text() for t in rates.get_yticklabels()] == ["ask_rate", "unq", "cov", "acc"]  # paper order, top down
    assert [t.get_text() for t in rates.texts] == ["0.750", "0.250", "0.000", "0.000"]
    assert rates.get_xlim() == (0, 1.12)
    assert sorted(round(p.get_height()) for p in samples.patches) == [1, 4]  # valid and judge-failed, stacked
    other = eval_figure(logs, "calibration")
    assert other is not None and [ax.get_title() for ax in other.axes] == [
        "calibration: rates at step 2", "calibration: other metrics at step 2", "Samples"]  # questions/dialogue apart
    bars = calibration_figure(logs).axes[0]
    assert [round(p.get_height(), 2) for p in bars.patches] == [0.5, 0.75, 0.25]
    written = [p.name for p in build_report(run, tmp_path / "out")]
    assert written == ["eval_askmind.png", "eval_calibration.png", "calibration.png", "report.md"]  # no training.png
    md = (tmp_path / "out" / "report.md").read_text()
    assert "training.png" not in md and "Evaluations: step 2: degraded." in md
    assert "| askmind | samples | 2 | n 4, judge_failed 1, candidate_failed 0 |" in md


def test_a_stale_plot_of_an_earlier_report_is_removed(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    build_report(run, tmp_path / "out")
    assert (tmp_path / "out" / "calibration.png").is_file()
    write_run(run, with_calibration=False)
    build_report(run, tmp_path / "out")
    assert not (tmp_path / "out" / "calibration.png").exists()
