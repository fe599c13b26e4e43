"""The per-suite store: last record per sample wins, torn tails are cut, other runs are refused unless fresh."""

from __future__ import annotations

import json

import pytest

from askrl.errors import EvalError
from eval_hooks.results import SuiteStore

FP = {"model": {"name": "m", "root": None}, "judge": {"backend": "lexical"}, "data": {"test.jsonl": "abc"}}


def test_resume_keeps_ok_records_and_reruns_failures(tmp_path):
    store = SuiteStore(tmp_path / "s", FP, fresh=False)
    store.append({"sample_id": "a", "status": "ok"})
    store.append({"sample_id": "b", "status": "judge_failed"})
    store.close()
    store = SuiteStore(tmp_path / "s", FP, fresh=False)
    assert store.finished_ids() == {"a"}
    store.append({"sample_id": "b", "status": "ok"})
    store.close()
    assert SuiteStore(tmp_path / "s", FP, fresh=False).finished_ids() == {"a", "b"}


def test_a_torn_last_line_is_cut_before_appending(tmp_path):
    store = SuiteStore(tmp_path / "s", FP, fresh=False)
    store.append({"sample_id": "a", "status": "ok"})
    store.close()
    with (tmp_path / "s" / "results.jsonl").open("a") as handle:
        handle.write('{"sample_id": "b", "sta')  # killed mid-write
    store = SuiteStore(tmp_path / "s", FP, fresh=False)
    store.append({"sample_id": "c", "status": "ok"})
    store.close()
    lines = (tmp_path / "s" / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["sample_id"] for line in lines] == ["a", "c"]


def test_a_different_run_is_refused_unless_fresh(tmp_path):
    SuiteStore(tmp_path / "s", FP, fresh=False).append({"sample_id": "a", "status": "ok"})
    other = {**FP, "judge": {"backend": "llm", "models": ["x"]}}
    with pytest.raises(EvalError, match=r"judge\.backend.*--fresh"):
        SuiteStore(tmp_path / "s", other, fresh=False)
    store = SuiteStore(tmp_path / "s", other, fresh=True)
    assert store.finished_ids() == set()
