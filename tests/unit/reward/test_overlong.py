"""DAPO's overlong penalty on policy tokens (reward.overlong) and its ``askrl.reward.overlong`` settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from askrl.errors import ConfigError
from askrl.judge.config import JudgeConfig
from reward.config import OverlongConfig, RewardConfig, provenance
from reward.overlong import check_fits, overlong_penalty, policy_token_count

ON = OverlongConfig(enable=True, buffer_tokens=256, penalty_factor=1.0)


@pytest.mark.parametrize(
    ("tokens", "cfg", "masked", "expected"),
    [
        (0, ON, False, 0.0),
        (500, ON, False, 0.0),  # below the buffer (expected_len = 1024 - 256 = 768)
        (768, ON, False, 0.0),  # exactly at its start
        (769, ON, False, -1 / 256),  # one token into it
        (896, ON, False, -0.5),  # half way
        (1024, ON, False, -1.0),  # the full budget: -penalty_factor
        (1024, ON.model_copy(update={"penalty_factor": 0.5}), False, -0.5),
        (1024, ON.model_copy(update={"penalty_factor": 0.0}), False, 0.0),
        (1024, ON.model_copy(update={"buffer_tokens": 1024}), False, -1.0),  # the whole budget is the buffer
        (512, ON.model_copy(update={"buffer_tokens": 1024}), False, -0.5),
        (1024, OverlongConfig(), False, 0.0),  # disabled (the default)
        (1024, ON, True, 0.0),  # masked: never penalised
    ],
)
def test_penalty_table(tokens: int, cfg: OverlongConfig, masked: bool, expected: float) -> None:
    assert overlong_penalty(tokens, max_len=1024, cfg=cfg, masked=masked) == pytest.approx(expected)


def test_only_policy_tokens_count() -> None:
    policy, user = [1] * 800, [0] * 200  # 800 policy tokens, a 200-token simulated-user reply in between
    mask = policy[:400] + user + policy[400:]
    assert policy_token_count(mask) == 800
    penalty = overlong_penalty(policy_token_count(mask), max_len=1024, cfg=ON)
    assert penalty == pytest.approx(-32 / 256)
    assert overlong_penalty(len(mask), max_len=1024, cfg=ON) < penalty  # what counting every token would give


def test_a_buffer_beyond_the_budget_is_refused_only_when_enabled() -> None:
    with pytest.raises(ConfigError, match="buffer_tokens=2048 exceeds .*response_length=1024"):
        overlong_penalty(10, max_len=1024, cfg=ON.model_copy(update={"buffer_tokens": 2048}))
    with pytest.raises(ConfigError, match="at least 1 token"):
        check_fits(ON, 0)
    check_fits(OverlongConfig(buffer_tokens=2048), 1024)  # disabled: nothing to check
    check_fits(ON, 256)


@pytest.mark.parametrize(
    "block",
    [{"buffer_tokens": 0}, {"penalty_factor": -0.1}, {"len": 10}, {"buffer_tokens": "many"}],
)
def test_config_is_validated(block: dict) -> None:
    with pytest.raises(ValidationError):
        RewardConfig.model_validate({"overlong": {"enable": True, **block}})


def test_defaults_and_yaml_shape() -> None:
    cfg = RewardConfig.model_validate({"overlong": {"enable": True}})
    assert (cfg.overlong.enable, cfg.overlong.buffer_tokens, cfg.overlong.penalty_factor) == (True, 1024, 1.0)
    assert RewardConfig().overlong.enable is False


def test_an_enabled_penalty_changes_the_fingerprint_a_disabled_one_does_not() -> None:
    judge = JudgeConfig()
    base = provenance(RewardConfig(), judge)
    off = provenance(RewardConfig(overlong={"buffer_tokens": 64}), judge)
    on = provenance(RewardConfig(overlong={"enable": True}), judge)
    other = provenance(RewardConfig(overlong={"enable": True, "penalty_factor": 0.5}), judge)
    assert off["reward_fingerprint"] == base["reward_fingerprint"] and base["reward_overlong"] == "off"
    assert len({base["reward_fingerprint"], on["reward_fingerprint"], other["reward_fingerprint"]}) == 3
    assert on["reward_overlong"] == "buffer_tokens=1024,penalty_factor=1.0"
