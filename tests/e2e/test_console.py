"""The console of a real CPU training run, as a person sees it, and the report of that run.

``python -m askrl.train recipe=askmind_grpo`` (auto CPU profile, tiny model, online AskMind episodes on demo
records, lexical judge, checkpoint evaluation of AskMind and calibration items): the console holds no
third-party line (Ray, VERL, TransferQueue, transformers, wandb, warnings) and does hold askrl's progress line and
metrics line for each step, the evaluation line and the summary table; everything else is in the log file the first
line names. Then ``askrl.report`` on the finished run dir draws every plot, non-empty, with the expected axes
(read back from the Figure objects).

About 2 minutes on 2 cores; run under the heavy lock (it starts Ray).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from askrl.report.build import build_report, figures
from askrl.report.logs import load_run
from askrl.report.plots import RATE_LIMITS, TRAINING_PANELS

pytestmark = pytest.mark.slow

TIMEOUT_S = 600
#: Lines no quiet console may show: Ray's and VERL's prefixes and banners, library warnings, tracebacks.
THIRD_PARTY = re.compile(
    r"\(pid=\d+\)|\w+ pid=\d+\)|Warning|WARNING|warnings\.warn|ray init|Started a local Ray|TransferQueue|"
    r"transfer_queue|target_num_threads|Continuous Token|setuptools|\[validate_config\]|^wandb:|Traceback|"
    r"Training Progress|Loading weights|Filtering prompts"
)
ASKRL_LINE = re.compile(r"^(askrl: |askrl\.train|INFO \S+ \S+ askrl\.|step \d|eval step \d|[┌│├└]|askrl run summary)")


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory: pytest.TempPathFactory, run_bounded, askbench_dir: Path) -> tuple[str, Path]:
    workdir = tmp_path_factory.mktemp("console")
    ray_dir = tempfile.mkdtemp(prefix="askrl-e2e-", dir="/tmp")  # short: Ray socket paths must stay < 108 bytes
    run_dir = workdir / "run"
    # Training and evaluation read the project's own AskBench-format records (askbench_dir, askrl.data.demo_tree).
    env = {**os.environ, "WANDB_DIR": str(workdir), "HF_HUB_OFFLINE": "1", "ASKRL_DATA_DIR": str(askbench_dir),
           "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("VERL_PLATFORM", None)
    cmd = [
        sys.executable, "-m", "askrl.train", "recipe=askmind_grpo",
        "askrl.cpu_model=tiny",
        "askrl.cpu.eval_suites=[{name:askmind,limit:1},{name:calibration,limit:2}]",
        f"trainer.default_local_dir={run_dir}",
        f"ray_kwargs.ray_init._temp_dir={ray_dir}",
    ]  # fmt: skip
    try:
        code, wall_s = run_bounded(cmd, env=env, timeout_s=TIMEOUT_S, log=workdir / "console.txt")
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    console = (workdir / "console.txt").read_text(errors="replace")
    print(f"quiet CPU run: {wall_s:.1f}s, {len(console.splitlines())} console lines")
    assert code == 0, console[-6000:]
    return console, run_dir


def test_the_console_shows_askrl_lines_only(quiet_run: tuple[str, Path]) -> None:
    console, run_dir = quiet_run
    lines = [line for line in console.splitlines() if line.strip()]
    log = next((run_dir / "logs").glob("train-*.log"))
    assert lines[0] == f"askrl: Ray, VERL and library output go to {log} (askrl.verbose=true prints them here)"
    assert [line for line in lines if THIRD_PARTY.search(line)] == []
    assert [line for line in lines if not ASKRL_LINE.match(line)] == []
    assert len(lines) < 60, console
    text = log.read_text(errors="replace")
    assert "Started a local Ray instance" in text and "(AskrlTaskRunner pid=" in text  # the noise went here


def test_the_console_has_progress_metrics_evaluation_and_summary(quiet_run: tuple[str, Path]) -> None:
    console, run_dir = quiet_run
    for step in (1, 2):
        assert re.search(rf"^step {step}/2 \[[#-]{{20}}\] \d+% \| \d+\.\d s/step \| ETA \d+:\d\d:\d\d$", console, re.M)
        metrics = re.search(rf"^step {step}: reward -?\d+\.\d+ \| coverage .* \| ask rate .* \| turns .*$", console,
                            re.M)
        assert metrics and "judge failures 0" in metrics.group(0) and "judge latency" in metrics.group(0)
    assert re.search(r"^eval step 2 \(ok, \d+s\): ", console, re.M), console[-3000:]
    assert "askrl run summary" in console and f"python -m askrl.report {run_dir}" in console
    assert "wandb sync " in console  # no credentials: offline, with the command to upload it


def test_the_askmind_grpo_recipe_trained_two_healthy_steps(quiet_run: tuple[str, Path], check_two_recipe_steps) -> None:
    console, run_dir = quiet_run
    assert "askrl: no GPU found: running the CPU profile" in console
    steps = {r["step"]: r["metrics"] for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())}
    check_two_recipe_steps(steps, run_dir / "conversations.jsonl", run_dir.parent)


def test_the_report_of_the_finished_run_has_every_plot(quiet_run: tuple[str, Path], tmp_path: Path) -> None:
    _, run_dir = quiet_run
    logs = load_run(run_dir)
    figs = figures(logs)
    assert list(figs) == ["training.png", "eval_askmind.png", "eval_calibration.png", "calibration.png"]
    training = {ax.get_title(): ax for ax in figs["training.png"].axes if ax.get_visible()}
    assert list(training) == [panel.title for panel in TRAINING_PANELS]
    for title, ax in training.items():
        assert ax.get_xlabel() == "training step" and ax.get_ylabel()
        assert len(ax.lines) == 1 and list(ax.lines[0].get_xdata()) == [1, 2], title
    # evaluated before training (step 0, the CPU profile's askrl.eval.before_train) and at the step-2 checkpoint
    for name in ("eval_askmind.png", "eval_calibration.png", "calibration.png"):
        ax = figs[name].axes[0]
        assert ax.get_xlabel() == "training step" and ax.lines, name
        assert all(list(line.get_xdata()) == [0, 2] for line in ax.lines), name
    for name in ("eval_askmind.png", "eval_calibration.png"):
        assert figs[name].axes[0].get_ylim() == RATE_LIMITS and figs[name].axes[-1].get_title() == "Samples", name
    assert {line.get_label() for line in figs["calibration.png"].axes[0].lines} == {
        "clear prompts", "underspecified prompts", "false-premise prompts"}
    written = build_report(run_dir, tmp_path / "report")
    assert all(p.stat().st_size > 0 for p in written) and (tmp_path / "report" / "report.md").is_file()
