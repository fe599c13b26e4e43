"""``python -m askrl.data prepare``: online and offline parquet that VERL's real RLHFDataset reads.

Real shared data in, real parquet out, read back through VERL's RLHFDataset with the tiny model's tokenizer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from askrl.data.loading import load_records
from askrl.data.offline_turns import record_to_turn_rows
from askrl.data.prepare import prepare_parquet
from askrl.errors import DataError

ASKMIND = "ask_bench/ask_mind/test.jsonl"
OVERCONF = "ask_bench/ask_overconfidence/test.jsonl"


def test_online_split_is_seeded_and_complete(askbench_dir: Path, tmp_path: Path) -> None:
    a = prepare_parquet("askmind", askbench_dir / ASKMIND, tmp_path / "a", val_frac=0.1, seed=3)
    b = prepare_parquet("askmind", askbench_dir / ASKMIND, tmp_path / "b", val_frac=0.1, seed=3)
    total = len(load_records(askbench_dir / ASKMIND).records)
    assert (a.train_rows, a.val_rows) == (total - round(total * 0.1), round(total * 0.1)) and a.val_rows > 0
    ids_a = [r["id"] for r in pd.read_parquet(a.train)["extra_info"]]
    ids_b = [r["id"] for r in pd.read_parquet(b.train)["extra_info"]]
    assert ids_a == ids_b
    val_ids = {r["id"] for r in pd.read_parquet(a.val)["extra_info"]}
    assert not val_ids & set(ids_a) and len(val_ids | set(ids_a)) == total


def test_online_rows_load_in_verl_rlhf_dataset(askbench_dir: Path, tmp_path: Path, tiny_model: Path) -> None:
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer

    from askrl import _verl

    result = prepare_parquet("overconfidence", askbench_dir / OVERCONF, tmp_path / "o")
    config = OmegaConf.create(
        {"prompt_key": "prompt", "max_prompt_length": 4096, "filter_overlong_prompts": False,
         "return_raw_chat": True, "cache_dir": str(tmp_path / "cache")}
    )
    dataset = _verl.RLHFDataset(str(result.train), AutoTokenizer.from_pretrained(tiny_model), config)
    assert len(dataset) == len(load_records(askbench_dir / OVERCONF).records)
    item = dataset[0]
    assert item["agent_name"] == "askrl_clarify"
    assert item["data_source"] == "askrl/overconfidence"
    assert item["raw_prompt"][0]["role"] == "user"
    assert item["extra_info"]["task"] == "overconfidence"
    assert item["extra_info"]["checklist"] in [list(r.misleading_points) for r in load_records(askbench_dir / OVERCONF).records]


def test_offline_turn_rows_follow_the_original_fields(askbench_dir: Path) -> None:
    record = load_records(askbench_dir / ASKMIND).records[0]
    (row,) = record_to_turn_rows(record)
    extra = row["extra_info"]
    assert row["data_source"] == "ask_mind_qa"
    assert extra["is_final_turn"] is False
    assert extra["context"] == "No previous conversation."
    assert extra["question"] == record.degraded_question
    assert extra["required_points"] == record.required_points
    assert extra["degraded_info"] == record.degraded_info


def test_offline_rows_cut_a_dialogue_per_assistant_turn(askbench_dir: Path) -> None:
    record = load_records(askbench_dir / ASKMIND).records[0]
    history = [
        {"role": "user", "content": record.degraded_question},
        {"role": "assistant", "content": "How old is the child?"},
        {"role": "user", "content": "Three years old."},
        {"role": "assistant", "content": "Final Answer: B"},
    ]
    with_history = type(record).model_validate({**record.model_dump(), "conversation_history": history})
    rows = record_to_turn_rows(with_history)
    assert [r["extra_info"]["is_final_turn"] for r in rows] == [False, True]
    assert rows[1]["prompt"] == history[:3]
    assert rows[1]["extra_info"]["question"] == "Three years old."
    assert rows[1]["extra_info"]["context"].startswith("user: ")
    assert "assistant: How old is the child?" in rows[1]["extra_info"]["context"]


def test_cli_prepare_and_bad_input(askbench_dir: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "askrl.data", "prepare", "--task", "overconfidence", "--out", str(tmp_path / "x")]
    ok = subprocess.run([*cmd, "--input", str(askbench_dir / OVERCONF), "--mode", "offline"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["train_rows"] == len(load_records(askbench_dir / OVERCONF).records)
    bad = subprocess.run([*cmd, "--input", str(askbench_dir / ASKMIND)], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"{askbench_dir / ASKMIND}:1: field 'overconfidence_question': missing" in bad.stderr


def test_val_frac_must_leave_both_splits(askbench_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="val-frac"):
        prepare_parquet("askmind", askbench_dir / ASKMIND, tmp_path / "v", val_frac=1.5)
