"""Trainer hooks of checkpoint evaluation: a mixin for askrl's VERL trainers (``askrl.trainer.hooks``).

Why a mixin: VERL calls the checkpoint callback only from ``_save_checkpoint``; the rest of checkpoint evaluation
needs four more moments that only the trainer has: right after a weight sync (the ``rollout`` backend), once after
start-up (resume), before a step's metrics are logged (finished evaluations reach wandb from the trainer's thread),
and the end of ``fit`` (VERL returns from its last step without ``on_train_end``). Each hook calls
:class:`eval_hooks.checkpoint.callback.CheckpointEvalCallback` and never lets an evaluation error stop training.

The ``_save_checkpoint`` fallback (VERL notes, §3): when the trainer's ``checkpoint_callback`` is not askrl's (the
config names another class, or a VERL without ``trainer.checkpoint_callback_class``), askrl's callback is built here
and called after VERL's save, so evaluation does not depend on that key.

    class AskTrainerSync(CheckpointEvalHooks, _verl.PPOTrainerSync): ...
"""

from __future__ import annotations

import logging
import os
from typing import Any

from eval_hooks.checkpoint.callback import CheckpointEvalCallback

logger = logging.getLogger(__name__)


class CheckpointEvalHooks:
    """Mix in before VERL's trainer class."""

    def _eval_callback(self) -> CheckpointEvalCallback:
        callback = getattr(self, "checkpoint_callback", None)
        if isinstance(callback, CheckpointEvalCallback):
            return callback
        fallback = getattr(self, "_askrl_eval_callback", None)
        if fallback is None:
            fallback = CheckpointEvalCallback(self.config)
            self._askrl_eval_callback = fallback
        return fallback

    def _save_checkpoint(self) -> None:
        super()._save_checkpoint()  # type: ignore[misc]
        if isinstance(getattr(self, "checkpoint_callback", None), CheckpointEvalCallback):
            return  # VERL called it
        step = int(self.global_steps)
        folder = os.path.join(self.config.trainer.default_local_dir, f"global_step_{step}")
        self._eval_callback().on_save(trainer=self, global_step=step, checkpoint_dir=folder)

    def on_init_end(self) -> None:
        super().on_init_end()  # type: ignore[misc]
        self._eval_callback().on_resume(self)

    def on_step_end(self) -> None:
        super().on_step_end()  # type: ignore[misc]
        try:
            self._eval_callback().after_weight_sync(self)
        except Exception:
            logger.exception("rollout evaluation failed at step %s; training goes on", getattr(self, "global_steps", "?"))

    def _compute_metrics(self, batch: Any, metrics: dict, timing_raw: dict, global_steps: int, epoch: int) -> None:
        super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)  # type: ignore[misc]
        try:
            metrics.update(self._eval_callback().metrics_for_step(self))
        except Exception:
            logger.exception("could not add evaluation metrics at step %d; training goes on", global_steps)

    def fit(self, agent_loop_manager: Any) -> None:
        try:
            super().fit(agent_loop_manager)  # type: ignore[misc]
        except BaseException:
            self._eval_callback().finish(self, failed=True)
            raise
        self._eval_callback().finish(self, failed=False)
