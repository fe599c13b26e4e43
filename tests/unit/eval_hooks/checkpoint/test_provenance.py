"""The checkpoint callback: VERL builds it from the composed config and it records what produced a checkpoint.

VERL's real ``build_checkpoint_callback`` instantiates the class named in ``trainer.checkpoint_callback_class``.
"""

from __future__ import annotations

import json
from pathlib import Path

from askrl import _verl
from askrl.train.compose import compose_config
from eval_hooks.checkpoint.provenance import PROVENANCE_FILE, ProvenanceCallback


def test_verl_builds_the_callback_and_it_records_the_reward_fingerprint(tmp_path: Path) -> None:
    cfg = compose_config(["recipe=askmind_dapo", "askrl.data.source=demo"])
    callback = _verl.build_checkpoint_callback(cfg)
    assert isinstance(callback, ProvenanceCallback)
    step_dir = tmp_path / "global_step_20"
    step_dir.mkdir()
    callback.on_save(trainer=None, global_step=20, checkpoint_dir=str(step_dir))
    record = json.loads((step_dir / PROVENANCE_FILE).read_text())
    assert record["global_step"] == 20 and record["experiment"] == "askmind_dapo" and record["task"] == "askmind"
    assert record["verl_version"] == "0.9.1" and record["adv_estimator"] == "askrl_turn_grpo"
    assert record["reward_table"] == "paper_v1" and record["judge_backend"] == "llm"
    assert record["reward_overlong"] == "buffer_tokens=1024,penalty_factor=1.0"
    other = compose_config(["recipe=askmind_grpo", "askrl.data.source=demo"])
    ProvenanceCallback(other).on_save(trainer=None, global_step=1, checkpoint_dir=str(tmp_path))
    # the DAPO run's overlong penalty changes the reward, so the fingerprints differ
    assert json.loads((tmp_path / PROVENANCE_FILE).read_text())["reward_fingerprint"] != record["reward_fingerprint"]


def test_a_failing_write_never_aborts_training(tmp_path: Path, caplog) -> None:
    cfg = compose_config(["recipe=smoke"])
    ProvenanceCallback(cfg).on_save(trainer=None, global_step=3, checkpoint_dir=str(tmp_path / "missing" / "dir"))
    assert "could not write checkpoint provenance" in caplog.text
