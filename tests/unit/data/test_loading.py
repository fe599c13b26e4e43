"""Record validation: each class of bad input gives its own FILE:LINE: field message; kinds are inferred.

Fakes nothing: real files written to tmp_path, the real loader and pydantic models.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from askrl.data.loading import MAX_REPORTED, DataValidationError, infer_kind, load_records
from askrl.data.records import AskMindRecord, OverconfidenceRecord
from askrl.errors import DataError

GOOD_ASKMIND = {
    "id": "r1",
    "ori_question": "What is 2 + 3?",
    "expected_answer": "5",
    "degraded_question": "What is 2 + a number?",
    "degraded_info": "The second addend (3) was removed.",
    "required_points": ["the value of the second addend"],
}
GOOD_OVERCONF = {
    "id": "o1",
    "ori_question": "Convert (0,3) to polar.",
    "expected_answer": "(3, pi/2)",
    "overconfidence_question": "Since (0,3) lies on the x-axis, theta is 0, right?",
    "overconfidence_info": "wrong: lies on x-axis -> it lies on the y-axis",
    "misleading_points": ["claims (0,3) is on the x-axis"],
}


def write_jsonl(path: Path, rows: list[object | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems(path: Path, kind: str | None = "askmind") -> list[str]:
    with pytest.raises(DataValidationError) as info:
        load_records(path, kind)
    return [str(i) for i in info.value.issues]


def test_good_file_loads_typed_records(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD_ASKMIND, {**GOOD_ASKMIND, "id": "r2"}])
    loaded = load_records(path)
    assert loaded.kind == "askmind"
    assert [type(r) for r in loaded.records] == [AskMindRecord, AskMindRecord]
    assert loaded.ids == ["r1", "r2"]
    assert loaded.records[0].required_points == ["the value of the second addend"]


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD_ASKMIND, '{"id": "x", oops}'])
    assert problems(path) == [f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes at column 13"]


def test_truncated_line_reports_the_unterminated_string(tmp_path: Path) -> None:
    """A line cut mid-string (a kill while writing): json's own message for it, not the newline's."""
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD_ASKMIND, '{"id": "x", "ori_question": "What is 2'])
    assert problems(path) == [f"{path}:2: invalid JSON: Unterminated string starting at column 29"]


def test_trailing_blank_lines_are_accepted_but_not_blank_lines_between_records(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(GOOD_ASKMIND) + "\n\n  \n", encoding="utf-8")
    assert load_records(path).ids == ["r1"]
    path.write_text(json.dumps(GOOD_ASKMIND) + "\n\n" + json.dumps({**GOOD_ASKMIND, "id": "r2"}) + "\n\n",
                    encoding="utf-8")
    assert problems(path) == [f"{path}:2: blank line (JSONL needs one object per line)"]


def test_missing_field(tmp_path: Path) -> None:
    row = {k: v for k, v in GOOD_ASKMIND.items() if k != "degraded_info"}
    path = write_jsonl(tmp_path / "a.jsonl", [row])
    assert problems(path) == [f"{path}:1: field 'degraded_info': missing"]


def test_wrong_type_is_not_coerced(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{**GOOD_ASKMIND, "expected_answer": 5}])
    (msg,) = problems(path)
    assert msg.startswith(f"{path}:1: field 'expected_answer': ")
    assert "string" in msg and "int 5" in msg


def test_wrong_type_inside_checklist_names_the_item(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{**GOOD_ASKMIND, "required_points": ["ok", 3]}])
    (msg,) = problems(path)
    assert msg.startswith(f"{path}:1: field 'required_points.1': ")


def test_empty_checklist(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{**GOOD_ASKMIND, "required_points": []}])
    assert problems(path) == [f"{path}:1: field 'required_points': must not be empty"]


def test_blank_question(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{**GOOD_ASKMIND, "degraded_question": "   "}])
    assert problems(path) == [f"{path}:1: field 'degraded_question': must not be blank"]


def test_duplicate_id_points_to_first_occurrence(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD_ASKMIND, {**GOOD_ASKMIND, "id": "r2"}, GOOD_ASKMIND])
    assert problems(path) == [f"{path}:3: field 'id': duplicate id 'r1' (first on line 1)"]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert problems(path) == [f"{path}:1: empty file: no records"]


def test_non_object_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD_ASKMIND, "[1, 2]"])
    assert problems(path) == [f"{path}:2: expected a JSON object, got list"]


def test_report_is_capped_but_issues_are_complete(tmp_path: Path) -> None:
    rows = [{**GOOD_ASKMIND, "id": f"r{i}", "required_points": []} for i in range(MAX_REPORTED + 5)]
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataValidationError) as info:
        load_records(path, "askmind")
    assert len(info.value.issues) == MAX_REPORTED + 5
    lines = str(info.value).splitlines()
    assert len(lines) == MAX_REPORTED + 1
    assert lines[-1] == "... and 5 more problems"


def test_overconfidence_accepts_required_points_alias(tmp_path: Path) -> None:
    row = {k: v for k, v in GOOD_OVERCONF.items() if k != "misleading_points"} | {"required_points": ["p1", "p2"]}
    loaded = load_records(write_jsonl(tmp_path / "o.jsonl", [row]))
    assert loaded.kind == "overconfidence"
    assert isinstance(loaded.records[0], OverconfidenceRecord)
    assert loaded.records[0].misleading_points == ["p1", "p2"]


def test_parquet_rows_are_validated_by_row_number(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist([GOOD_ASKMIND, {**GOOD_ASKMIND, "id": "r2", "required_points": []}]), path)
    assert problems(path) == [f"{path}:2: field 'required_points': must not be empty"]


def test_unknown_kind_and_uninferable_kind(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"foo": 1}])
    with pytest.raises(DataError, match="unknown kind 'nope'"):
        load_records(path, "nope")
    with pytest.raises(DataError, match="cannot infer the record kind"):
        load_records(path)


@pytest.mark.parametrize(
    ("obj", "folder", "kind"),
    [
        (GOOD_ASKMIND, "x", "askmind"),
        (GOOD_OVERCONF, "x", "overconfidence"),
        ({"question": "q", "choice1": "a"}, "x", "gpqa"),
        ({"prompt": [], "rubrics": []}, "x", "healthbench"),
        ({"ori_question": "q", "expected_answer": "The answer is A."}, "x", "medqa"),
        ({"ori_question": "q", "expected_answer": "A", "category": "c"}, "x", "bbh"),
        ({"ori_question": "q", "expected_answer": "12", "solution": "s"}, "x", "math500"),
        ({"ori_question": "q", "expected_answer": "12"}, "math500", "math500"),
        ({"ori_question": "q", "expected_answer": "1", "required_points": ["n"], "degraded_info": "n=1"}, "x", "questbench"),
        ({"task": "t", "vague": True}, "x", "in3"),
        ({"ori_question": "q", "expected_answer": "12"}, "x", None),
    ],
)
def test_infer_kind(obj: dict, folder: str, kind: str | None) -> None:
    assert infer_kind(obj, Path(folder) / "test.jsonl") == kind
