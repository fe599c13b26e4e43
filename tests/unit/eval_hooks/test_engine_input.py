"""Bad input stops a run before any request: located data errors, unknown suites, a judge without endpoints."""

from __future__ import annotations

import json

import pytest

from askrl.data.loading import DataValidationError
from askrl.errors import ConfigError, UnknownNameError
from eval_hooks.engine import EvalSpec, evaluate

UNREACHABLE = "http://127.0.0.1:9/v1"  # nothing listens: any request would fail differently


async def test_a_bad_record_is_reported_with_file_line_and_field(tmp_path, askbench_dir):
    folder = tmp_path / "ask_bench" / "ask_mind"
    folder.mkdir(parents=True)
    good = (askbench_dir / "ask_bench" / "ask_mind" / "test.jsonl").read_text().splitlines()[:2]
    (folder / "test.jsonl").write_text("\n".join([*good, json.dumps({"id": "x", "ori_question": 3})]) + "\n")
    spec = EvalSpec(suites=["askmind"], model_url=UNREACHABLE, judge="lexical", data_dir=tmp_path, out=tmp_path / "o")
    with pytest.raises(DataValidationError, match=r"test\.jsonl:3: field 'ori_question'"):
        await evaluate(spec)
    assert not (tmp_path / "o").exists()


async def test_unknown_suite_and_missing_judge(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown suite 'nope'"):
        await evaluate(EvalSpec(suites=["nope"], model_url=UNREACHABLE, judge="lexical", out=tmp_path))
    with pytest.raises(ConfigError, match="--judge-url"):
        EvalSpec(suites=["askmind"], model_url=UNREACHABLE, out=tmp_path)


def test_the_judge_call_deadline_reaches_the_judge_client(tmp_path):
    from eval_hooks.engine import build_judge
    from eval_hooks.run import parser, spec_from_args

    args = parser().parse_args(["--suite", "askmind", "--model-url", "http://127.0.0.1:9/v1", "--judge-url",
                                "http://127.0.0.1:8/v1", "--judge-timeout-s", "12.5", "--out", str(tmp_path)])
    judge = build_judge(spec_from_args(args))
    assert judge.client_cfg.call_timeout_s == 12.5
