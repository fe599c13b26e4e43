"""``askrl.data.build.inputs``: the QA input read, mapped and validated before any LLM call (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from askrl.data.build.inputs import load_qa, parse_mapping, stable_id
from askrl.data.loading import DataValidationError
from askrl.errors import DataError


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_parse_mapping_aliases_and_errors() -> None:
    assert parse_mapping("question=problem, answer=final ,solution=worked,id=uid") == {
        "ori_question": "problem", "expected_answer": "final", "solution": "worked", "id": "uid",
    }  # fmt: skip
    assert parse_mapping(None) == {} and parse_mapping("") == {}
    for bad in ("question", "question=", "colour=x", "question=a,ori_question=b"):
        with pytest.raises(DataError):
            parse_mapping(bad)


def test_missing_id_is_the_hash_of_the_record(tmp_path: Path) -> None:
    row = {"ori_question": "What is 2 + 2?", "expected_answer": "4"}
    (item,) = load_qa(_write(tmp_path / "qa.jsonl", [row]))
    assert item.id == stable_id(row) == stable_id(dict(reversed(list(row.items()))))  # key order does not matter
    assert len(item.id) == 64 and item.line == 1 and item.solution is None
    assert stable_id({**row, "expected_answer": "5"}) != item.id


def test_integer_ids_become_strings_and_limit_takes_the_first(tmp_path: Path) -> None:
    rows = [{"id": i, "ori_question": f"q{i}", "expected_answer": "a"} for i in range(5)]
    items = load_qa(_write(tmp_path / "qa.jsonl", rows), limit=2)
    assert [i.id for i in items] == ["0", "1"]


def test_every_bad_record_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    rows = [
        {"problem": "ok", "expected_answer": "1"},
        {"problem": "   ", "expected_answer": "1"},
        {"problem": "fine", "expected_answer": 3},
        [1, 2],
        {"problem": "dup", "expected_answer": "1", "id": "x"},
        {"problem": "dup again", "expected_answer": "1", "id": "x"},
    ]
    _write(path, rows)
    with pytest.raises(DataValidationError) as err:
        load_qa(path, parse_mapping("question=problem"), limit=1)  # the limit does not skip validation
    assert [str(i) for i in err.value.issues] == [
        f"{path}:2: field 'problem (mapped to ori_question)': must not be blank",
        f"{path}:3: field 'expected_answer': input should be a valid string, got int 3",
        f"{path}:4: expected a JSON object, got list",
        f"{path}:6: field 'id': duplicate id 'x' (first on line 5)",
    ]


def test_empty_file_and_unknown_source(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataValidationError, match="empty file"):
        load_qa(empty)
    with pytest.raises(DataError, match="no such file"):
        load_qa(tmp_path / "missing.jsonl")


def test_parquet_input(tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame([{"q": "What is 1 + 1?", "a": "2", "solution": None}]).to_parquet(tmp_path / "qa.parquet")
    (item,) = load_qa(tmp_path / "qa.parquet", parse_mapping("question=q,answer=a"))
    assert (item.ori_question, item.expected_answer, item.solution) == ("What is 1 + 1?", "2", None)


def test_hf_source_reads_a_datasets_folder(tmp_path: Path) -> None:
    """``hf:NAME[:split]`` goes through ``datasets.load_dataset``; a local folder of JSONL needs no network."""
    folder = tmp_path / "ds"
    folder.mkdir()
    _write(folder / "train.jsonl", [{"problem": "What is 1 + 1?", "answer": "2"}, {"problem": " ", "answer": "3"}])
    with pytest.raises(DataValidationError) as err:
        load_qa(f"hf:{folder}:train", parse_mapping("question=problem,answer=answer"))
    assert [str(i) for i in err.value.issues] == [
        f"hf:{folder}:train:2: field 'problem (mapped to ori_question)': must not be blank"
    ]
    _write(folder / "train.jsonl", [{"problem": "What is 1 + 1?", "answer": "2"}])
    (item,) = load_qa(f"hf:{folder}", parse_mapping("question=problem,answer=answer"))  # default split: train
    assert (item.ori_question, item.expected_answer, item.line) == ("What is 1 + 1?", "2", 1)
