"""askrl's sync trainer: VERL's ``PPOTrainerSync`` plus askrl's step metrics and sample-conversation tables.

Why a subclass: VERL 0.9.1 logs no ``reward_extra_info`` on training steps, so rubric reward, coverage, accuracy,
ask rate, judge failures and simulator fidelity would be invisible in wandb. The only change is in
``_compute_metrics``, which runs while the step's batch is still in TransferQueue: it reads the trajectories'
``extra_fields`` once and adds ``askrl.trainer.tracking.step_metrics``; every ``askrl.tracking.conversations_every``
steps it also decodes a few conversations into a wandb table (when wandb is active) and always appends them to
``<trainer.default_local_dir>/conversations.jsonl``.

It is installed under VERL's trainer name ``sync`` in the TaskRunner process only (``askrl.trainer.task_runner``), so every
``trainer_mode == "sync"`` branch of VERL still applies (a new mode name would silently switch to async semantics).
Metric problems never stop training: they are logged and skipped. Checkpoint evaluation (merge, serve, evaluate,
log; :mod:`eval_hooks.checkpoint.trainer_hooks`) is mixed in.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from askrl import _verl
from askrl.judge.client import JudgeUnavailableError
from askrl.rollout.judge_cost import judge_unavailable
from askrl.trainer.tracking import append_step_metrics, conversation_rows, step_metrics
from eval_hooks.checkpoint.trainer_hooks import CheckpointEvalHooks

logger = logging.getLogger(__name__)


class AskrlStepHooks:
    """askrl's per-step metrics and sample conversations; mix in before VERL's trainer class (any mode)."""

    def _compute_advantage(self, batch: Any, metrics: dict) -> Any:
        """Stop the run when the judge is gone (every endpoint unreachable for a whole call deadline), in one line
        naming the endpoints, before the step's masked trajectories reach the advantage."""
        import transfer_queue as tq

        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"])
        gone = judge_unavailable(data.pop("extra_fields").tolist())
        if gone is not None:
            raise JudgeUnavailableError(gone)
        return super()._compute_advantage(batch, metrics=metrics)  # type: ignore[misc]

    def _compute_metrics(self, batch: Any, metrics: dict, timing_raw: dict, global_steps: int, epoch: int) -> None:
        super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)
        try:
            self._askrl_metrics(batch, metrics, global_steps)
        except Exception:  # metrics are a report, never a reason to lose a training run
            logger.exception("askrl step metrics failed at step %d; training continues", global_steps)
        try:  # the run's local record (console progress, summary, askrl.report): VERL's metrics plus askrl's
            append_step_metrics(self.config.trainer.default_local_dir, step=global_steps, metrics=metrics)
        except OSError:
            logger.exception("could not append step %d to metrics.jsonl; training continues", global_steps)

    def _askrl_metrics(self, batch: Any, metrics: dict, global_steps: int) -> None:
        import transfer_queue as tq

        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"])
        extra_fields = list(data.pop("extra_fields").tolist())
        metrics.update(step_metrics(extra_fields))
        tracking = self.config.get("askrl", {}).get("tracking", {}) or {}
        every = int(tracking.get("conversations_every", 0) or 0)
        if every > 0 and global_steps % every == 0:
            self._log_conversations(batch, extra_fields, global_steps, int(tracking.get("conversations_per_step", 4)))

    def _log_conversations(self, batch: Any, extra_fields: list, step: int, limit: int) -> None:
        import transfer_queue as tq

        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["prompts", "responses"])
        prompt_lens = data["prompts"].offsets().diff().tolist()
        response_lens = data["responses"].offsets().diff().tolist()
        pad = self.tokenizer.pad_token_id
        prompts = data["prompts"].to_padded_tensor(padding=pad)
        responses = data["responses"].to_padded_tensor(padding=pad)
        prompt_text = [self.tokenizer.decode(p[:n], skip_special_tokens=True) for p, n in zip(prompts, prompt_lens, strict=True)]
        response_ids = [r[:n].tolist() for r, n in zip(responses, response_lens, strict=True)]

        def decode(ids: list[int]) -> str:
            return self.tokenizer.decode(ids, skip_special_tokens=True)

        rows = conversation_rows(extra_fields, prompt_text, response_ids, decode, step=step, limit=limit)
        if not rows:
            return
        out = Path(self.config.trainer.default_local_dir) / "conversations.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if "wandb" in list(self.config.trainer.logger):
            import wandb

            if wandb.run is not None:
                columns = list(rows[0])
                table = wandb.Table(columns=columns, data=[[r[c] for c in columns] for r in rows])
                wandb.log({"rollout/conversations": table}, step=step)


class AskTrainerSync(AskrlStepHooks, CheckpointEvalHooks, _verl.PPOTrainerSync):  # type: ignore[misc,name-defined]
    """``PPOTrainerSync`` with askrl's step metrics, sample conversations and checkpoint evaluation."""


class AskTrainerColocateAsync(  # type: ignore[misc,name-defined]
    AskrlStepHooks, CheckpointEvalHooks, _verl.PPOTrainerColocateAsync
):
    """``PPOTrainerColocateAsync`` (``trainer.v1.trainer_mode=colocate_async``) with the same hooks as the sync
    trainer; VERL's own off-policy metrics (``*/off_policy/...`` staleness of the trajectories) come with it."""


class AskTrainerSeparateAsync(  # type: ignore[misc,name-defined]
    AskrlStepHooks, CheckpointEvalHooks, _verl.PPOTrainerSeparateAsync
):
    """``PPOTrainerSeparateAsync`` (GPU only: a separate rollout pool, see ``askrl.trainer.modes``) with the same
    hooks."""
