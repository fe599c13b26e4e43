"""Each stage of ``askrl.train`` on its own: bad input stops at the stage that owns it, as one ConfigError line.

compose: an unknown recipe, an override of a key that does not exist (named with the closest valid keys), an
unknown profile. resolve: a task recipe without its data source. prepare: a data source that does not exist.
The stages run in-process up to resolve (no side effects); prepare and the CLI run in subprocesses because
they set this process's platform env.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from askrl.errors import ConfigError
from askrl.train.compose import Composed, closest_keys, compose
from askrl.train.resolve import Resolved, resolve


def _one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(err.value)
    assert "\n" not in text, text
    return text


def test_compose_stops_an_unknown_recipe_listing_the_recipes() -> None:
    with pytest.raises(ConfigError) as err:
        compose(["recipe=smok", "profile=cpu"])
    text = _one_line(err)
    assert "unknown recipe 'smok'" in text and "'smoke'" in text and "askmind_grpo" in text


def test_compose_names_a_mistyped_key_and_the_closest_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        compose(["recipe=smoke", "profile=cpu", "trainer.total_training_step=3"])
    text = _one_line(err)
    assert "'trainer.total_training_step'" in text
    assert text.index("trainer.total_training_steps") < text.index("critic.optim.total_training_steps")


def test_compose_finds_a_key_put_under_the_wrong_section() -> None:
    with pytest.raises(ConfigError) as err:
        compose(["recipe=smoke", "profile=cpu", "trainer.train_batch_size=3"])
    assert "closest valid keys: data.train_batch_size" in _one_line(err)


def test_compose_lists_the_profiles_for_an_unknown_one() -> None:
    with pytest.raises(ConfigError) as err:
        compose(["recipe=smoke", "profile=gpu"])
    assert _one_line(err) == "profile=gpu: no such profile; available: cpu, cpu_vllm"


def test_closest_keys_ranks_whole_paths_then_leaf_names() -> None:
    known = ["data.train_batch_size", "trainer.total_training_steps", "trainer.total_epochs", "trainer.logger"]
    assert closest_keys("trainer.total_training_step", known)[0] == "trainer.total_training_steps"
    assert closest_keys("trainer.train_batch_size", known)[0] == "data.train_batch_size"
    assert closest_keys("zzz.qqq", known) == []


def test_a_good_command_line_composes_and_resolves_with_typed_settings() -> None:
    composed = compose(["recipe=askmind_grpo", "profile=cpu", "trainer.total_training_steps=3"])
    assert isinstance(composed, Composed) and "profile=cpu" in composed.overrides
    resolved = resolve(composed)
    assert isinstance(resolved, Resolved)
    assert resolved.settings.task == "askmind" and resolved.settings.judge == {"backend": "lexical"}
    assert resolved.settings.data.source == "demo" and resolved.run_dir.is_absolute()
    assert resolved.cfg.trainer.default_local_dir == str(resolved.run_dir)
    assert resolved.cfg.trainer.total_training_steps == 3


def test_resolve_stops_a_task_recipe_without_a_data_source() -> None:
    composed = compose(["recipe=askmind_grpo", "askrl.auto_cpu=false"])  # composes fine: the source is ???
    with pytest.raises(ConfigError) as err:
        resolve(composed)
    assert _one_line(err).startswith("askrl.data.source is required: pass askrl.data.source=PATH")


def _train(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASKRL_HOME": str(home)}
    env.pop("VERL_PLATFORM", None)
    return subprocess.run([sys.executable, "-m", "askrl.train", *args], env=env, capture_output=True, text=True,
                          timeout=240)


def test_prepare_stops_a_missing_data_file_before_validation(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from askrl.train.compose import compose\nfrom askrl.train.resolve import resolve\n"
        "from askrl.train.prepare import prepare\nfrom askrl.errors import AskrlError\n"
        "resolved = resolve(compose(['recipe=askmind_grpo', 'profile=cpu', 'askrl.data.source=%s']))\n"
        "print('resolved')\n"
        "try:\n    prepare(resolved)\nexcept AskrlError as err:\n    print('prepare:', type(err).__name__, err)\n"
    ) % (tmp_path / "missing.jsonl")
    env = {**os.environ, "ASKRL_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=240)
    lines = proc.stdout.splitlines()
    assert lines[0] == "resolved", proc.stderr[-2000:]
    assert lines[1].startswith("prepare: DataError") and f"{tmp_path / 'missing.jsonl'}: no such file" in lines[1]


def test_cli_prints_one_line_and_exits_2_for_a_bad_override(tmp_path: Path) -> None:
    proc = _train(["recipe=smoke", "profile=cpu", "trainer.total_training_step=3"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "askrl.train: unknown config key 'trainer.total_training_step' in override 'trainer.total_training_step=3'; "
        "closest valid keys: trainer.total_training_steps, askrl.cpu.total_training_steps, "
        "critic.optim.total_training_steps (prefix with + to add a new key)"
    ]


def test_prepare_points_offline_cpu_evaluation_at_held_out_demo_records(tmp_path: Path, monkeypatch) -> None:
    from askrl.data.demo import demo_records
    from askrl.data.loading import load_records
    from askrl.train.prepare import wire_demo_eval_data

    monkeypatch.setenv("ASKRL_HOME", str(tmp_path))
    monkeypatch.delenv("ASKRL_DATA_DIR", raising=False)
    resolved = resolve(compose(["recipe=askmind_grpo", "profile=cpu"]))
    assert [s.name for s in resolved.settings.eval.suites] == ["askmind", "calibration"]
    assert wire_demo_eval_data(resolved.cfg, resolved.settings)
    root = Path(resolved.cfg.askrl.eval.data_dir)
    assert root.is_relative_to(tmp_path)
    eval_ids = {r.id for r in load_records(root / "ask_bench/ask_mind/test.jsonl").records}
    train_ids = {r.id for r in demo_records("askmind", 64, seed=0)}  # what the CPU profile trains on
    assert len(eval_ids) == 32 and not eval_ids & train_ids
    over = load_records(root / "ask_bench/ask_overconfidence/test.jsonl").records
    assert len(over) == 64  # the demo's own 32, then the AskMind items' false-premise twins
    assert {r.ori_question for r in over[32:]} == {r.ori_question for r in load_records(
        root / "ask_bench/ask_mind/test.jsonl").records}

    monkeypatch.setenv("ASKRL_DATA_DIR", "/data/askbench")  # the user's own copy wins
    assert not wire_demo_eval_data(*_fresh_cpu_eval([]))
    monkeypatch.delenv("ASKRL_DATA_DIR")
    assert not wire_demo_eval_data(*_fresh_cpu_eval(["askrl.eval.data_dir=/data/askbench"]))
    assert not wire_demo_eval_data(*_fresh_cpu_eval(["askrl.eval.suites=[askmind,math500]"]))  # no demo QA data


def _fresh_cpu_eval(overrides: list[str]):
    resolved = resolve(compose(["recipe=askmind_grpo", "profile=cpu", *overrides]))
    return resolved.cfg, resolved.settings
