"""Offline turn samples (one assistant turn each, the original's ``extra_info`` layout) → ``JudgeRequest``.

Who calls it: ``reward.verl_fn`` (VERL's ``extra_info`` + ``solution_str``) and ``reward.score`` (CLI lines).
Pure validation; no I/O.

Contract (spec §4.1), fields read from ``fields`` (extra keys are ignored — VERL adds its own):
- common: ``ori_question`` (str), ``question`` (the current user message; for a first turn the
  ``degraded_question``/``overconfidence_question`` stands in), ``context`` (earlier conversation as text,
  ``role: content`` lines; "No previous conversation." or empty means none; unstructured text becomes one earlier
  user message) or ``history`` (list of ``{role, content}``, preferred when present), ``expected_answer``
  (falls back to ``ground_truth``; required on a final turn), ``is_final_turn`` (bool, default true as in the
  original), optional ``resolved`` (checklist indices earlier turns resolved), optional ``truncated`` (bool) or
  ``finish_reason`` (``"length"`` means truncated).
- askmind: ``degraded_info`` (str), ``required_points`` (list of str, a single str, or null → empty).
- overconfidence: ``overconfidence_info`` (str; a list → its first non-empty string, else its JSON),
  ``misleading_points`` (list or single str; ``required_points`` is accepted as an alias).
Values from parquet may arrive as numpy scalars/arrays; they are accepted through ``.item()``/``.tolist()``.

How it fails: ``DataError("field 'X': problem")`` for a missing or mistyped field; the CLI prefixes ``FILE:LINE: ``.

    sample = parse_turn_sample(extra_info, task="askmind", response=solution_str, ground_truth=gt)
    sample.request.checklist, sample.truncated
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from askrl.errors import DataError
from askrl.judge.types import JudgeRequest, TaskKind, Turn

NO_CONTEXT = "No previous conversation."
_ROLE_LINE = re.compile(r"^(user|assistant)\s*:[ \t]?", re.IGNORECASE)
_DATA_SOURCES: dict[str, TaskKind] = {"ask_mind_qa": "askmind", "overconfidence_qa": "overconfidence"}


@dataclass(frozen=True)
class TurnSample:
    """One validated offline turn."""

    request: JudgeRequest
    truncated: bool


def _plain(value: Any) -> Any:
    """numpy scalars/arrays (from parquet) → Python values; everything else unchanged."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def _str(fields: Mapping[str, Any], name: str, *, default: str | None = None) -> str:
    value = _plain(fields.get(name))
    if value is None:
        if default is None:
            raise DataError(f"field '{name}': missing")
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataError(f"field '{name}': expected a string, got {type(value).__name__}")
    return str(value)


def _bool(fields: Mapping[str, Any], name: str, default: bool) -> bool:
    value = _plain(fields.get(name))
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise DataError(f"field '{name}': expected true or false, got {value!r}")


