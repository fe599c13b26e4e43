"""``askrl.eval``: typed, refuses unknown keys and suites, picks the backend, derives evaluation steps from the step."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from askrl.config.settings import AskrlSettings
from askrl.errors import ConfigError
from askrl.train.compose import compose_config
from eval_hooks.checkpoint.config import EvalJudgeSettings, EvalSettings, judge_cli_args, suite_groups


def test_the_block_is_part_of_askrl_settings_and_refuses_typos() -> None:
    settings = AskrlSettings.model_validate({"eval": {"suites": ["askmind", {"name": "math500", "limit": 3}]}})
    assert [(s.name, s.limit) for s in settings.eval.suites] == [("askmind", None), ("math500", 3)]
    with pytest.raises(ValidationError, match="limt"):
        AskrlSettings.model_validate({"eval": {"suites": [{"name": "askmind", "limt": 2}]}})
    with pytest.raises((ConfigError, ValidationError), match="unknown suites \\['askmnd'\\]"):
        EvalSettings.model_validate({"suites": ["askmnd"]})
    with pytest.raises((ConfigError, ValidationError), match="each suite once"):
        EvalSettings.model_validate({"suites": ["askmind", "askmind"]})
    with pytest.raises((ConfigError, ValidationError), match="askrl.eval.gpus"):
        EvalSettings.model_validate({"suites": ["askmind"], "gpus": "0-3"})


def test_backend_defaults_to_serve_only_when_gpus_are_set_aside() -> None:
    assert EvalSettings().resolved_backend() == "rollout"
    assert EvalSettings(gpus="8,9").resolved_backend() == "serve"
    assert EvalSettings(backend="serve").resolved_backend() == "serve"
    with pytest.raises((ConfigError, ValidationError), match="backend=rollout"):
        EvalSettings(backend="rollout", gpus="8")


def test_every_kth_save_and_always_the_last_step() -> None:
    settings = EvalSettings.model_validate({"suites": ["askmind"], "every": 2})
    steps = [s for s in range(1, 101) if settings.is_eval_step(s, save_freq=20, total_steps=90)]
    assert steps == [40, 80, 90]
    assert not EvalSettings().is_eval_step(40, save_freq=20, total_steps=40)  # no suites: no evaluation
    assert not settings.is_eval_step(40, save_freq=-1, total_steps=40)  # no saves: nothing to evaluate


def test_judge_defaults_to_the_training_judge() -> None:
    training = {"backend": "llm", "client": {"endpoints": [
        {"name": "j0", "base_url": "http://h:1/v1", "model": "judge"},
        {"name": "j1", "base_url": "http://h:2/v1", "model": "judge"}]}}
    assert judge_cli_args(EvalJudgeSettings(), training) == ["--judge-url", "http://h:1/v1,http://h:2/v1",
                                                             "--judge-model", "judge"]
    own = EvalJudgeSettings(urls=["http://e:9/v1"], model="big")
    assert judge_cli_args(own, training) == ["--judge-url", "http://e:9/v1", "--judge-model", "big"]
    assert judge_cli_args(EvalJudgeSettings(backend="lexical"), training) == ["--judge", "lexical"]
    assert judge_cli_args(EvalJudgeSettings(), {"backend": "lexical"}) == ["--judge", "lexical"]
    # the call deadline: the eval judge's own, else the training judge's, else the evaluator's default
    training["client"]["call_timeout_s"] = 60
    assert judge_cli_args(EvalJudgeSettings(), training)[2:4] == ["--judge-timeout-s", "60.0"]
    assert judge_cli_args(EvalJudgeSettings(call_timeout_s=15), training)[2:4] == ["--judge-timeout-s", "15.0"]


def test_suites_with_different_limits_run_as_separate_invocations() -> None:
    settings = EvalSettings.model_validate({"suites": ["askmind", {"name": "math500", "limit": 5}, "calibration"]})
    assert suite_groups(settings.suites) == [(["askmind", "calibration"], None), (["math500"], 5)]


def test_recipes_evaluate_every_save_and_the_cpu_profile_replaces_their_suites() -> None:
    gpu = AskrlSettings.from_config(compose_config(["recipe=overconfidence_grpo", "askrl.data.source=demo"]))
    assert [s.name for s in gpu.eval.suites] == ["askmind", "overconfidence", "calibration", "math500", "medqa",
                                                 "gpqa", "bbh", "healthbench"]
    assert gpu.eval.every == 1 and gpu.eval.resolved_backend() == "rollout"
    cpu = AskrlSettings.from_config(compose_config(["recipe=askmind_grpo", "profile=cpu", "askrl.data.source=demo"]))
    assert [(s.name, s.limit) for s in cpu.eval.suites] == [("askmind", 2), ("calibration", 2)]
    assert cpu.eval.judge.backend == "lexical" and cpu.eval.before_train and not gpu.eval.before_train
    smoke = AskrlSettings.from_config(compose_config(["recipe=smoke", "profile=cpu"]))
    assert smoke.eval.suites == []
    assert compose_config(["recipe=smoke"]).trainer.checkpoint_callback_class.endswith("CheckpointEvalCallback")


def test_the_serve_backend_shards_vllm_over_every_gpu_set_aside(tmp_path) -> None:
    import argparse

    from askrl.serve.model import add_parser, vllm_model_command
    from eval_hooks.checkpoint.evaluate import EvalPlan, serve_command

    def plan(gpus: str | None) -> EvalPlan:
        settings = EvalSettings.model_validate({"suites": ["askmind"], "gpus": gpus})
        return EvalPlan.from_settings(settings, training_judge={"backend": "lexical"}, run_dir=tmp_path)

    cmd = serve_command(plan("8,9,10,11"), tmp_path / "merged", 8000)
    assert cmd[cmd.index("--tensor-parallel-size") + 1] == "4"
    assert serve_command(plan(None), tmp_path, 1)[-1] == "1"
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    vllm = vllm_model_command(parser.parse_args(cmd[cmd.index("model"):]))  # the flags the server itself parses
    assert vllm[vllm.index("--tensor-parallel-size") + 1] == "4" and vllm[vllm.index("--port") + 1] == "8000"
