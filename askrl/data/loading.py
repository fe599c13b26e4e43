"""Load and validate AskBench files (JSONL or parquet) into typed records, reporting every bad record.

Contract: ``load_records(path, kind=None)`` returns a ``LoadedFile`` (kind, records, per-record ids) or raises
``DataValidationError`` whose ``issues`` each name the file, the line (1-based; the row for parquet), the field
and the problem. Validation covers: invalid JSON, a line that is not an object, missing fields, wrong types,
blank strings, empty checklists, duplicate ids, and an empty file. The kind is inferred from the fields (and the
file's folder where fields alone are ambiguous) when not given.

    loaded = load_records("../shared/data/askbench/ask_bench/ask_mind/test.jsonl")
    loaded.kind, len(loaded.records)      # ("askmind", 400)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from askrl.data.records import KIND_MODELS, KINDS_WITH_ID
from askrl.errors import DataError

MAX_REPORTED = 20
RECORD_SUFFIXES = (".jsonl", ".parquet")


@dataclass(frozen=True)
class Issue:
    """One problem with one record."""

    file: str
    line: int
    field: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: field '{self.field}': {self.problem}" if self.field else f"{where}: {self.problem}"


class DataValidationError(DataError):
    """A file holds bad records; ``issues`` lists all of them, ``str()`` the first ``MAX_REPORTED``."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        shown = [str(i) for i in issues[:MAX_REPORTED]]
        if len(issues) > MAX_REPORTED:
            shown.append(f"... and {len(issues) - MAX_REPORTED} more problems")
        super().__init__("\n".join(shown))


@dataclass
class LoadedFile:
    path: Path
    kind: str
    records: list[Any]
    ids: list[str] = field(default_factory=list)  # a stable id per record: its own ``id``, else the line number


def iter_raw(path: Path) -> Iterator[tuple[int, Any, Issue | None]]:
    """Yield ``(line, object, issue)`` for each record of a JSONL or parquet file, without validating it."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for row, obj in enumerate(pq.read_table(path).to_pylist(), start=1):
            yield row, obj, None
        return
    blank: list[int] = []  # blank lines are an issue only when a record follows: a file may end in blank lines
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                blank.append(line_no)
                continue
            for number in blank:
                yield number, None, Issue(str(path), number, None, "blank line (JSONL needs one object per line)")
            blank = []
            yield line_no, *_parse_line(path, line_no, line)


def _parse_line(path: Path, line_no: int, line: str) -> tuple[Any, Issue | None]:
    """One JSONL line without its line ending: ``json.loads`` would call a truncated string's newline an
    "Invalid control character" instead of the "Unterminated string" it is."""
    try:
        return json.loads(line.rstrip("\r\n")), None
    except json.JSONDecodeError as err:
        problem = f"invalid JSON: {err.msg.removesuffix(' at')} at column {err.colno}"
        return None, Issue(str(path), line_no, None, problem)


def infer_kind(obj: dict[str, Any], path: Path) -> str | None:
    """Guess the record kind from one object's fields; the folder name breaks ties between plain QA files."""
    keys = set(obj)
    if "overconfidence_question" in keys:
        return "overconfidence"
    if {"task", "vague"} <= keys:
        return "in3"
    if {"prompt", "rubrics"} <= keys:
        return "healthbench"
    if {"question", "choice1"} <= keys:
        return "gpqa"
    if "degraded_question" in keys and "required_points" in keys:
        return "askmind"
    if "required_points" in keys and "degraded_info" in keys:
        return "questbench"
    if "degraded_question" in keys and "degraded_info" in keys:
        return "questbench_logi"
    if {"ori_question", "expected_answer"} <= keys:
        folders = {part.lower() for part in path.parts}
        for kind in ("math500", "medqa", "bbh"):
            if kind in folders:
                return kind
        if "category" in keys:
            return "bbh"
        if "solution" in keys:
            return "math500"
        answer = obj.get("expected_answer")
        if isinstance(answer, str) and answer.startswith("The answer is"):
            return "medqa"
    return None


def _issue_from_error(path: Path, line: int, err: dict[str, Any]) -> Issue:
    loc = ".".join(str(p) for p in err["loc"]) or None
    kind, msg, value = err["type"], err["msg"], err.get("input")
    if kind == "missing":
        problem = "missing"
    elif kind in ("too_short", "list_too_short") and isinstance(value, list | str):
        problem = "must not be empty"
    elif kind.endswith("_type"):
        problem = f"{msg[0].lower()}{msg[1:]}, got {type(value).__name__} {json.dumps(value, ensure_ascii=False)[:60]}"
    else:
        problem = msg.removeprefix("Value error, ")
    return Issue(str(path), line, loc, problem)


def load_records(path: str | Path, kind: str | None = None) -> LoadedFile:
    """Validate every record of ``path`` as ``kind`` (inferred when None) and return them all, or raise."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix not in RECORD_SUFFIXES:
        raise DataError(f"{path}: unsupported file type {path.suffix!r}; expected one of {RECORD_SUFFIXES}")
    if kind is not None and kind not in KIND_MODELS:
        raise DataError(f"unknown kind {kind!r}; known: {sorted(KIND_MODELS)}")

    issues: list[Issue] = []
    records: list[Any] = []
    ids: list[str] = []
    seen: dict[str, int] = {}
    count = 0
    for line, obj, issue in iter_raw(path):
        count += 1
        if issue is not None:
            issues.append(issue)
            continue
        if not isinstance(obj, dict):
            issues.append(Issue(str(path), line, None, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        if kind is None:
            kind = infer_kind(obj, path)
            if kind is None:
                raise DataError(
                    f"{path}:{line}: cannot infer the record kind from fields {sorted(obj)}; pass --kind "
                    f"(one of {sorted(KIND_MODELS)})"
                )
        try:
            record = KIND_MODELS[kind].model_validate(obj)
        except ValidationError as err:
            issues.extend(_issue_from_error(path, line, e) for e in err.errors())
            continue
        record_id = str(obj["id"]) if kind in KINDS_WITH_ID else str(line)
        if record_id in seen:
            issues.append(Issue(str(path), line, "id", f"duplicate id {record_id!r} (first on line {seen[record_id]})"))
            continue
        seen[record_id] = line
        records.append(record)
        ids.append(record_id)
    if count == 0:
        issues.append(Issue(str(path), 1, None, "empty file: no records"))
    if issues:
        raise DataValidationError(issues)
    assert kind is not None  # count > 0 and no issues means a kind was inferred
    return LoadedFile(path=path, kind=kind, records=records, ids=ids)


def record_files(root: Path) -> list[Path]:
    """Every JSONL/parquet file under ``root`` (or ``root`` itself), sorted, for directory-wide validation."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in RECORD_SUFFIXES)