def _points(fields: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = _plain(fields.get(name))
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if not isinstance(value, (list, tuple)):
        raise DataError(f"field '{name}': expected a list of strings, got {type(value).__name__}")
    bad = [i for i, p in enumerate(value) if not isinstance(p, str)]
    if bad:
        raise DataError(f"field '{name}': item {bad[0]} is {type(value[bad[0]]).__name__}, expected a string")
    return tuple(value)


def _overconfidence_info(fields: Mapping[str, Any]) -> str:
    value = _plain(fields.get("overconfidence_info"))
    if isinstance(value, (list, tuple)):
        first = next((v for v in value if isinstance(v, str) and v.strip()), None)
        return first if first is not None else json.dumps(value, ensure_ascii=False)
    return _str(fields, "overconfidence_info")


def _history_from_context(context: str) -> list[Turn]:
    text = context.strip()
    if not text or text == NO_CONTEXT:
        return []
    turns: list[list[str]] = []
    for line in text.splitlines():
        match = _ROLE_LINE.match(line)
        if match:
            turns.append([match.group(1).lower(), line[match.end() :]])
        elif turns:
            turns[-1][1] += "\n" + line
        else:
            return [Turn("user", text)]  # no role marker: one earlier user message
    return [Turn(role, content.strip()) for role, content in turns]  # type: ignore[arg-type]


def _history_list(value: Any) -> list[Turn]:
    if not isinstance(value, (list, tuple)):
        raise DataError(f"field 'history': expected a list of {{role, content}} objects, got {type(value).__name__}")
    turns = []
    for i, item in enumerate(value):
        if (
            not isinstance(item, Mapping)
            or item.get("role") not in ("user", "assistant")
            or not isinstance(item.get("content"), str)
        ):
            raise DataError(f'field \'history\': item {i} must be {{"role": "user"|"assistant", "content": str}}')
        turns.append(Turn(item["role"], item["content"]))
    return turns


def _resolved(fields: Mapping[str, Any], checklist_len: int) -> tuple[int, ...]:
    value = _plain(fields.get("resolved"))
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise DataError("field 'resolved': expected a list of checklist indices")
    bad = [i for i in value if not 0 <= i < checklist_len]
    if bad:
        raise DataError(f"field 'resolved': indices {bad} outside a checklist of {checklist_len} items")
    return tuple(sorted(set(value)))


def task_for(data_source: str, fields: Mapping[str, Any]) -> TaskKind:
    """The task of a VERL sample: from ``data_source`` when it names one, else from the fields present.

    Raises:
        DataError: neither the data source nor the fields identify a task.
    """
    if data_source in _DATA_SOURCES:
        return _DATA_SOURCES[data_source]
    if "overconfidence" in data_source or "misleading_points" in fields or "overconfidence_info" in fields:
        return "overconfidence"
    if "ask_mind" in data_source or "askmind" in data_source or "degraded_info" in fields:
        return "askmind"
    raise DataError(
        f"field 'data_source': {data_source!r} names no task and the sample has neither "
        f"degraded_info (askmind) nor overconfidence_info (overconfidence)"
    )


def parse_turn_sample(
    fields: Mapping[str, Any], *, task: TaskKind, response: Any, ground_truth: Any = None
) -> TurnSample:
    """Validate one offline turn sample into a judge request.

    Args:
        fields: the sample's ``extra_info`` (or a CLI line's fields).
        task: ``askmind`` or ``overconfidence``.
        response: the assistant's turn (VERL's ``solution_str``; the CLI's ``response``).
        ground_truth: fallback for ``expected_answer``.

    Raises:
        DataError: a field is missing or has the wrong type; the message names it.
    """
    if not isinstance(fields, Mapping):
        raise DataError(f"field 'extra_info': expected an object, got {type(fields).__name__}")
    if not isinstance(response, str):
        raise DataError(f"field 'response': expected a string, got {type(response).__name__}")
    is_final = _bool(fields, "is_final_turn", default=True)
    if task == "askmind":
        hidden = _str(fields, "degraded_info")
        checklist = _points(fields, "required_points")
        opening = "degraded_question"
    else:
        hidden = _overconfidence_info(fields)
        points_key = "misleading_points" if fields.get("misleading_points") is not None else "required_points"
        checklist = _points(fields, points_key)
        opening = "overconfidence_question"
    if fields.get("history") is not None:
        history = _history_list(_plain(fields["history"]))
    else:
        history = _history_from_context(_str(fields, "context", default=""))
    # A first turn may omit `question`: the opening (degraded / overconfident) question is the user message then.
    question = _str(fields, "question", default="" if history else _str(fields, opening, default=""))
    if not question.strip():
        raise DataError("field 'question': missing (the current user message)")
    gt = _plain(ground_truth)
    expected = _str(fields, "expected_answer", default=str(gt) if isinstance(gt, (str, int, float)) else "")
    if is_final and not expected.strip():
        raise DataError("field 'expected_answer': missing on a final turn (and no ground_truth)")
    truncated = _bool(fields, "truncated", default=False) or _plain(fields.get("finish_reason")) == "length"
    request = JudgeRequest(
        task=task,
        ori_question=_str(fields, "ori_question"),
        hidden_info=hidden,
        checklist=checklist,
        expected_answer=expected,
        history=(*history, Turn("user", question)),
        response=response,
        resolved=_resolved(fields, len(checklist)),
        is_final_turn=is_final,
    )
    return TurnSample(request=request, truncated=truncated)
