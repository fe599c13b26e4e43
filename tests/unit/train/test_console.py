"""The quiet console's pieces: the fd redirection (in a subprocess, since it rewires fds 1 and 2), the progress
display following a live metrics.jsonl / eval/history.jsonl, and the end-of-run summary rows."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from askrl.train.progress import JsonlTail, StepWatcher, eval_line, metrics_line, progress_line
from askrl.train.summary import print_summary, summary_rows
from askrl.trainer.tracking import append_step_metrics

METRICS = {
    "reward/episode/mean": 0.4123, "reward/checklist_coverage/mean": 0.5, "reward/final_correct_rate": 0.25,
    "rollout/ask_rate": 0.75, "rollout/num_turns/mean": 2.5, "judge/failed_episodes": 1.0,
    "judge/latency_s/episode_mean": 0.034, "timing_s/step": 12.0, "actor/pg_loss": 0.1,
}


def test_quiet_session_sends_other_output_to_the_log_and_names_it_first(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, sys, logging
        from pathlib import Path
        from askrl.train import console
        console.configure_logging()
        logging.getLogger("askrl").setLevel("INFO")
        console.hold()
        console.notice("held before the session")
        with console.quiet_session(Path({str(tmp_path)!r})) as log:
            print("a library prints to stdout")
            sys.stderr.write("a library warns on stderr\\n")
            os.write(2, b"C code writes to fd 2\\n")
            console.notice("an askrl notice")
            logging.getLogger("askrl.x").info("an askrl log record")
            logging.getLogger("ray").warning("a ray warning")
        print("after the session")
        console.release()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    console_lines = proc.stderr.splitlines()
    log = next((tmp_path / "logs").glob("train-*.log"))
    assert console_lines[0] == f"askrl: Ray, VERL and library output go to {log} (askrl.verbose=true prints them here)"
    assert console_lines[1:3] == ["askrl: held before the session", "askrl: an askrl notice"]
    assert console_lines[3].endswith("askrl.x: an askrl log record") and len(console_lines) == 4
    assert proc.stdout == "after the session\n"
    text = log.read_text()
    for line in ("a library prints to stdout", "a library warns on stderr", "C code writes to fd 2",
                 "askrl: an askrl notice", "a ray warning", "an askrl log record"):
        assert line in text


def test_an_error_in_the_session_reaches_the_console_in_full(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        from pathlib import Path
        from askrl.train import console
        with console.quiet_session(Path({str(tmp_path)!r})):
            print("noise")
            raise RuntimeError("inside VERL")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "RuntimeError: inside VERL" in proc.stderr
    assert "askrl: the run stopped; its full log is" in proc.stderr and "noise" not in proc.stderr + proc.stdout


def test_metrics_line_shows_the_metrics_that_matter() -> None:
    assert metrics_line(3, METRICS) == (
        "step 3: reward 0.412 | coverage 0.50 | accuracy 0.25 | ask rate 0.75 | turns 2.5 | judge failures 1 | "
        "judge latency 0.03s"
    )
    assert metrics_line(1, {"critic/score/mean": 0.5}) == "step 1: reward 0.500"


def test_progress_line_counts_steps_rate_and_eta() -> None:
    assert progress_line(1, 4, 30.0) == "step 1/4 [#####---------------] 25% | 30.0 s/step | ETA 0:01:30"
    assert progress_line(4, 4, 30.0).endswith("100% | 30.0 s/step | ETA 0:00:00")
    assert progress_line(2, None, None) == "step 2 | -- s/step"


def test_eval_line_reads_a_history_entry() -> None:
    ok = {"global_step": 4, "status": "ok", "wall_s": 31.2, "error": None,
          "suites": {"askmind": {"acc": 0.5, "cov": 0.25, "n": 8}, "calibration": {"clear_ask_rate": 0.1}}}
    assert eval_line(ok) == "eval step 4 (ok, 31s): askmind acc 0.50 cov 0.25; calibration clear_ask_rate 0.10"
    failed = {"global_step": 5, "status": "failed", "wall_s": 2.0, "suites": {}, "error": "judge down"}
    assert eval_line(failed) == "eval step 5 (failed, 2s): judge down"


def test_jsonl_tail_waits_for_a_half_written_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1}\n{"step": ')
    tail = JsonlTail(path, from_start=True)
    assert tail.read() == [{"step": 1}]
    with path.open("a") as f:
        f.write('2}\n')
    assert tail.read() == [{"step": 2}] and tail.read() == []


def test_step_watcher_follows_a_live_run(tmp_path: Path) -> None:
    append_step_metrics(tmp_path, step=1, metrics={"reward/episode/mean": 0.1})  # an earlier run's step: resumed
    out = io.StringIO()
    watcher = StepWatcher(tmp_path, total_steps=3, out=out, interactive=False)
    watcher.start(poll_s=0.05)
    append_step_metrics(tmp_path, step=2, metrics=METRICS)
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "history.jsonl").write_text(json.dumps(
        {"global_step": 2, "status": "ok", "wall_s": 1.0, "suites": {"askmind": {"acc": 1.0}}, "error": None}) + "\n")
    deadline = time.monotonic() + 10
    while "eval step 2" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    append_step_metrics(tmp_path, step=3, metrics={**METRICS, "timing_s/step": 6.0})
    watcher.stop()
    lines = out.getvalue().splitlines()
    assert lines[0] == "askrl: training 2 steps from step 1; progress and step metrics follow"
    assert lines[1] == "step 2/3 [#############-------] 67% | 12.0 s/step | ETA 0:00:12"
    assert lines[2].startswith("step 2: reward 0.412 | coverage 0.50")
    assert lines[3] == "eval step 2 (ok, 1s): askmind acc 1.00"
    assert lines[4] == "step 3/3 [####################] 100% | 9.0 s/step | ETA 0:00:00"
    assert len(lines) == 6


def test_append_step_metrics_keeps_numbers_only(tmp_path: Path) -> None:
    import numpy as np

    path = append_step_metrics(tmp_path, step=7, metrics={"a": np.float32(0.5), "b": np.int64(3), "c": "text",
                                                          "d": float("nan"), "e": [1, 2], "f": True})
    row = json.loads(path.read_text())
    assert row["step"] == 7 and isinstance(row["time"], float)
    assert row["metrics"] == {"a": 0.5, "b": 3.0, "f": 1.0}


def test_summary_rows_name_every_output_of_the_run(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    started = time.time()
    for step, reward in ((1, 0.2), (2, 0.6), (3, 0.4)):
        append_step_metrics(tmp_path, step=step, metrics={**METRICS, "reward/episode/mean": reward})
    for step in (1, 3):
        (tmp_path / f"global_step_{step}" / "actor").mkdir(parents=True)
    (tmp_path / "conversations.jsonl").write_text("{}\n")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "history.jsonl").write_text(json.dumps(
        {"global_step": 3, "status": "ok", "wall_s": 4.0, "suites": {"askmind": {"acc": 0.5}}, "error": None}) + "\n")
    offline = tmp_path / "wandb" / "offline-run-20990101_000000-abc"
    offline.mkdir(parents=True)
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    rows = dict(summary_rows(tmp_path, wall_s=65.4, started=started, log_path=tmp_path / "logs" / "t.log"))
    assert rows["steps"] == "3" and rows["wall time"] == "65 s"
    assert rows["reward"] == "final 0.400, best 0.600 (step 2)"
    assert rows["judge failures"] == "final 1"
    assert rows["last evaluation"] == "eval step 3 (ok, 4s): askmind acc 0.50"
    assert "evaluation before training" not in rows  # this run made none
    assert rows["checkpoints"] == f"2, latest {tmp_path / 'global_step_3'}"
    assert rows["conversations"] == str(tmp_path / "conversations.jsonl")
    assert rows["wandb run"] == f"{offline} (offline)" and rows["wandb upload"] == f"wandb sync {offline}"
    assert rows["report"] == f"python -m askrl.report {tmp_path}"
    out = io.StringIO()
    print_summary(list(rows.items()), out)
    text = out.getvalue()
    assert text.startswith("askrl run summary") and all(f"│ {name} " in text for name in rows)


def test_eval_line_keeps_a_long_error_to_one_line() -> None:
    entry = {"global_step": 2, "status": "failed", "wall_s": 25.0, "suites": {},
             "error": "EvalStepError: evaluator exited with code 2; log ends:\n" + "x" * 500}
    line = eval_line(entry)
    assert line == "eval step 2 (failed, 25s): EvalStepError: evaluator exited with code 2; log ends:"
    long = eval_line({**entry, "error": "y" * 500})
    assert "\n" not in long and len(long) < 300 and long.endswith("…")


def test_the_terminal_bar_leaves_sys_stdout_and_stderr_alone(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    before = (sys.stdout, sys.stderr)
    out = Terminal()
    watcher = StepWatcher(tmp_path, total_steps=2, out=out, interactive=True)
    watcher.start(poll_s=0.05)
    try:
        assert (sys.stdout, sys.stderr) == before  # rich's Live would otherwise route them to the console
    finally:
        watcher.stop()
    assert "askrl: training 2 steps from step 0" in out.getvalue()


def test_a_resumed_run_starts_from_the_latest_checkpoint_not_the_last_metrics_line(tmp_path: Path) -> None:
    append_step_metrics(tmp_path, step=1, metrics=METRICS)  # killed after saving step 2, before its metrics line
    (tmp_path / "latest_checkpointed_iteration.txt").write_text("2")
    out = io.StringIO()
    watcher = StepWatcher(tmp_path, total_steps=3, out=out, interactive=False)
    watcher.start(poll_s=0.05)
    watcher.stop()
    assert out.getvalue().splitlines()[0] == "askrl: training 1 step from step 2; progress and step metrics follow"


def test_summary_shows_the_evaluation_before_training_next_to_the_last(tmp_path: Path) -> None:
    (tmp_path / "eval").mkdir()
    lines = [
        {"global_step": 0, "status": "ok", "wall_s": 3.0, "error": None,
         "suites": {"askmind": {"cov": 0.25, "ask_rate": 0.5}, "calibration": {"clear_ask_rate": 0.1}}},
        {"global_step": 2, "status": "ok", "wall_s": 4.0, "error": None,
         "suites": {"askmind": {"cov": 0.75, "ask_rate": 0.5}, "calibration": {"clear_ask_rate": 0.0}}},
    ]
    (tmp_path / "eval" / "history.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    rows = dict(summary_rows(tmp_path, wall_s=1.0, started=time.time()))
    assert rows["evaluation before training"] == (
        "eval step 0 (ok, 3s): askmind cov 0.25 ask_rate 0.50; calibration clear_ask_rate 0.10")
    assert rows["last evaluation"].startswith("eval step 2 (ok, 4s): askmind cov 0.75")
    assert rows["change (step 0 -> 2)"] == "askmind cov +0.50 ask_rate +0.00; calibration clear_ask_rate -0.10"
