"""Stage 4, check: everything that can be known wrong before Ray starts, each problem as one line.

- VERL's own checks, as ``verl.trainer.main_ppo.main`` runs them (``auto_set_device``, ``validate_config``), then
  every interpolation is resolved here (askrl's resolvers exist only in this process);
- the trainer mode (:mod:`askrl.trainer.modes`: ``separate_async`` only where its rollout pool and GPU checkpoint
  engine exist);
- the reward a task run trains on: one line naming the reward table, judge and combined fingerprint (the same
  fingerprint every checkpoint records);
- askrl's preflight (:mod:`askrl.train.preflight`: data, model, judge endpoints, GPU count), unless
  ``askrl.preflight=false``.

VERL prints its validation notes to stdout; they go to stderr so a dry run's stdout stays the YAML alone.

    checked = check(prepare(resolve(compose(["recipe=smoke", "profile=cpu"]))))
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from askrl.config.settings import AskrlSettings
from askrl.errors import AskrlError
from askrl.train.console import notice
from askrl.train.prepare import Prepared
from askrl.trainer.modes import check_trainer_mode


@dataclass(frozen=True)
class Checked:
    """A config that passed every check, with every interpolation resolved: ready to launch."""

    cfg: DictConfig
    settings: AskrlSettings
    run_dir: Path


def check(prepared: Prepared) -> Checked:
    """Stage 4: VERL's validation, the reward announcement, askrl's preflight."""
    cfg, settings = prepared.cfg, prepared.settings
    try:
        with contextlib.redirect_stdout(sys.stderr):
            validate(cfg)
    except OmegaConfBaseException as err:
        cause = _askrl_cause(err)
        if cause is None:
            raise
        raise cause from err
    check_trainer_mode(cfg)
    announce_reward(settings)
    if settings.task is not None:  # no masked placeholder trains, no table that teaches the wrong thing launches
        from reward.guards_config import check_trainer_reward

        check_trainer_reward(cfg, settings.reward)
    if settings.preflight:
        from askrl.train.preflight import run_preflight

        run_preflight(cfg, settings)
    return Checked(cfg=cfg, settings=settings, run_dir=prepared.run_dir)


def validate(cfg: DictConfig) -> None:
    """VERL's own checks (as ``verl.trainer.main_ppo.main``), then resolve every interpolation here."""
    from askrl import _verl

    _verl.auto_set_device(cfg)
    _verl.validate_config(
        config=cfg,
        use_reference_policy=_verl.need_reference_policy(cfg),
        use_critic=_verl.need_critic(cfg),
    )
    OmegaConf.resolve(cfg)


def _askrl_cause(err: BaseException) -> AskrlError | None:
    """The AskrlError behind ``err``, if any (OmegaConf re-raises resolver errors as its own type)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, AskrlError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def announce_reward(settings: AskrlSettings) -> None:
    """One line naming the reward table, judge and combined fingerprint of a task run (also in every checkpoint)."""
    if settings.task is None:
        return
    from askrl.judge.config import JudgeConfig
    from reward.config import RewardConfig, provenance

    p = provenance(RewardConfig.model_validate(settings.reward), JudgeConfig.model_validate(settings.judge))
    notice(f"reward {p['reward_table']} (hash {p['reward_table_hash']}), judge {p['judge_backend']} "
           f"(prompts {p['judge_prompt_version']}), on judge failure: {p['on_judge_failure']}, "
           f"overlong: {p['reward_overlong']}; fingerprint {p['reward_fingerprint']}")
