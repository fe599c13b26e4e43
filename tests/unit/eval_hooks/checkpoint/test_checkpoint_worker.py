"""The background evaluation worker and the run's evaluation history (real threads, real files)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from eval_hooks.checkpoint.history import EvalHistory, EvalRecord, numeric_suites
from eval_hooks.checkpoint.worker import EvalJob, EvalWorker


def _job(step: int, tmp_path: Path) -> EvalJob:
    return EvalJob(step=step, checkpoint_dir=tmp_path / f"global_step_{step}")


def test_queue_skips_the_oldest_waiting_jobs_and_the_newest_is_always_evaluated(tmp_path: Path, caplog) -> None:
    release = threading.Event()
    ran: list[int] = []

    def run_job(job: EvalJob, stop: threading.Event) -> dict:
        if job.step == 1:
            release.wait(10)  # step 1 runs while 2, 3, 4 are submitted
        ran.append(job.step)
        return {"askmind": {"acc": job.step / 10}}

    history = EvalHistory(tmp_path)
    worker = EvalWorker(run_job, history, backend="serve", max_pending=2)
    caplog.set_level(logging.WARNING)
    for step in (1, 2, 3, 4):
        worker.submit(_job(step, tmp_path))
        if step == 1:
            while worker.pending() != 1 or not worker._running:  # step 1 taken by the thread
                threading.Event().wait(0.01)
    release.set()
    assert worker.wait(10)
    worker.stop()
    assert ran == [1, 3, 4]
    assert "evaluation of step 2 skipped" in caplog.text
    by_step = {r.global_step: r for r in history.records()}
    assert sorted(by_step) == [1, 2, 3, 4]
    assert by_step[2].status == "skipped" and by_step[4].status == "ok" and by_step[4].suites == {"askmind": {"acc": 0.4}}
    assert [r.global_step for r in worker.drain()] == [2, 1, 3, 4]  # the skip is recorded when it happens
    assert worker.drain() == []


def test_a_failing_evaluation_is_recorded_with_its_reason_and_the_next_one_still_runs(tmp_path: Path, caplog) -> None:
    def run_job(job: EvalJob, stop: threading.Event) -> dict:
        if job.step == 1:
            raise RuntimeError("judge at http://127.0.0.1:9 refused the connection")
        return {"askmind": {"acc": 1.0}}

    worker = EvalWorker(run_job, EvalHistory(tmp_path), backend="serve", max_pending=4)
    worker.submit(_job(1, tmp_path))
    worker.submit(_job(2, tmp_path))
    assert worker.wait(10)
    worker.stop()
    first, second = worker.drain()
    assert first.status == "failed" and "refused the connection" in first.error and first.wall_s >= 0
    assert second.status == "ok"
    assert "evaluation of step 1 failed" in caplog.text


def test_a_stopped_evaluation_leaves_no_history_line_so_a_resumed_run_redoes_it(tmp_path: Path) -> None:
    started = threading.Event()

    def run_job(job: EvalJob, stop: threading.Event) -> dict:
        started.set()
        stop.wait(10)
        raise RuntimeError("evaluator stopped")

    history = EvalHistory(tmp_path)
    worker = EvalWorker(run_job, history, backend="serve", max_pending=2)
    worker.submit(_job(5, tmp_path))
    worker.submit(_job(6, tmp_path))
    assert started.wait(10)
    assert not worker.wait(0.2)  # bounded: returns False while the job still runs
    worker.stop()
    assert history.records() == [] and worker.drain() == []


def test_history_lines_follow_the_contract_and_survive_a_cut_line(tmp_path: Path, caplog) -> None:
    history = EvalHistory(tmp_path)
    history.append(EvalRecord(global_step=2, status="ok", backend="rollout", wall_s=3.5,
                              suites={"askmind": {"acc": 0.5, "n": 2.0}}))
    with history.path.open("a") as handle:
        handle.write('{"global_step": 3, "stat')  # a write cut by a kill
    history.append(EvalRecord(global_step=4, status="failed", backend="serve", wall_s=1.0, error="boom"))
    lines = history.path.read_text().splitlines()
    assert json.loads(lines[0]) == {"global_step": 2, "status": "ok", "backend": "rollout", "wall_s": 3.5,
                                    "suites": {"askmind": {"acc": 0.5, "n": 2.0}}, "error": None}
    assert history.finished_steps() == {2, 4}
    assert "unreadable evaluation history line" in caplog.text


def test_summary_keeps_numbers_only() -> None:
    summary = {"askmind": {"acc": 0.5, "n": 4, "flag": True, "note": "x", "bad": float("nan")}, "meta": "v2"}
    assert numeric_suites(summary) == {"askmind": {"acc": 0.5, "n": 4.0}}
