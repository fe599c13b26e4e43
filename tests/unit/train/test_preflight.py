"""Preflight checks one by one: each failure gives its one-line message with the fix; good input passes.

Real files (parquet written by askrl.data.prepare, the tiny model directory); no Ray, no network.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from askrl.data.records import AskMindRecord
from askrl.data.verl_rows import records_to_rows
from askrl.train.preflight import PreflightError, check_data, check_gpus, check_model

RECORD = AskMindRecord(
    id="m1",
    ori_question="What is 2 + 3?",
    expected_answer="5",
    degraded_question="What is 2 + a number?",
    degraded_info="The second addend (3) was removed.",
    required_points=["the second addend"],
)


def write_rows(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_parquet(path)
    return path


def test_good_rows_pass(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "train.parquet", records_to_rows([RECORD]))
    assert check_data("data.train_files", [str(path)], mode="online") == []


def test_missing_file_and_empty_key(tmp_path: Path) -> None:
    (line,) = check_data("data.train_files", str(tmp_path / "nope.parquet"), mode="online")
    assert line.startswith(f"data.train_files: {tmp_path / 'nope.parquet'} does not exist")
    assert check_data("data.val_files", [], mode=None)[0].startswith("data.val_files is empty")


def test_rows_missing_hidden_fields_are_located(tmp_path: Path) -> None:
    rows = records_to_rows([RECORD, RECORD])
    del rows[1]["extra_info"]["checklist"]
    rows[1]["extra_info"]["checklist"] = []
    rows[0]["extra_info"]["hidden_info"] = " "
    path = write_rows(tmp_path / "train.parquet", rows)
    problems = check_data("data.train_files", [str(path)], mode="online")
    assert problems == [
        f"data.train_files: {path}:1: field 'extra_info.hidden_info': missing or blank",
        f"data.train_files: {path}:2: field 'extra_info.checklist': must be a non-empty list of non-blank strings",
    ]


def test_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    path.write_text("not parquet")
    (line,) = check_data("data.train_files", [str(path)], mode="online")
    assert "not a readable parquet file" in line


def test_model_checks(tiny_model: Path, tmp_path: Path) -> None:
    assert check_model("actor_rollout_ref.model.path", str(tiny_model)) == []
    (line,) = check_model("actor_rollout_ref.model.path", str(tmp_path / "missing"))
    assert line == f"actor_rollout_ref.model.path: {tmp_path / 'missing'} does not exist"
    no_weights = tmp_path / "no_weights"
    shutil.copytree(tiny_model, no_weights)
    (no_weights / "model.safetensors").unlink()
    assert check_model("m", str(no_weights)) == [f"m: {no_weights} has no weights (*.safetensors or *.bin)"]
    no_template = tmp_path / "no_template"
    shutil.copytree(tiny_model, no_template)
    (no_template / "chat_template.jinja").unlink()
    assert check_model("m", str(no_template)) == [
        f"m: the tokenizer of {no_template} has no chat template; use an instruct model or add one"
    ]


def test_gpu_count() -> None:
    assert check_gpus(8, 1, "cuda", available=8) == []
    (line,) = check_gpus(8, 1, "cuda", available=2)
    assert line.startswith("trainer.n_gpus_per_node=8 but this machine has 2 GPU(s)")
    assert check_gpus(8, 1, "cpu", available=0) == []
    assert check_gpus(8, 2, "cuda", available=0) == []  # multi-node: each node checks its own


def test_a_driver_joining_a_cluster_declares_no_resources() -> None:
    from askrl.train.preflight import check_ray_init

    assert check_ray_init({"address": "local", "num_cpus": 32, "num_gpus": 1}) == []  # starts its own cluster
    assert check_ray_init({"address": None, "num_gpus": 8}) == []
    assert check_ray_init({"address": "10.0.0.1:6379", "num_cpus": None, "num_gpus": None}) == []
    (line,) = check_ray_init({"address": "10.0.0.1:6379", "num_cpus": 32, "num_gpus": None})
    assert line == ("ray_kwargs.ray_init.address=10.0.0.1:6379 joins a running Ray cluster, whose resources each node "
                    "declares (ray start --num-cpus/--num-gpus): set ray_kwargs.ray_init.num_cpus=null")
    assert check_ray_init({"address": "auto", "num_gpus": 8})[0].endswith("set ray_kwargs.ray_init.num_gpus=null")


def test_error_lists_every_problem() -> None:
    err = PreflightError(["a: fix a", "b: fix b"])
    assert str(err) == "preflight failed:\n  - a: fix a\n  - b: fix b"


def test_overlong_buffer_must_fit_the_response_budget() -> None:
    from askrl.train.preflight import check_overlong

    assert check_overlong({"overlong": {"enable": True, "buffer_tokens": 1024}}, 8192) == []
    assert check_overlong({"overlong": {"enable": False, "buffer_tokens": 1024}}, 384) == []
    (line,) = check_overlong({"overlong": {"enable": True, "buffer_tokens": 1024}}, 384)
    assert line.startswith("askrl.reward.overlong.buffer_tokens=1024 exceeds actor_rollout_ref.rollout.")


def _eval_config(overrides: list[str]):
    from askrl.train.compose import compose
    from askrl.train.resolve import resolve

    resolved = resolve(compose(["recipe=askmind_grpo", "profile=cpu", *overrides]))
    return resolved.cfg, resolved.settings


def test_checkpoint_evaluation_problems_are_found_before_ray(tmp_path: Path, askbench_dir: Path, monkeypatch) -> None:
    from askrl.train.preflight import check_eval

    monkeypatch.delenv("ASKRL_DATA_DIR", raising=False)
    assert check_eval(*_eval_config([f"askrl.eval.data_dir={askbench_dir}"])) == []
    assert check_eval(*_eval_config(["askrl.eval.suites=[]", "askrl.eval.judge.urls=[http://127.0.0.1:9/v1]",
                                     "askrl.eval.judge.backend=llm"])) == []  # no suites: nothing is evaluated
    missing = check_eval(*_eval_config([f"askrl.eval.data_dir={tmp_path}"]))
    assert [line.split(": ")[1] for line in missing] == ["askmind", "calibration"]  # the CPU profile's suites
    assert all(line.startswith("askrl.eval.suites: ") and str(tmp_path) in line for line in missing)
    dead = check_eval(*_eval_config([f"askrl.eval.data_dir={askbench_dir}", "askrl.eval.judge.backend=llm",
                                     "askrl.eval.judge.urls=[http://127.0.0.1:9/v1]", "askrl.eval.judge.model=big"]))
    assert len(dead) == 1 and dead[0].startswith("judge endpoint http://127.0.0.1:9/v1: no answer")
    assert "askrl.eval.judge.urls" in dead[0]
    gpus = [f"askrl.eval.data_dir={askbench_dir}", "askrl.eval.gpus=[8,9]"]  # the CPU profile sets num_gpus: 1
    assert "+ray_kwargs.ray_init.num_gpus=N" in check_eval(*_eval_config([*gpus, "ray_kwargs.ray_init.num_gpus=null"]))[0]
    assert "overlaps Ray's GPUs 0..8" in check_eval(*_eval_config([*gpus, "ray_kwargs.ray_init.num_gpus=9"]))[0]
    assert check_eval(*_eval_config([*gpus, "ray_kwargs.ray_init.num_gpus=8"])) == []
    joined = ["ray_kwargs.ray_init.address=10.0.0.1:6379", "ray_kwargs.ray_init.num_gpus=null"]
    assert check_eval(*_eval_config([*gpus, *joined])) == []  # the node's `ray start --num-gpus` sets them aside
    separate = [f"askrl.eval.data_dir={askbench_dir}", "askrl.eval.backend=rollout",
                "trainer.v1.trainer_mode=separate_async"]
    assert "use askrl.eval.backend=serve" in check_eval(*_eval_config(separate))[0]


def _prompt_tokens(tiny_model: Path, row: dict) -> int:
    """Counted independently of ``prompt_lengths``: the chat template tokenized in one call."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    return len(tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True,
                                             return_dict=False))


