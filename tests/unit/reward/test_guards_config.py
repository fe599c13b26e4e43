"""Pre-launch refusals (issue 10 item 3/4): a masked placeholder can never reach the loss or a group baseline, and a
custom table that violates an audit ordering is refused unless overridden. No fakes: real configs, real audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from askrl.errors import ConfigError
from askrl.judge.config import EndpointConfig, JudgeClientConfig, JudgeConfig
from reward.config import RewardConfig, provenance
from reward.guards_config import (
    MASK_AWARE_SAMPLER,
    RewardRouting,
    check_table_incentives,
    check_trainer_reward,
    refuse_placeholder_training,
)
from reward.table import load_table

SAMPLER = {"path": MASK_AWARE_SAMPLER[0], "name": MASK_AWARE_SAMPLER[1]}


def trainer_cfg(estimator: str = "askrl_turn_grpo", *, path: str | None = None, dapo: bool = False, sampler=None):  # noqa: ANN001, ANN201
    return OmegaConf.create(
        {
            "algorithm": {"adv_estimator": estimator, "filter_groups": {"enable": dapo, "metric": "reward"}},
            "reward": {"custom_reward_function": {"path": path}},
            "trainer": {"v1": {"sampler": {"custom_sampler": sampler or {"path": None, "name": None}}}},
        }
    )


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (trainer_cfg("grpo"), "algorithm.adv_estimator=grpo counts a judge-failed trajectory's placeholder"),
        (trainer_cfg("gae"), "set algorithm.adv_estimator to askrl_traj_grpo or askrl_turn_grpo"),
        (
            trainer_cfg(path="pkg://reward.verl_fn"),
            "reward.custom_reward_function.path=pkg://reward.verl_fn scores rows in VERL's single_turn_agent",
        ),
        (trainer_cfg(dapo=True), "algorithm.filter_groups.enable=true with VERL's own group filter"),
        (
            trainer_cfg(dapo=True, sampler={"path": "pkg://mine", "name": "x"}),
            "custom_sampler.path=pkg://askrl.rollout.group_filter",
        ),
    ],
)
def test_each_placeholder_route_is_refused_under_mask(cfg, message: str) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError, match=message) as info:
        check_trainer_reward(cfg, {"on_judge_failure": "mask"})
    assert "\n" not in str(info.value)  # one line
    # penalize keeps a real reward on the failed turn: nothing to refuse
    check_trainer_reward(cfg, {"on_judge_failure": "penalize"})


@pytest.mark.parametrize(
    "cfg",
    [trainer_cfg(), trainer_cfg("askrl_traj_grpo"), trainer_cfg(dapo=True, sampler=SAMPLER), trainer_cfg(path=None)],
)
def test_the_recipes_routes_pass(cfg) -> None:  # noqa: ANN001
    check_trainer_reward(cfg, {})


def test_the_shipped_dapo_recipe_names_the_mask_aware_sampler() -> None:
    recipe = OmegaConf.load(Path(__file__).parents[3] / "recipes" / "askmind_dapo.yaml")
    routing = RewardRouting.from_trainer_config(recipe)
    assert routing.filter_groups and routing.custom_sampler == MASK_AWARE_SAMPLER
    refuse_placeholder_training(
        RewardRouting("askrl_turn_grpo", None, routing.filter_groups, routing.custom_sampler), RewardConfig()
    )


def _table(tmp_path: Path, **nonfinal: float) -> str:
    data = load_table("paper_v1").model_dump(exclude={"hash"})
    data["nonfinal"] = {**data["nonfinal"], **nonfinal}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({**data, "name": "custom"}), encoding="utf-8")
    return str(path)


def test_a_custom_table_that_violates_an_ordering_is_refused_unless_overridden(tmp_path: Path) -> None:
    bad = _table(tmp_path, some_hit=1.0)  # some == all: piecemeal no longer loses
    with pytest.raises(ConfigError, match=r"violates \d+ incentive ordering\(s\), first: .*asking everything at once"):
        check_table_incentives(RewardConfig(table=bad))
    check_table_incentives(RewardConfig(table=bad, allow_audit_violations=True))
    with pytest.raises(ConfigError, match="allow_audit_violations=true"):
        check_trainer_reward(trainer_cfg(), {"table": bad})


def test_a_custom_table_that_keeps_every_ordering_passes(tmp_path: Path) -> None:
    check_table_incentives(RewardConfig(table=_table(tmp_path, premature_answer=-1.5)))


def test_the_fingerprint_changes_with_the_prompt_version() -> None:
    client = JudgeClientConfig(endpoints=[EndpointConfig(name="j", base_url="http://127.0.0.1:1/v1", model="m")])
    v1 = provenance(RewardConfig(), JudgeConfig(backend="llm", client=client, prompt_version="v1"))
    v2 = provenance(RewardConfig(), JudgeConfig(backend="llm", client=client))  # the default set: v3
    assert v2["judge_prompt_version"] == "v3" and v1["judge_prompt_version"] == "v1"
    assert v1["reward_fingerprint"] != v2["reward_fingerprint"]
    assert v1["reward_table_hash"] == v2["reward_table_hash"]
