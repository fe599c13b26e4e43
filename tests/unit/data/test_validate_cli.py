"""``python -m askrl.data validate``: exit codes, the one-line JSON report, error lines and no tracebacks.

Runs the real CLI in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOOD = {
    "id": "r1",
    "ori_question": "What is 2 + 3?",
    "expected_answer": "5",
    "degraded_question": "What is 2 + a number?",
    "degraded_info": "The second addend was removed.",
    "required_points": ["the second addend", "its unit"],
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "askrl.data", "validate", *args], capture_output=True, text=True)


def test_good_file_prints_one_json_line(tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "id": "r2"}) + "\n")
    proc = run_cli(str(path))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    report = json.loads(line)
    assert report["path"] == str(path)
    assert report["kind"] == "askmind"
    assert report["records"] == 2
    assert report["checklist_mean"] == 2.0


def test_bad_file_exits_2_with_located_messages_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({**GOOD, "required_points": []}) + "\n{broken\n")
    proc = run_cli(str(path), "--kind", "askmind")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"{path}:1: field 'required_points': must not be empty",
        f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes at column 2",
    ]
    assert "Traceback" not in proc.stderr


def test_many_bad_records_are_capped_at_20_then_counted(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps({**GOOD, "id": f"r{i}", "expected_answer": i}) + "\n" for i in range(25)))
    proc = run_cli(str(path), "--kind", "askmind")
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2
    assert len(lines) == 21
    assert lines[-1] == "... and 5 more problems"


def test_missing_path_and_wrong_kind(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
    path = tmp_path / "good.jsonl"
    path.write_text(json.dumps(GOOD) + "\n")
    proc = run_cli(str(path), "--kind", "gpqa")
    assert proc.returncode == 2 and f"{path}:1: field 'question': missing" in proc.stderr