def test_a_limit_that_drops_every_clear_row_is_found(tiny_model: Path, tmp_path: Path, caplog) -> None:
    """The learning benchmark's trap: clear twins a few tokens longer than their items, all over the limit."""
    from askrl.data.learning_task import learning_records, training_rows
    from askrl.train.preflight import check_prompt_lengths

    rows = training_rows(learning_records(4, seed=0))
    path = write_rows(tmp_path / "train.parquet", rows)
    under = max(_prompt_tokens(tiny_model, r) for r in rows if not r["extra_info"].get("clear"))
    longest = max(_prompt_tokens(tiny_model, r) for r in rows)
    assert longest > under  # the clear twins add the fact
    check = lambda limit: check_prompt_lengths("data.train_files", [str(path)], model_path=str(tiny_model),  # noqa: E731
                                                max_prompt_length=limit)
    (line,) = check(under)
    assert f"{path}: 4 of 8 prompts are longer than data.max_prompt_length={under}" in line
    assert line.endswith(f"every clear row (extra_info.clear); raise data.max_prompt_length to {longest}")
    assert check(longest) == []  # exactly at the limit: VERL keeps it
    (line,) = check(1)
    assert "8 of 8 prompts" in line and "every row;" in line
    # one long underspecified row over the limit, the others under it: training goes on, with a warning
    long_row = {**rows[0], "prompt": [{"role": "user", "content": rows[0]["prompt"][0]["content"] * 3}]}
    write_rows(path, [*rows, long_row])
    with caplog.at_level("WARNING"):
        assert check(longest) == []
    assert f"{path}: 1 of 9 prompts are longer than data.max_prompt_length={longest}" in caplog.text


