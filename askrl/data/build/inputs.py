"""Read the QA set a build starts from, map its fields, and validate every record before any LLM call.

Who uses it: ``askrl/data/build/runner.py``. Input records need ``ori_question`` and ``expected_answer`` (strings),
optionally ``solution`` and ``id``; ``--map question=problem,answer=solution`` names the source fields of another
layout (targets ``question``/``ori_question``, ``answer``/``expected_answer``, ``solution``, ``id``). A record
without an id gets a stable one: the sha256 of its sorted-key JSON (as the original pipeline, spec §5.1), so the
same record keeps its id across runs and resumes. Sources: a JSONL/parquet path, an AskBench set name
(``math500``, resolved like ``askrl.data``), or ``hf:NAME[:split]`` (a Hugging Face dataset, default split
``train``; needs network or the ``datasets`` cache).

How it fails: ``DataValidationError`` listing every bad record as ``FILE:LINE: field 'X': problem`` (the source
field's name, with the target it maps to), exactly like ``askrl.data validate``: invalid JSON, a missing or
blank field, a number where a string belongs, duplicate ids, an empty file. ``DataError`` for a bad ``--map``.

    items = load_qa("examples/qa_demo.jsonl")
    items = load_qa("gsm8k.jsonl", parse_mapping("question=question,answer=answer"), limit=100)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askrl.data.hub import resolve_input
from askrl.data.loading import DataValidationError, Issue, iter_raw
from askrl.errors import DataError

TARGETS = ("ori_question", "expected_answer", "solution", "id")
ALIASES = {"question": "ori_question", "answer": "expected_answer"}
REQUIRED = ("ori_question", "expected_answer")


@dataclass(frozen=True)
class QAItem:
    """One validated input record; ``line`` locates it in the input for messages."""

    id: str
    ori_question: str
    expected_answer: str
    solution: str | None
    line: int


def parse_mapping(text: str | None) -> dict[str, str]:
    """``"question=problem,answer=solution"`` -> ``{"ori_question": "problem", "expected_answer": "solution"}``.

    Raises:
        DataError: an entry without ``=``, an unknown target, or a target named twice.
    """
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        target, sep, source = (s.strip() for s in part.partition("="))
        if not sep or not target or not source:
            raise DataError(f"--map entry {part!r}: expected TARGET=SOURCE_FIELD, e.g. question=problem")
        target = ALIASES.get(target, target)
        if target not in TARGETS:
            raise DataError(f"--map entry {part!r}: unknown target {target!r}; known: question, answer, solution, id")
        if target in mapping:
            raise DataError(f"--map names {target!r} twice")
        mapping[target] = source
    return mapping


def stable_id(obj: dict[str, Any]) -> str:
    """sha256 of the record's sorted-key JSON: the same record always gets the same id."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _raw_records(source: str) -> tuple[str, Iterator[tuple[int, Any, Issue | None]]]:
    """``(label, (line, object, issue) ...)`` for a path, an AskBench set name, or ``hf:NAME[:split]``."""
    if source.startswith("hf:"):
        name, _, split = source.removeprefix("hf:").partition(":")
        try:
            import datasets

            rows = datasets.load_dataset(name, split=split or "train")
        except Exception as err:  # noqa: BLE001  (datasets raises many unrelated types; the message says which)
            raise DataError(f"{source}: could not load the Hugging Face dataset ({type(err).__name__}: {err})") from err
        return source, ((i, dict(row), None) for i, row in enumerate(rows, start=1))
    path = resolve_input(source)
    if not path.is_file() or path.suffix not in (".jsonl", ".parquet"):
        raise DataError(f"{path}: expected a .jsonl or .parquet file of QA records")
    return str(path), iter_raw(path)


def _string(obj: dict[str, Any], target: str, source: str, label: str, line: int, issues: list[Issue]) -> str | None:
    where = source if source == target else f"{source} (mapped to {target})"
    if source not in obj or obj[source] is None:
        if target in REQUIRED:
            issues.append(Issue(label, line, where, "missing"))
        return None
    value = obj[source]
    if target == "id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False, default=str)[:60]
        issues.append(Issue(label, line, where, f"input should be a valid string, got {type(value).__name__} {shown}"))
        return None
    if not value.strip():
        issues.append(Issue(label, line, where, "must not be blank"))
        return None
    return value


def load_qa(source: str | Path, mapping: dict[str, str] | None = None, limit: int | None = None) -> list[QAItem]:
    """Every record of ``source`` validated (all of them, even with ``limit``), then the first ``limit``.

    Raises:
        DataValidationError: one ``Issue`` per bad record (see the module docstring).
        DataError: the source cannot be found or read.
    """
    fields = {target: (mapping or {}).get(target, target) for target in TARGETS}
    label, raw = _raw_records(str(source))
    issues: list[Issue] = []
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    count = 0
    for line, obj, issue in raw:
        count += 1
        if issue is not None:
            issues.append(issue)
            continue
        if not isinstance(obj, dict):
            issues.append(Issue(label, line, None, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        before = len(issues)
        values = {t: _string(obj, t, fields[t], label, line, issues) for t in TARGETS}
        if len(issues) > before:
            continue
        item_id = values["id"] or stable_id(obj)
        if item_id in seen:
            issues.append(Issue(label, line, fields["id"], f"duplicate id {item_id!r} (first on line {seen[item_id]})"))
            continue
        seen[item_id] = line
        assert values["ori_question"] is not None and values["expected_answer"] is not None  # checked above
        items.append(QAItem(item_id, values["ori_question"], values["expected_answer"], values["solution"], line))
    if count == 0:
        issues.append(Issue(label, 1, None, "empty file: no records"))
    if issues:
        raise DataValidationError(issues)
    return items[:limit] if limit is not None else items
