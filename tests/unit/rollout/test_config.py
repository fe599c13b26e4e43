"""The clarify loop's settings: defaults, strict mode, parsing the ``askrl`` block of a trainer config, errors.

Nothing is faked; configs are plain OmegaConf objects.
"""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from askrl.errors import ConfigError
from askrl.rollout import AGENT_NAME, OFFLINE_AGENT_NAME, agent_loop_config_path
from askrl.rollout.config import (
    FORCE_FINAL_TEXT,
    ClarifyRolloutConfig,
    settings_from_block,
    settings_from_trainer_config,
)


def test_defaults_without_an_askrl_block():
    settings = settings_from_trainer_config(OmegaConf.create({"actor_rollout_ref": {}}))
    assert settings.rollout.turn_limit == 3 and not settings.rollout.strict
    assert settings.rollout.force_final_text == FORCE_FINAL_TEXT
    assert settings.judge.backend == "lexical"
    assert settings.reward.table == "paper_v1" and settings.reward.on_judge_failure == "mask"


def test_strict_mode_means_two_turns():
    assert ClarifyRolloutConfig(strict=True).turn_limit == 2
    assert ClarifyRolloutConfig(strict=True, max_turns=2).turn_limit == 2
    with pytest.raises(ConfigError, match="askrl.rollout.max_turns=3"):
        ClarifyRolloutConfig(strict=True, max_turns=3)
    assert ClarifyRolloutConfig(max_turns=5).turn_limit == 5


def test_block_is_read_from_the_trainer_config_once_and_other_sections_are_ignored():
    cfg = OmegaConf.create(
        {
            "askrl": {
                "rollout": {"max_turns": 4, "user_reply_max_tokens": 64, "max_tokens_per_turn": 128},
                "judge": {"backend": "lexical", "lexical": {"hit_threshold": 0.6}},
                "reward": {"on_judge_failure": "penalize"},
                "data": {"anything": "another component's"},
            }
        }
    )
    settings = settings_from_trainer_config(cfg)
    assert settings.rollout.turn_limit == 4 and settings.rollout.max_tokens_per_turn == 128
    assert settings.judge.lexical.hit_threshold == 0.6
    assert settings.reward.on_judge_failure == "penalize"
    assert settings_from_trainer_config(cfg) is settings  # cached per config object


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"rollout": {"max_turns": 0}}, "askrl.rollout.max_turns"),
        ({"rollout": {"max_turn": 3}}, "askrl.rollout.max_turn"),
        ({"rollout": 3}, "askrl.rollout must be a mapping"),
        ({"reward": {"on_judge_failure": "ignore"}}, "askrl.reward.on_judge_failure"),
    ],
)
def test_bad_values_name_the_full_key(block, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_block(block)


def test_the_agent_loop_yaml_ships_with_the_package():
    entries = OmegaConf.load(agent_loop_config_path())
    assert [(e.name, e._target_) for e in entries] == [
        (AGENT_NAME, "askrl.rollout.clarify_loop.ClarifyAgentLoop"),
        (OFFLINE_AGENT_NAME, "askrl.rollout.offline_turn_loop.OfflineTurnAgentLoop"),
    ]
