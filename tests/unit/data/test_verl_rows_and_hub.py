"""Records -> VERL rows (what the policy sees vs. what stays hidden), parquet round trip, hub source selection.

The hub itself is never reached: tests check that a local path wins and that an offline hub gives a clear error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from askrl.data.hub import download_from_hub, resolve_dataset, resolve_input
from askrl.data.records import AskMindRecord, Math500Record, OverconfidenceRecord
from askrl.data.verl_rows import record_to_row, records_to_rows
from askrl.errors import DataError, UnknownNameError

MIND = AskMindRecord(
    id="m1",
    ori_question="What is 2 + 3?",
    expected_answer="5",
    degraded_question="What is 2 + a number?",
    degraded_info="The second addend (3) was removed.",
    required_points=["the second addend"],
    source_task="ask_mind_math500de",
)
OVER = OverconfidenceRecord(
    id="o1",
    ori_question="Convert (0,3) to polar.",
    expected_answer="(3, pi/2)",
    overconfidence_question="(0,3) is on the x-axis so theta is 0, right?",
    overconfidence_info="it lies on the y-axis",
    misleading_points=["x-axis claim", "theta claim"],
)


def test_askmind_row_shows_degraded_question_and_hides_the_rest() -> None:
    row = record_to_row(MIND, 7)
    assert row["prompt"] == [{"role": "user", "content": MIND.degraded_question}]
    assert MIND.ori_question not in str(row["prompt"]) and MIND.degraded_info not in str(row["prompt"])
    assert row["data_source"] == "askrl/askmind"
    assert row["agent_name"] == "askrl_clarify"
    assert row["reward_model"] == {"style": "rubric", "ground_truth": "5"}
    extra = row["extra_info"]
    assert extra["index"] == 7 and extra["task"] == "askmind" and extra["id"] == "m1"
    assert extra["hidden_info"] == MIND.degraded_info
    assert extra["checklist"] == ["the second addend"]
    assert extra["ori_question"] == MIND.ori_question


def test_overconfidence_row_uses_misleading_points() -> None:
    row = record_to_row(OVER, 0, agent_name="custom")
    assert row["prompt"][0]["content"] == OVER.overconfidence_question
    assert row["extra_info"]["checklist"] == ["x-axis claim", "theta claim"]
    assert row["extra_info"]["hidden_info"] == "it lies on the y-axis"
    assert row["agent_name"] == "custom"


def test_mixed_rows_share_one_parquet_schema(tmp_path: Path) -> None:
    import pandas as pd

    rows = records_to_rows([MIND, OVER])
    path = tmp_path / "train.parquet"
    pd.DataFrame(rows).to_parquet(path)
    back = pd.read_parquet(path).to_dict("records")
    assert [r["extra_info"]["task"] for r in back] == ["askmind", "overconfidence"]
    assert list(back[1]["extra_info"]["checklist"]) == ["x-axis claim", "theta claim"]


def test_qa_records_are_not_rl_rows() -> None:
    with pytest.raises(DataError, match="only AskMind and AskOverconfidence"):
        record_to_row(Math500Record(ori_question="q", expected_answer="1"), 0)  # type: ignore[arg-type]


def test_local_data_dir_wins_and_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "common/math500").mkdir(parents=True)
    (tmp_path / "common/math500/test.jsonl").write_text("{}\n")
    assert resolve_dataset("math500", data_dir=tmp_path) == tmp_path / "common/math500/test.jsonl"
    with pytest.raises(DataError, match=r"common/medqa/test.jsonl: no such file"):
        resolve_dataset("medqa", data_dir=tmp_path)
    with pytest.raises(UnknownNameError, match="unknown dataset 'nope'"):
        resolve_dataset("nope", data_dir=tmp_path)


def test_env_data_dir_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "common/bbh").mkdir(parents=True)
    (tmp_path / "common/bbh/test.jsonl").write_text("{}\n")
    monkeypatch.setenv("ASKRL_DATA_DIR", str(tmp_path))
    assert resolve_input("bbh") == tmp_path / "common/bbh/test.jsonl"


def test_offline_hub_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(DataError, match="could not fetch ask_bench/ask_mind/test.jsonl from the hub dataset"):
        download_from_hub("ask_bench/ask_mind/test.jsonl")


def test_resolve_input_rejects_unknown_text(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a dataset name"):
        resolve_input(str(tmp_path / "missing.jsonl"))
