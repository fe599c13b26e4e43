"""The background evaluation worker of the ``serve`` backend: a queue of checkpoints, one evaluation at a time.

Why: merging, serving and evaluating a checkpoint takes minutes to hours; training must not wait for it. The
checkpoint callback submits each evaluation step here and returns at once; one thread takes jobs in order and runs
each (the heavy work happens in child processes: the merge, the model server, the evaluator).

Contract:
- At most ``max_pending`` jobs wait behind the running one. A newer checkpoint pushes the oldest waiting job out:
  it is logged (``evaluation of step N skipped ...``) and recorded as ``skipped``, so the newest checkpoint, and
  therefore the last one, is always evaluated.
- A job that raises is recorded as ``failed`` with its reason and logged; nothing propagates to training. One
  that raises :class:`eval_hooks.checkpoint.history.DegradedEvaluation` (too many failed samples) is recorded as
  ``degraded``, with the valid samples' metrics and the counts.
- Every outcome is appended to the run's history (:mod:`eval_hooks.checkpoint.history`) and kept for :meth:`EvalWorker.drain`,
  which the trainer calls from its own thread to log finished evaluations.
- :meth:`EvalWorker.wait` blocks until the queue is empty or a deadline passes; :meth:`EvalWorker.stop` sets the
  job's stop event (the job kills its child processes) and ends the thread.

    worker = EvalWorker(run_job, EvalHistory(run_dir), backend="serve", max_pending=2)
    worker.submit(EvalJob(step=20, checkpoint_dir=Path(".../global_step_20")))
    for record in worker.drain(): ...            # finished since the last drain
    worker.wait(timeout_s=3600); worker.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eval_hooks.checkpoint.history import DegradedEvaluation, EvalHistory, EvalRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalJob:
    """One checkpoint to evaluate."""

    step: int
    checkpoint_dir: Path


# (job, stop event) -> the evaluator's numeric summary {suite: {metric: value}}; raises on failure
JobRunner = Callable[[EvalJob, threading.Event], dict[str, dict[str, float]]]


class EvalWorker:
    """A daemon thread running :data:`JobRunner` calls one at a time over a bounded, skip-oldest queue."""

    def __init__(self, run_job: JobRunner, history: EvalHistory, *, backend: str, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self._run_job = run_job
        self._history = history
        self._backend = backend
        self._max_pending = max_pending
        self._queue: deque[EvalJob] = deque()
        self._running: EvalJob | None = None
        self._finished: list[EvalRecord] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="askrl-eval-worker", daemon=True)
        self._thread.start()

    def submit(self, job: EvalJob) -> None:
        """Queue ``job``; if more than ``max_pending`` now wait, skip the oldest waiting ones (logged and recorded)."""
        skipped: list[EvalJob] = []
        with self._cond:
            if self._stop.is_set():
                raise RuntimeError("the evaluation worker is stopped")
            self._queue.append(job)
            while len(self._queue) > self._max_pending:
                skipped.append(self._queue.popleft())
            self._cond.notify_all()
        for old in skipped:
            reason = (f"skipped: {self._max_pending} newer checkpoints were waiting (askrl.eval.max_pending="
                      f"{self._max_pending}); step {job.step} was saved before its evaluation started")
            logger.warning("evaluation of step %d %s", old.step, reason)
            self._record(EvalRecord(global_step=old.step, status="skipped", backend=self._backend, wall_s=0.0,
                                    error=reason))

    def pending(self) -> int:
        """Jobs waiting or running."""
        with self._cond:
            return len(self._queue) + (self._running is not None)

    def drain(self) -> list[EvalRecord]:
        """Records finished (or skipped) since the last call, oldest first."""
        with self._cond:
            out, self._finished = self._finished, []
        return out

    def wait(self, timeout_s: float) -> bool:
        """Block until nothing is waiting or running, or ``timeout_s`` passed; True when all finished."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and self._running is None, timeout=timeout_s)

    def stop(self, join_timeout_s: float = 60.0) -> None:
        """Stop the running job (its stop event is set) and the thread; waiting jobs are dropped unrecorded.

        Unrecorded on purpose: an evaluation that never ended has no history line, so a resumed run redoes it.
        """
        with self._cond:
            self._stop.set()
            dropped = [j.step for j in self._queue]
            self._queue.clear()
            self._cond.notify_all()
        if dropped:
            logger.warning("evaluations of steps %s never started (training ended); a resumed run would do them", dropped)
        self._thread.join(timeout=join_timeout_s)

    def _record(self, record: EvalRecord) -> None:
        try:
            self._history.append(record)
        except OSError:
            logger.exception("could not append step %d to %s", record.global_step, self._history.path)
        with self._cond:
            self._finished.append(record)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stop.is_set())
                if self._stop.is_set():
                    return
                job = self._queue.popleft()
                self._running = job
            record = self._run_one(job)
            if record is not None:
                self._record(record)
            with self._cond:
                self._running = None
                self._cond.notify_all()

    def _run_one(self, job: EvalJob) -> EvalRecord | None:
        started = time.monotonic()
        logger.info("evaluating checkpoint of step %d (%s backend)", job.step, self._backend)
        try:
            suites = self._run_job(job, self._stop)
        except DegradedEvaluation as err:
            wall_s = time.monotonic() - started
            logger.warning("evaluation of step %d degraded after %.0fs: %s", job.step, wall_s, err)
            return EvalRecord(global_step=job.step, status="degraded", backend=self._backend, wall_s=wall_s,
                              suites=err.suites, error=str(err))
        except Exception as err:  # an evaluation never stops training: record why and go on
            wall_s = time.monotonic() - started
            if self._stop.is_set():
                logger.warning("evaluation of step %d stopped after %.0fs (training ended): %s", job.step, wall_s, err)
                return None  # interrupted, not finished: no history line, a resumed run redoes it
            logger.warning("evaluation of step %d failed after %.0fs; training goes on: %s: %s",
                           job.step, wall_s, type(err).__name__, err)
            return EvalRecord(global_step=job.step, status="failed", backend=self._backend, wall_s=wall_s,
                              error=f"{type(err).__name__}: {err}")
        wall_s = time.monotonic() - started
        logger.info("evaluation of step %d done in %.1fs", job.step, wall_s)
        return EvalRecord(global_step=job.step, status="ok", backend=self._backend, wall_s=wall_s, suites=suites)
