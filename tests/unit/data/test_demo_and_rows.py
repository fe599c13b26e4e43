"""Generated demo records pass the same validation as AskBench files; prepared parquet validates as VERL rows.

Real generator, real loader and CLI; nothing faked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from askrl.data.demo import demo_records
from askrl.data.loading import load_records
from askrl.data.prepare import DEMO_RECORDS, prepare_parquet


def test_demo_records_round_trip_through_validation(tmp_path: Path) -> None:
    for task in ("askmind", "overconfidence"):
        records = demo_records(task, 12, seed=4)
        path = tmp_path / f"{task}.jsonl"
        path.write_text("".join(json.dumps(r.model_dump(exclude_none=True)) + "\n" for r in records))
        loaded = load_records(path)
        assert loaded.kind == task
        assert len(set(loaded.ids)) == 12
    assert demo_records("askmind", 5, seed=1) == demo_records("askmind", 5, seed=1)
    assert demo_records("askmind", 5, seed=1) != demo_records("askmind", 5, seed=2)


def test_demo_askmind_hides_what_the_checklist_asks_for() -> None:
    for record in demo_records("askmind", 8):
        assert record.degraded_question != record.ori_question
        answer_line = record.ori_question.splitlines()[0]
        assert answer_line in record.degraded_info  # the hidden info lets the simulated user answer
        assert record.expected_answer.isdigit()


def test_demo_source_prepares_parquet_and_cli_checks_rows(tmp_path: Path) -> None:
    result = prepare_parquet("askmind", "demo", tmp_path / "d", val_frac=0.25)
    assert result.records == DEMO_RECORDS and result.val_rows == DEMO_RECORDS // 4
    proc = subprocess.run([sys.executable, "-m", "askrl.data", "validate", str(tmp_path / "d")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    kinds = {json.loads(line)["kind"] for line in proc.stdout.splitlines()}
    assert kinds == {"verl_rows_online"}
    rows = pd.read_parquet(result.train).to_dict("records")
    rows[0]["extra_info"] = {**rows[0]["extra_info"], "checklist": []}
    pd.DataFrame(rows).to_parquet(tmp_path / "bad.parquet")
    bad = subprocess.run([sys.executable, "-m", "askrl.data", "validate", str(tmp_path / "bad.parquet")], capture_output=True, text=True)
    assert bad.returncode == 2
    assert f"{tmp_path / 'bad.parquet'}:1: field 'extra_info.checklist': must be a non-empty list" in bad.stderr


def test_offline_parquet_names_the_offline_loop_and_validates_as_offline_rows(tmp_path: Path) -> None:
    from askrl.data.offline_turns import record_to_turn_rows
    from askrl.data.row_checks import check_rows, detect_mode
    from askrl.rollout import OFFLINE_AGENT_NAME

    assert {r["agent_name"] for r in record_to_turn_rows(demo_records("overconfidence", 1)[0])} == {OFFLINE_AGENT_NAME}
    result = prepare_parquet("askmind", "demo", tmp_path / "o", mode="offline")
    assert set(pd.read_parquet(result.train)["agent_name"]) == {OFFLINE_AGENT_NAME}
    assert detect_mode(result.train) == "offline"
    assert check_rows(result.train, "offline") == result.train_rows
    online = prepare_parquet("askmind", "demo", tmp_path / "n")
    assert detect_mode(online.train) == "online"
    no_name = pd.read_parquet(result.train).drop(columns=["agent_name"])
    no_name.to_parquet(tmp_path / "third_party.parquet")
    assert detect_mode(tmp_path / "third_party.parquet") == "offline"
    proc = subprocess.run([sys.executable, "-m", "askrl.data", "validate", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert {json.loads(line)["kind"] for line in proc.stdout.splitlines()} == {"verl_rows_offline"}
