"""A checkpoint callback that records, next to every checkpoint, what produced it.

Why: a checkpoint trained against a rubric is only comparable to another when both used the same reward table,
judge prompts, failure policy and code. VERL 0.9.1 calls ``trainer.checkpoint_callback_class`` on the driver after
each save; this callback writes ``<global_step_N>/askrl_provenance.json`` with the
step, the run's names, the policy path, askrl's and VERL's versions, the git commit of the askrl checkout, and (for
task recipes) the reward provenance: table, table hash, judge backend, prompt version and the combined fingerprint.
:class:`eval_hooks.checkpoint.callback.CheckpointEvalCallback` extends it with checkpoint evaluation and is the
class ``askrl/config/askrl.yaml`` names.

How it fails: a provenance file must never cost a checkpoint, so any error is logged and training goes on
(VERL propagates exceptions from ``on_save`` and would abort the run).

    trainer.checkpoint_callback_class: eval_hooks.checkpoint.provenance.ProvenanceCallback   # provenance only
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from askrl import _verl
from eval_hooks.run_config import code_versions

logger = logging.getLogger(__name__)

PROVENANCE_FILE = "askrl_provenance.json"


def provenance_record(config: Any, global_step: int) -> dict[str, Any]:
    """Everything recorded for one checkpoint of a run configured by ``config`` (the trainer's DictConfig)."""
    askrl = OmegaConf.to_container(config.askrl, resolve=True) if "askrl" in config else {}
    record: dict[str, Any] = {
        "global_step": global_step,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "project": config.trainer.get("project_name"),
        "experiment": config.trainer.get("experiment_name"),
        "model_path": str(config.actor_rollout_ref.model.path),
        "adv_estimator": str(config.algorithm.adv_estimator),
        **code_versions(),
        "task": askrl.get("task"),
        "mode": askrl.get("mode"),
    }
    if askrl.get("task") is not None:
        from askrl.judge.config import JudgeConfig
        from reward.config import RewardConfig, provenance

        reward_cfg = RewardConfig.model_validate(askrl.get("reward") or {})
        record.update(provenance(reward_cfg, JudgeConfig.model_validate(askrl.get("judge") or {})))
    return record


class ProvenanceCallback(_verl.CheckpointCallback):  # type: ignore[misc,name-defined]
    """Writes ``askrl_provenance.json`` into every ``global_step_N`` checkpoint directory."""

    def on_save(self, trainer: Any, global_step: int, checkpoint_dir: str, async_save: bool = False, **kwargs: Any) -> None:
        try:
            path = Path(checkpoint_dir) / PROVENANCE_FILE
            path.write_text(json.dumps(provenance_record(self.config, global_step), indent=2) + "\n")
            logger.info("checkpoint provenance written: %s", path)
        except Exception:  # never lose a checkpoint (or the run) over its provenance file
            logger.exception("could not write checkpoint provenance into %s", checkpoint_dir)