def test_run_preflight_checks_the_composed_configs_prompt_limit(tiny_model: Path, tmp_path: Path,
                                                                monkeypatch) -> None:
    """The check as ``askrl.train`` runs it, on the composed CPU config (every key read from VERL's ``data``)."""
    from askrl.data.learning_task import learning_records, training_rows
    from askrl.train.preflight import run_preflight

    monkeypatch.delenv("ASKRL_DATA_DIR", raising=False)
    path = write_rows(tmp_path / "train.parquet", training_rows(learning_records(4, seed=0)))
    base = [f"data.train_files={path}", f"data.val_files={path}", "askrl.data.source=null",
            f"actor_rollout_ref.model.path={tiny_model}"]
    run_preflight(*_eval_config([*base, "askrl.cpu.max_prompt_length=512"]))
    try:
        run_preflight(*_eval_config([*base, "askrl.cpu.max_prompt_length=8"]))
    except PreflightError as err:
        (line,) = err.problems
        assert "data.max_prompt_length=8 tokens" in line and "every row; raise data.max_prompt_length to " in line
    else:
        raise AssertionError("a limit that drops every row passed the preflight")
    run_preflight(*_eval_config([*base, "askrl.cpu.max_prompt_length=8", "data.filter_overlong_prompts=false"]))


def test_a_checkpoint_callback_that_does_not_import_is_named_before_ray() -> None:
    from askrl.train.preflight import check_checkpoint_callback

    assert check_checkpoint_callback("eval_hooks.checkpoint.callback.CheckpointEvalCallback") == []
    assert check_checkpoint_callback(None) == []
    (moved,) = check_checkpoint_callback("eval_hooks.checkpoint_callback.CheckpointEvalCallback")
    assert moved.endswith("use eval_hooks.checkpoint.callback.CheckpointEvalCallback")
    (missing,) = check_checkpoint_callback("eval_hooks.checkpoint.callback.NoSuchCallback")
    assert "has no 'NoSuchCallback'" in missing
    (unimportable,) = check_checkpoint_callback("no_such_package.Callback")
    assert unimportable.startswith("trainer.checkpoint_callback_class=no_such_package.Callback: cannot import")
