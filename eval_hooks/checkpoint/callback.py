"""The checkpoint callback that evaluates checkpoints while training goes on (and still writes provenance).

Why: users want every checkpoint run on AskBench and the QA suites without stopping training or merging shards by
hand. VERL 0.9.1 calls ``trainer.checkpoint_callback_class`` on the driver after each save
(``askrl/config/askrl.yaml`` names this class); the trainer hooks (:mod:`eval_hooks.checkpoint.trainer_hooks`, mixed into
askrl's trainers) call the rest: after the weight sync, once at start-up (resume), before each step's metrics are
logged, and when training ends.

What it does, per backend (``askrl.eval``, :mod:`eval_hooks.checkpoint.config`):
- ``serve``: an evaluation save is queued on the background worker (:mod:`eval_hooks.checkpoint.worker`), which merges,
  serves and evaluates it (:func:`eval_hooks.checkpoint.evaluate.serve_and_evaluate`); training does not wait.
- ``rollout``: after the weight sync of an evaluation step, the evaluator runs against the live rollout servers
  (vLLM's OpenAI endpoint, or :class:`askrl.cpu.openai_endpoint.ReplicaChatEndpoint` over ``hf_cpu``); training waits,
  and each suite's time is logged as ``eval/<suite>/wall_s``.
- Finished evaluations are logged from the trainer's own thread, one per training step, as ``eval/<suite>/<metric>``
  with ``eval/global_step`` (wandb plots ``eval/*`` against it: its own step never goes backwards). A calibration
  result whose clear-prompt ask rate exceeds ``askrl.eval.alert.clear_ask_rate`` raises a wandb alert and a warning.
- ``askrl.eval.before_train``: at start-up, before step 1, the untrained policy is evaluated as step 0 (rollout
  backend), so every run has a "before" next to its "after".
- Resume: steps whose evaluation has no line in ``eval/history.jsonl`` are redone (the evaluator resumes its files).
- At the end the run waits up to ``askrl.eval.final_wait_s`` for pending evaluations and logs them.

How it fails: nothing here may cost a checkpoint or the run; every error is logged and recorded as a failed
evaluation, and training goes on (VERL propagates exceptions from ``on_save``).

    trainer.checkpoint_callback_class: eval_hooks.checkpoint.callback.CheckpointEvalCallback
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from eval_hooks.checkpoint.config import EvalSettings
from eval_hooks.checkpoint.history import DegradedEvaluation, EvalHistory, EvalRecord
from eval_hooks.checkpoint.provenance import ProvenanceCallback

logger = logging.getLogger(__name__)

STEP_METRIC = "eval/global_step"
_STEP_DIR = re.compile(r"^global_step_(\d+)$")


def eval_metrics(record: EvalRecord) -> dict[str, float]:
    """The wandb/console keys of one finished evaluation (``eval/<suite>/<metric>``, ``eval/global_step``).

    A skipped evaluation has no metrics (its history line and log line say why)."""
    if record.status == "skipped":
        return {}
    metrics: dict[str, float] = {STEP_METRIC: float(record.global_step)}
    if record.status == "failed":
        metrics["eval/failed"] = 1.0
        return metrics
    if record.status == "degraded":  # the valid samples' metrics, flagged: too many samples failed
        metrics["eval/degraded"] = 1.0
    for suite, values in record.suites.items():
        metrics.update({f"eval/{suite}/{name}": float(v) for name, v in values.items()})
    metrics["eval/wall_s"] = float(record.wall_s)
    return metrics


def saved_steps(run_dir: Path) -> list[int]:
    """Steps with an actor checkpoint still on disk, ascending."""
    if not run_dir.is_dir():
        return []
    steps = [int(m.group(1)) for p in run_dir.iterdir() if (m := _STEP_DIR.match(p.name)) and (p / "actor").is_dir()]
    return sorted(steps)


class CheckpointEvalCallback(ProvenanceCallback):
    """Provenance after every save, plus checkpoint evaluation as configured by ``askrl.eval``."""

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        askrl = config.get("askrl", {}) if config is not None else {}
        block = OmegaConf.to_container(askrl.get("eval"), resolve=True) if askrl.get("eval") is not None else {}
        self.settings = EvalSettings.model_validate(block or {})
        judge = askrl.get("judge")
        self._training_judge = OmegaConf.to_container(judge, resolve=True) if judge is not None else {}
        self.backend = self.settings.resolved_backend()
        self.run_dir = Path(config.trainer.default_local_dir) if config is not None else Path(".")
        self.history = EvalHistory(self.run_dir)
        self._worker: Any = None
        self._rollout_due: list[int] = []
        self._to_log: deque[EvalRecord] = deque()
        self._wandb_ready = False

    # ----------------------------------------------------------------- VERL's hook
    def on_save(self, trainer: Any, global_step: int, checkpoint_dir: str, async_save: bool = False, **kwargs: Any) -> None:
        super().on_save(trainer, global_step, checkpoint_dir, async_save=async_save, **kwargs)
        try:
            if self._is_eval_step(global_step) and global_step not in self.history.finished_steps():
                self._schedule(global_step, Path(checkpoint_dir))
        except Exception:  # never lose the run over its evaluation
            logger.exception("could not schedule the evaluation of step %d; training goes on", global_step)

    # ----------------------------------------------------------------- called by the trainer hooks
    def on_resume(self, trainer: Any) -> None:
        """At start-up (after the first weight sync): redo evaluations a killed run left without a history line."""
        if not self.settings.enabled:
            return
        try:
            current = int(getattr(trainer, "global_steps", 0))
            finished = self.history.finished_steps()
            missing = [s for s in saved_steps(self.run_dir) if s <= current and self._is_eval_step(s) and s not in finished]
            for step in missing:
                logger.info("step %d has a checkpoint but no finished evaluation: evaluating it again", step)
                if self.backend == "rollout" and step != current:
                    self._record_now(EvalRecord(global_step=step, status="skipped", backend=self.backend, wall_s=0.0,
                                                error="interrupted; the rollout servers no longer hold these weights"))
                    continue
                self._schedule(step, self.run_dir / f"global_step_{step}")
            if self._before_train_due(current, finished):
                self._rollout_due.insert(0, 0)
            self.after_weight_sync(trainer)
        except Exception:
            logger.exception("could not resume the evaluation history of %s; training goes on", self.run_dir)

    def after_weight_sync(self, trainer: Any) -> None:
        """``rollout`` backend: evaluate the steps saved since the last sync against the live rollout servers."""
        while self._rollout_due:
            step = self._rollout_due.pop(0)
            self._record_now(self._evaluate_rollout(trainer, step))

    def metrics_for_step(self, trainer: Any) -> dict[str, float]:
        """The oldest finished evaluation not yet logged, as metrics for this training step (empty if none)."""
        self._collect()
        if not self._to_log:
            return {}
        record = self._to_log.popleft()
        self._prepare_wandb(trainer)
        self._alert(trainer, record)
        return eval_metrics(record)

    def finish(self, trainer: Any, *, failed: bool) -> None:
        """When training ends: wait (bounded) for pending evaluations, log them, stop the worker."""
        if self._worker is not None:
            if not failed:
                pending = self._worker.pending()
                if pending:
                    logger.info("training done; waiting up to %.0fs for %d pending evaluation(s)",
                                self.settings.final_wait_s, pending)
                if not self._worker.wait(self.settings.final_wait_s):
                    logger.warning("pending evaluations did not finish within askrl.eval.final_wait_s=%.0fs; stopping "
                                   "them (a resumed run redoes them)", self.settings.final_wait_s)
            self._worker.stop()
        self._collect()
        log = getattr(trainer, "logger", None)
        step = int(getattr(trainer, "global_steps", 0))
        while self._to_log and log is not None:
            record = self._to_log.popleft()
            self._prepare_wandb(trainer)
            self._alert(trainer, record)
            try:
                log.log(data=eval_metrics(record), step=step)  # past the last training step: wandb's step only grows
            except Exception:
                logger.exception("could not log the evaluation of step %d", record.global_step)
            step += 1

    # ----------------------------------------------------------------- internals
    def _before_train_due(self, current: int, finished: set[int]) -> bool:
        """``askrl.eval.before_train``: the untrained policy (step 0) still needs its evaluation."""
        if not self.settings.before_train or current != 0 or 0 in finished:
            return False
        if self.backend != "rollout":
            logger.warning("askrl.eval.before_train: no evaluation before training with backend %s (it evaluates "
                           "saved checkpoints; step 0 has none)", self.backend)
            return False
        return True

    def _is_eval_step(self, step: int) -> bool:
        trainer_cfg = self.config.trainer
        total = trainer_cfg.get("total_training_steps")
        return self.settings.is_eval_step(step, save_freq=int(trainer_cfg.get("save_freq", -1) or -1),
                                          total_steps=int(total) if total is not None else None)

    def _plan(self) -> Any:
        from eval_hooks.checkpoint.evaluate import EvalPlan

        return EvalPlan.from_settings(self.settings, training_judge=self._training_judge, run_dir=self.run_dir)

    def _schedule(self, step: int, checkpoint_dir: Path) -> None:
        if self.backend == "rollout":
            self._rollout_due.append(step)
            return
        from eval_hooks.checkpoint.evaluate import serve_and_evaluate
        from eval_hooks.checkpoint.worker import EvalJob, EvalWorker

        if self._worker is None:
            plan = self._plan()
            self._worker = EvalWorker(lambda job, stop: serve_and_evaluate(plan, job, stop), self.history,
                                      backend=self.backend, max_pending=self.settings.max_pending)
        self._worker.submit(EvalJob(step=step, checkpoint_dir=checkpoint_dir))

    def _record_now(self, record: EvalRecord) -> None:
        self.history.append(record)
        self._queue_for_log([record])

    def _queue_for_log(self, records: list[EvalRecord]) -> None:
        self._to_log.extend(r for r in records if r.status != "skipped")

    def _collect(self) -> None:
        if self._worker is not None:
            self._queue_for_log(self._worker.drain())

    def _evaluate_rollout(self, trainer: Any, step: int) -> EvalRecord:
        from eval_hooks.checkpoint.evaluate import run_evaluator

        started = time.monotonic()
        logger.info("evaluating step %d against the live rollout servers (training waits)", step)
        try:
            with rollout_endpoint(trainer) as (url, name):
                suites = run_evaluator(self._plan(), step=step, model_url=url, model_name=name, stop=threading.Event(),
                                       time_each_suite=True)
        except DegradedEvaluation as err:  # too many failed samples: the valid ones' metrics, marked degraded
            wall_s = time.monotonic() - started
            logger.warning("evaluation of step %d degraded after %.0fs: %s", step, wall_s, err)
            return EvalRecord(global_step=step, status="degraded", backend="rollout", wall_s=wall_s,
                              suites=err.suites, error=str(err))
        except Exception as err:  # logged and recorded; training goes on
            wall_s = time.monotonic() - started
            logger.warning("evaluation of step %d failed after %.0fs; training goes on: %s: %s", step, wall_s,
                           type(err).__name__, err)
            return EvalRecord(global_step=step, status="failed", backend="rollout", wall_s=wall_s,
                              error=f"{type(err).__name__}: {err}")
        wall_s = time.monotonic() - started
        logger.info("evaluation of step %d done in %.1fs (rollout backend)", step, wall_s)
        return EvalRecord(global_step=step, status="ok", backend="rollout", wall_s=wall_s, suites=suites)

    def _wandb_run(self, trainer: Any) -> Any:
        if "wandb" not in list(self.config.trainer.get("logger") or []):
            return None
        import wandb

        return wandb.run

    def _prepare_wandb(self, trainer: Any) -> None:
        if self._wandb_ready:
            return
        run = self._wandb_run(trainer)
        if run is None:
            return
        run.define_metric(STEP_METRIC)
        run.define_metric("eval/*", step_metric=STEP_METRIC)
        self._wandb_ready = True

    def _alert(self, trainer: Any, record: EvalRecord) -> None:
        rate = record.suites.get("calibration", {}).get("clear_ask_rate")
        limit = self.settings.alert.clear_ask_rate
        if rate is None or rate <= limit:
            return
        text = (f"step {record.global_step}: the ask rate on clear prompts is {rate:.3f}, above "
                f"askrl.eval.alert.clear_ask_rate={limit:g}: the policy asks where nothing is missing")
        logger.warning("calibration alert: %s", text)
        run = self._wandb_run(trainer)
        if run is not None:
            try:
                import wandb

                run.alert(title="askrl: asking on clear prompts", text=text, level=wandb.AlertLevel.WARN)
            except Exception:  # offline runs and old servers may refuse alerts; the warning line stands
                logger.exception("wandb alert failed")


class rollout_endpoint:  # noqa: N801  (a context manager used like a function)
    """``(base_url, model_name)`` of rollout replica 0: vLLM's own server, or a chat endpoint over ``hf_cpu``."""

    def __init__(self, trainer: Any) -> None:
        self._trainer = trainer
        self._endpoint: Any = None

    def __enter__(self) -> tuple[str, str | None]:
        replicas = self._trainer.llm_server_manager.get_replicas()
        if not replicas:
            raise RuntimeError("no rollout replicas to evaluate against (standalone rollout? use askrl.eval.backend=serve)")
        replica = replicas[0]
        address = replica.server_address or ""
        if address and "@" not in address:
            import httpx

            url = f"http://{address}/v1"
            models = httpx.get(f"{url}/models", timeout=30).json()["data"]
            return url, str(models[0]["id"])
        from askrl.cpu.openai_endpoint import ReplicaChatEndpoint

        self._endpoint = ReplicaChatEndpoint(replica.server_handle, self._trainer.tokenizer)
        return self._endpoint.base_url, self._endpoint.served_name

    def __exit__(self, *exc: object) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
