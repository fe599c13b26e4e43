"""Pre-launch refusals: no masked placeholder ever trains, and no reward table that teaches the wrong thing launches.

Why: with ``on_judge_failure: mask`` a judge failure leaves a 0.0 placeholder score that only askrl's loops and
estimators know to drop (``reward.masking``). A configuration that routes it elsewhere would train on it silently;
a custom table can look fine turn by turn and still reward asking piecemeal (``reward.audit``). Both are cheap to
detect from the config, before Ray starts.

Who calls it: the check stage of ``python -m askrl.train`` (``askrl.train.check``), with the composed trainer
config (``RewardRouting.from_trainer_config``) and the typed ``askrl.reward`` block.

Contract (``on_judge_failure: mask`` only; ``penalize`` and ``raise`` put no placeholder anywhere):
- ``algorithm.adv_estimator`` must be ``askrl_traj_grpo``, ``askrl_turn_grpo`` (or the negative control
  ``askrl_shuffled_control``): VERL's stock estimators count
  the placeholder in the group mean/std (an all-zero ``response_mask`` row is only special to askrl's);
- ``reward.custom_reward_function.path`` must not be ``reward.verl_fn``: rows scored by VERL's reward loop run
  VERL's ``single_turn_agent``, whose ``as_dict`` ignores the masking flag, so the placeholder reaches the loss
  (askrl's loops score their own turns and never call it; offline rows run ``askrl_offline_turn``);
- ``algorithm.filter_groups.enable`` (DAPO's dynamic sampling) needs askrl's mask-aware sampler
  (``askrl.rollout.group_filter``, ``trainer.v1.sampler.custom_sampler``): VERL's own filter counts a masked
  trajectory's placeholder as one of the group's values.
- ``check_table_incentives``: a table other than ``paper_v1`` must pass ``reward.audit`` (every ordering under both
  estimators and tasks) unless ``askrl.reward.allow_audit_violations=true`` (ablations).

How it fails: ``ConfigError`` with one line that says what to change.

    check_trainer_reward(cfg, settings.reward)   # in askrl.train.check, for task runs
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from askrl.errors import ConfigError
from reward.config import RewardConfig

#: The estimators that leave masked trajectories out of the group statistics (``reward.advantages``).
MASK_AWARE_ESTIMATORS = ("askrl_traj_grpo", "askrl_turn_grpo", "askrl_shuffled_control")
#: ``trainer.v1.sampler.custom_sampler`` of askrl's mask-aware DAPO group filter.
MASK_AWARE_SAMPLER = ("pkg://askrl.rollout.group_filter", "mask_aware_replay_buffer")
DEFAULT_TABLE = "paper_v1"


@dataclass(frozen=True)
class RewardRouting:
    """Where a run's rewards go: the parts of VERL's trainer config that decide whether a placeholder trains."""

    adv_estimator: str
    reward_fn_path: str | None
    filter_groups: bool
    custom_sampler: tuple[str, str] | None

    @classmethod
    def from_trainer_config(cls, cfg: Mapping[str, Any]) -> RewardRouting:
        """Read the composed trainer config (a ``DictConfig`` or a plain mapping)."""

        def get(path: str) -> Any:
            node: Any = cfg
            for key in path.split("."):
                if node is None or not hasattr(node, "get"):
                    return None
                node = node.get(key)
            return node

        sampler = get("trainer.v1.sampler.custom_sampler")
        custom = (str(sampler.get("path")), str(sampler.get("name"))) if sampler and sampler.get("path") else None
        return cls(
            adv_estimator=str(get("algorithm.adv_estimator") or "gae"),
            reward_fn_path=get("reward.custom_reward_function.path"),
            filter_groups=bool(get("algorithm.filter_groups.enable")),
            custom_sampler=custom,
        )


def refuse_placeholder_training(routing: RewardRouting, reward: RewardConfig) -> None:
    """Raise ``ConfigError`` when a masked trajectory's placeholder could reach the loss or a group baseline."""
    if reward.on_judge_failure != "mask":
        return
    if routing.adv_estimator not in MASK_AWARE_ESTIMATORS:
        raise ConfigError(
            f"algorithm.adv_estimator={routing.adv_estimator} counts a judge-failed trajectory's placeholder 0.0 in "
            f"its group baseline under askrl.reward.on_judge_failure=mask: set algorithm.adv_estimator to "
            f"{' or '.join(MASK_AWARE_ESTIMATORS)}, or askrl.reward.on_judge_failure=penalize"
        )
    if routing.reward_fn_path and "reward.verl_fn" in routing.reward_fn_path:
        raise ConfigError(
            f"reward.custom_reward_function.path={routing.reward_fn_path} scores rows in VERL's single_turn_agent, "
            "which trains on a judge-failed row's placeholder 0.0 under askrl.reward.on_judge_failure=mask: use "
            "askrl.mode=offline (askrl_offline_turn rows score their own turn) and reward.custom_reward_function."
            "path=null, or askrl.reward.on_judge_failure=penalize"
        )
    if routing.filter_groups and routing.custom_sampler != MASK_AWARE_SAMPLER:
        path, name = MASK_AWARE_SAMPLER
        raise ConfigError(
            "algorithm.filter_groups.enable=true with VERL's own group filter counts a judge-failed trajectory's "
            "placeholder 0.0 as one of its group's rewards under askrl.reward.on_judge_failure=mask: set "
            f"trainer.v1.sampler.custom_sampler.path={path} and .name={name} (as the DAPO recipes do), or "
            "askrl.reward.on_judge_failure=penalize"
        )


def check_table_incentives(reward: RewardConfig) -> None:
    """Refuse a non-default table that violates an ordering of ``reward.audit`` (unless overridden)."""
    if reward.table == DEFAULT_TABLE or reward.allow_audit_violations:
        return
    from reward.audit import check_table  # imports torch and the estimators: only when a custom table is used

    violations = check_table(reward)
    if violations:
        raise ConfigError(
            f"reward table {reward.table} violates {len(violations)} incentive ordering(s), first: {violations[0]}; "
            f"see python -m reward.audit --table {reward.table}, or set askrl.reward.allow_audit_violations=true "
            "for an ablation"
        )


def check_reward_config(routing: RewardRouting, reward: RewardConfig) -> None:
    """Both checks, in order: placeholders first (cheap), then the table's incentives."""
    refuse_placeholder_training(routing, reward)
    check_table_incentives(reward)


def check_trainer_reward(cfg: Mapping[str, Any], reward_block: Mapping[str, Any]) -> None:
    """``check_reward_config`` from the composed trainer config and the raw ``askrl.reward`` block (the check
    stage's one call)."""
    check_reward_config(RewardRouting.from_trainer_config(cfg), RewardConfig.model_validate(dict(reward_block)))
