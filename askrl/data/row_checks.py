"""Check VERL parquet rows for askrl's tasks before training: every field the agent loop and reward read.

``prepare`` writes these rows, but users also bring their own parquet; a missing ``extra_info.checklist`` would
otherwise surface as a KeyError inside a Ray worker minutes into a GPU job. Each problem names the file, the row
(1-based) and the field, like the record validator.

Modes: ``online`` rows (``askrl.data.verl_rows``) start a clarify episode; ``offline`` rows
(``askrl.data.offline_turns``, ``agent_name: askrl_offline_turn``) are one turn sample each. ``detect_mode`` tells
them apart for a file of unknown origin: no ``agent_name`` column, or only the offline loop's name, means offline.
An online row marked ``extra_info.clear: true`` is a clear prompt (``askrl.data.learning_task``'s twins): nothing
hidden and an empty checklist, so the clarify loop grades its first turn as the final answer.

    check_rows("data/askmind/train.parquet", detect_mode("data/askmind/train.parquet"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from askrl.data.loading import MAX_REPORTED, DataValidationError, Issue
from askrl.errors import DataError
from askrl.rollout import OFFLINE_AGENT_NAME

ONLINE_EXTRA_FIELDS = ("task", "ori_question", "expected_answer", "hidden_info", "checklist")
OFFLINE_EXTRA_FIELDS = ("is_final_turn", "ori_question", "question", "context", "expected_answer")
TASKS = ("askmind", "overconfidence")


def _row_issues(file: str, row: int, obj: dict[str, Any], mode: str) -> list[Issue]:
    issues: list[Issue] = []
    prompt = obj.get("prompt")
    if not isinstance(prompt, list | tuple) or not prompt or not all(
        isinstance(m, dict) and isinstance(m.get("content"), str) and m.get("role") for m in prompt
    ):
        issues.append(Issue(file, row, "prompt", "must be a non-empty list of {role, content} messages"))
    extra = obj.get("extra_info")
    if not isinstance(extra, dict):
        return [*issues, Issue(file, row, "extra_info", "missing or not an object")]
    clear = mode == "online" and extra.get("clear") is True
    for key in ONLINE_EXTRA_FIELDS if mode == "online" else OFFLINE_EXTRA_FIELDS:
        value = extra.get(key)
        blank_ok = clear and key == "hidden_info"  # a clear prompt hides nothing
        if value is None or (isinstance(value, str) and not value.strip() and not blank_ok):
            issues.append(Issue(file, row, f"extra_info.{key}", "missing or blank"))
    if mode == "online":
        if extra.get("task") not in (None, *TASKS):
            issues.append(Issue(file, row, "extra_info.task", f"must be one of {TASKS}, got {extra.get('task')!r}"))
        checklist = extra.get("checklist")
        if clear and checklist is not None and len(checklist) != 0:
            issues.append(Issue(file, row, "extra_info.checklist", "must be empty on a clear row (extra_info.clear)"))
        elif not clear and checklist is not None and (
            len(checklist) == 0 or not all(isinstance(c, str) and c.strip() for c in checklist)
        ):
            issues.append(Issue(file, row, "extra_info.checklist", "must be a non-empty list of non-blank strings"))
        if not isinstance(obj.get("agent_name"), str):
            issues.append(Issue(file, row, "agent_name", "missing: the row must name its agent loop"))
    else:
        points = extra.get("required_points", extra.get("misleading_points"))
        if points is None:
            issues.append(Issue(file, row, "extra_info.required_points", "missing (or misleading_points)"))
    return issues


def detect_mode(path: str | Path) -> str:
    """``offline`` when the parquet file has no ``agent_name`` column or names only ``askrl_offline_turn``, else
    ``online``."""
    import pyarrow.parquet as pq

    if "agent_name" not in pq.read_schema(path).names:
        return "offline"
    names = set(pq.read_table(path, columns=["agent_name"]).column(0).to_pylist())
    return "offline" if names == {OFFLINE_AGENT_NAME} else "online"


def check_rows(path: str | Path, mode: str = "online") -> int:
    """Validate every row of a VERL parquet file for ``mode`` (online/offline); return the row count or raise."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as err:  # pyarrow raises several types for a non-parquet file
        raise DataError(f"{path}: not a readable parquet file ({type(err).__name__}: {err})") from err
    if not rows:
        raise DataValidationError([Issue(str(path), 1, None, "empty file: no rows")])
    issues = [i for n, obj in enumerate(rows, start=1) for i in _row_issues(str(path), n, obj, mode)]
    if issues:
        raise DataValidationError(issues[: MAX_REPORTED * 10])
    return len(rows)
